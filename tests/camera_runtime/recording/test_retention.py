"""Retention on real files: expired segments go, the oldest go while over the quota, and a
segment an open clip overlaps stays; every deletion is counted."""

from __future__ import annotations

from pathlib import Path

from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.retention import prune

DAY = 86_400.0


def segment(root: Path, index: RecordingIndex, channel: str, start: float, size: int) -> Path:
    name = f"{channel}/{int(start)}.ts"
    (root / channel).mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(b"\x47" * size)
    index.add_segment(channel, "main", start, start + 60, name, size, 1)
    return root / name


def test_expiration_per_channel_and_open_clips(tmp_path: Path) -> None:
    root, index = tmp_path, RecordingIndex(tmp_path / "index.db")
    now = 100 * DAY
    old_a = segment(root, index, "a", now - 10 * DAY, 100)
    old_b = segment(root, index, "b", now - 10 * DAY, 100)
    held = segment(root, index, "a", now - 8 * DAY, 100)
    index.open_clip("a", now - 8 * DAY + 30, "manual")  # still recording: keeps what it spans
    fresh = segment(root, index, "a", now - 1 * DAY, 100)

    report = prune(root, index, {"a": 7, "b": 0}, now)

    assert (report.expired, report.overwritten, report.kept_for_clips) == (1, 0, 1)
    assert not old_a.exists() and old_b.exists() and held.exists() and fresh.exists()
    assert {s.path for s in index.segments()} == {
        p.relative_to(root).as_posix() for p in (old_b, held, fresh)
    }


def test_overwrite_oldest_over_the_quota(tmp_path: Path) -> None:
    root, index = tmp_path, RecordingIndex(tmp_path / "index.db")
    files = [segment(root, index, "a", 1000.0 + i * 60, 100) for i in range(5)]

    report = prune(root, index, {}, 10_000.0, quota_bytes=250)

    assert report.overwritten == 3
    assert [f.exists() for f in files] == [False, False, False, True, True]
    assert len(index.segments()) == 2
    assert prune(root, index, {}, 10_000.0, quota_bytes=250).overwritten == 0


def test_overwrite_goes_oldest_first_removing_the_clips_it_deletes(tmp_path: Path) -> None:
    root, index = tmp_path, RecordingIndex(tmp_path / "index.db")
    files = [segment(root, index, "a", 1000.0 + i * 60, 100) for i in range(6)]
    event = index.open_clip("a", 1000.0 + 70, "motion")  # spans segments 1 and 2
    index.close_clip(event, 1000.0 + 130)
    recording = index.open_clip("a", 1000.0 + 190, "manual")  # still open: from segment 3

    report = prune(root, index, {}, 10_000.0, quota_bytes=450)
    assert (report.overwritten, report.clips_removed) == (2, 1)  # 0, then 1 with its clip
    assert [c.id for c in index.clips()] == [recording]
    assert [f.exists() for f in files] == [False, False, True, True, True, True]

    report = prune(root, index, {}, 10_000.0, quota_bytes=100)
    # 2 goes (no clip now); 3 to 5 are held by the recording clip, whatever the quota.
    assert (report.overwritten, report.kept_for_clips) == (1, 3)
    assert [f.exists() for f in files] == [False, False, False, True, True, True]


def test_expired_clips_go_with_their_segments_and_overwrite_off_deletes_nothing(
    tmp_path: Path,
) -> None:
    root, index = tmp_path, RecordingIndex(tmp_path / "index.db")
    now = 100 * DAY
    old = segment(root, index, "a", now - 10 * DAY, 100)
    clip = index.open_clip("a", now - 10 * DAY, "motion")
    index.close_clip(clip, now - 10 * DAY + 30)
    recent = segment(root, index, "a", now - 1 * DAY, 100)
    recent_clip = index.open_clip("a", now - 1 * DAY, "motion")
    index.close_clip(recent_clip, now - 1 * DAY + 30)

    kept = prune(root, index, {"a": 0}, now, quota_bytes=50, overwrite=False)
    assert (kept.expired, kept.overwritten, kept.clips_removed) == (0, 0, 0)
    assert old.exists() and recent.exists()

    report = prune(root, index, {"a": 7}, now)
    assert (report.expired, report.clips_removed, report.kept_for_clips) == (1, 1, 0)
    assert not old.exists() and recent.exists()
    assert [c.id for c in index.clips()] == [recent_clip]
