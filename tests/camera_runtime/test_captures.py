"""Captured pictures: addressed by id only, private files, and retention (expired time and
quota) so that captures never fill the disk."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from camera_runtime.captures import Captures
from camera_runtime.exceptions import NotFoundError

JPEG = b"\xff\xd8" + b"x" * 998  # 1,000 bytes


def test_pictures_over_the_quota_go_oldest_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    captures = Captures(tmp_path, expired_time_days=0, quota_mb=3500 / 1024 / 1024)
    saved = [captures.save("cam", JPEG) for _ in range(5)]
    kept = {p.name.split(".")[0] for p in tmp_path.glob("*.jpg")}
    assert kept == {c.id for c in saved[2:]} and captures.size == 3000
    assert captures.deleted == 2
    with pytest.raises(NotFoundError):
        captures.path(saved[0].id)
    assert captures.path(saved[4].id).read_bytes() == JPEG
    with caplog.at_level(logging.INFO):
        captures.save("cam", JPEG)
    assert "captures: 1 picture(s) deleted by retention" in caplog.text


def test_expired_pictures_go_also_from_an_earlier_run(tmp_path: Path) -> None:
    """An earlier run left pictures of 3 and 1 days ago: at the next start, with pictures
    kept 2 days, the older goes (its id says when it was taken); later the other one."""
    now = time.time()
    for days, suffix in ((3, "a" * 12), (1, "b" * 12)):
        taken = int((now - days * 86400) * 1000)
        (tmp_path / f"{taken:013x}-{suffix}.cam.jpg").write_bytes(JPEG)
    captures = Captures(tmp_path, expired_time_days=2, quota_mb=0)
    captures.load()
    remaining = [p.name for p in tmp_path.glob("*.jpg")]
    assert len(captures) == 1 and len(remaining) == 1 and "b" * 12 in remaining[0]
    assert captures.prune(now=now + 3600) == 0
    assert captures.prune(now=now + 86400 + 60) == 1 and len(captures) == 0


def test_no_quota_and_no_expiry_keep_everything(tmp_path: Path) -> None:
    captures = Captures(tmp_path, expired_time_days=0, quota_mb=0)
    for _ in range(20):
        captures.save("cam", JPEG)
    assert captures.prune(now=time.time() + 10 * 365 * 86400) == 0 and len(captures) == 20


def test_ids_only_never_paths(tmp_path: Path) -> None:
    captures = Captures(tmp_path)
    captures.save("cam", JPEG)
    for bad in ("../etc/passwd", "x", "", "0" * 13 + "-" + "0" * 12):
        with pytest.raises(NotFoundError):
            captures.path(bad)


def test_pictures_are_rows_of_the_index_and_files_left_without_one_are_adopted(
    tmp_path: Path,
) -> None:
    """Every picture is a row (channel, time, type, reason, size, file) of the SQLite index;
    at the next start a file without a row (a crash between the two, an older run) is adopted
    and a row whose file is gone forgotten; search by capture type or event type."""
    folder, index = tmp_path / "captures", tmp_path / "recordings.sqlite3"
    captures = Captures(folder, quota_mb=0, index=index)
    kept = captures.save("cam", JPEG, "timing")
    lost = captures.save("cam", JPEG, "motion")
    captures.path(lost.id).unlink()
    captures.close()
    with sqlite3.connect(index) as db:
        rows = db.execute("SELECT id, channel, type, reason, size FROM pictures ORDER BY time")
        assert rows.fetchall() == [
            (kept.id, "cam", "timing", "timing", 1000),
            (lost.id, "cam", "event", "motion", 1000),
        ]
    taken = int((kept.time + 1) * 1000)
    orphan = f"{taken:013x}-{'c' * 12}"
    (folder / f"{orphan}.cam.alarm_input.jpg").write_bytes(JPEG + JPEG)
    (folder / "notes.jpg").write_bytes(JPEG)  # not a capture: left alone

    again = Captures(folder, quota_mb=0, index=index)
    again.load()
    assert (again.adopted, again.forgotten) == (1, 1)
    assert [c.id for c in again.search()] == [kept.id, orphan]
    assert len(again) == 2 and again.size == 3000
    assert [c.id for c in again.search(reason="event")] == [orphan]
    assert [c.id for c in again.search(reason="alarm_input")] == [orphan]
    assert again.get(orphan).as_dict()["type"] == "event"
    with pytest.raises(NotFoundError):
        again.path(lost.id)
    assert (folder / "notes.jpg").exists()
    # Retention by query on the index: the quota now keeps the newest only.
    again.quota = 2500
    assert again.prune() == 1 and [c.id for c in again.search()] == [orphan]
    assert not (folder / f"{kept.id}.cam.timing.jpg").exists()
