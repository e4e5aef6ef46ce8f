"""Clips handed on to the uploads: a new clip is not handed until told; an index older than
clip upload counts its clips as handed, so switching clips on uploads no history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from camera_runtime.recording.index import RecordingIndex


def test_closed_clips_wait_to_be_handed_on(tmp_path: Path) -> None:
    index = RecordingIndex(tmp_path / "recordings.sqlite3")
    try:
        open_one = index.open_clip("cam", 10.0, "motion")
        closed = index.open_clip("cam", 20.0, "clip")
        index.close_clip(closed, 25.0)
        assert [c.id for c in index.unhanded_clips()] == [closed]  # not the open one
        index.hand_clip(closed)
        index.close_clip(open_one, 30.0)
        assert [c.id for c in index.unhanded_clips()] == [open_one]
    finally:
        index.close()


def test_an_older_index_counts_its_clips_as_handed(tmp_path: Path) -> None:
    path = tmp_path / "recordings.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE clips (id INTEGER PRIMARY KEY, channel TEXT NOT NULL,"
            " start REAL NOT NULL, end REAL, reason TEXT NOT NULL)"
        )
        db.execute("INSERT INTO clips (channel, start, end, reason) VALUES ('cam', 1, 2, 'clip')")
    index = RecordingIndex(path)
    try:
        assert index.unhanded_clips() == []
        new = index.open_clip("cam", 3.0, "manual")
        index.close_clip(new, 4.0)
        assert [c.id for c in index.unhanded_clips()] == [new]
    finally:
        index.close()
