"""The upload queue's files (clips): a queue file of the version that queued pictures only
opens with its pictures kept; a file no row names (a crash between the two) is deleted at
open, a row whose file is gone goes too; the bound counts a file by its size."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from camera_runtime.uploads.queue import FILES_FOLDER, QUEUE_FILE, UploadQueue

OLD_SCHEMA = (
    "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL,"
    " name TEXT NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL, created REAL NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0)"
)


def queued_file(queue: UploadQueue, name: str, size: int) -> Path:
    queue.files.mkdir(exist_ok=True)
    path = queue.files / name
    path.write_bytes(os.urandom(size))
    return path


def test_an_old_queue_keeps_its_pictures_and_takes_files(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / QUEUE_FILE) as db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO items (target, name, content_type, data, created)"
            " VALUES ('ftp1', 'a.jpg', 'image/jpeg', x'ffd8', 1.0)"
        )
    queue = UploadQueue(tmp_path / QUEUE_FILE, max_items=10, max_bytes=10**6)
    queue.open()
    try:
        picture = queue.first("ftp1")
        assert picture is not None and (picture.data, picture.path) == (b"\xff\xd8", None)
        clip = queued_file(queue, "c.mp4", 1000)
        assert queue.put_file("ftp1", "c.mp4", "video/mp4", clip) == []
        queue.done(picture)
        item = queue.first("ftp1")
        assert item is not None and item.path == clip and item.data == b""
        queue.done(item)
        assert not clip.exists() and queue.pending("ftp1") == 0
    finally:
        queue.close()


def test_orphans_go_at_open_and_the_bound_counts_file_sizes(tmp_path: Path) -> None:
    queue = UploadQueue(tmp_path / QUEUE_FILE, max_items=10, max_bytes=250_000)
    queue.open()
    first = queued_file(queue, "1.mp4", 200_000)
    queue.put_file("ftp1", "1.mp4", "video/mp4", first)
    gone = queued_file(queue, "2.mp4", 10)
    queue.put_file("ftp1", "2.mp4", "video/mp4", gone)
    queue.close()
    orphan = queued_file(queue, "3.mp4", 10)  # a crash before its row
    gone.unlink()  # a row whose file went
    queue.open()
    try:
        assert not orphan.exists() and queue.pending("ftp1") == 1
        # 200 kB waiting, the bound 250 kB: 100 kB more drops the oldest file, deleted.
        later = queued_file(queue, "4.mp4", 100_000)
        assert queue.put_file("ftp1", "4.mp4", "video/mp4", later) == ["video/mp4"]
        assert not first.exists() and sorted(p.name for p in queue.files.iterdir()) == ["4.mp4"]
        assert queue.files == tmp_path / FILES_FOLDER
    finally:
        queue.close()
