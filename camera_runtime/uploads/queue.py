"""The upload queue: what waits for a server, kept on disk so a restart or an outage loses
nothing (the manual's "automatic network replenishment").

One SQLite file in the data folder (WAL, synchronous FULL: an item acknowledged is on the
disk). It holds the pictures themselves, not paths: a picture waiting for its server outlives
the capture folder's retention. A clip (megabytes) is a file of its own in ``FILES_FOLDER``
beside it, which its row names and owns: never read whole into memory (the backend sends it as
it reads), deleted with its row when uploaded or dropped. The file is synced before its row is
written, so a row always names a whole file; a file without a row (a crash between the two)
is deleted at open. Bounded per target (items and megabytes, files counted by their size):
when full, the oldest waiting item goes, counted and logged, so a server gone for weeks cannot
fill the disk. Blocking: the uploader calls it from one worker thread.

A write or read the database refuses (a full disk, a read-only or damaged file) raises
``StorageError`` in words, never SQLite's own exception: the uploader reports it as the
``storage_error`` exception. A refused write changes nothing (its transaction is rolled back),
so what was queued before stays queued.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import StorageError

_LOGGER = logging.getLogger(__name__)

QUEUE_FILE = "uploads.sqlite3"
#: The folder beside the queue's file that holds the queued files (clips), one per row.
FILES_FOLDER = "upload-files"


@contextmanager
def _refused(what: str) -> Iterator[None]:
    """SQLite's failures as ``StorageError`` (``what`` the queue could not do)."""
    try:
        yield
    except sqlite3.Error as err:
        raise StorageError(f"the upload queue cannot {what}: {err}") from err


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    target: str
    name: str
    content_type: str
    data: bytes
    created: float
    attempts: int
    #: The queued file holding the item (a clip) instead of ``data``, else ``None``.
    path: Path | None = None


class UploadQueue:
    """Waiting uploads per target, oldest first."""

    def __init__(self, path: Path, *, max_items: int, max_bytes: int) -> None:
        self.path = Path(path)
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.files = self.path.parent / FILES_FOLDER
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._tidied = False

    def open(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " target TEXT NOT NULL, name TEXT NOT NULL, content_type TEXT NOT NULL,"
                " data BLOB NOT NULL, created REAL NOT NULL,"
                " attempts INTEGER NOT NULL DEFAULT 0)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS items_target ON items (target, id)")
            columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
            if "file" not in columns:  # a queue of a version that queued pictures only
                db.execute("ALTER TABLE items ADD COLUMN file TEXT")
                db.execute("ALTER TABLE items ADD COLUMN size INTEGER")
            self._forget_orphans(db)
        except sqlite3.Error as err:
            if db is not None:
                db.close()
            raise StorageError(f"the upload queue cannot open its file: {err}") from err
        self._db = db

    def _forget_orphans(self, db: sqlite3.Connection) -> None:
        """Delete the queued files no row names (a crash between a file and its row, or
        between a row's deletion and its file's); rows whose file is gone go too. Files being
        made (``.``-names) are deleted only at the first open: later ones (after a failure)
        may run while a clip is being made."""
        named = {row[0] for row in db.execute("SELECT file FROM items WHERE file IS NOT NULL")}
        if self.files.is_dir():
            for path in self.files.iterdir():
                if path.name not in named and (not self._tidied or path.name[0] != "."):
                    path.unlink(missing_ok=True)
        self._tidied = True
        for name in named:
            if not (self.files / name).is_file():
                _LOGGER.warning("upload queue: the queued file %s is gone; its item too", name)
                db.execute("DELETE FROM items WHERE file = ?", (name,))

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()

    def _conn(self) -> sqlite3.Connection:
        """The connection; opened now when an earlier open failed (``StorageError`` while
        the file still cannot be opened)."""
        if self._db is None:
            self.open()
        assert self._db is not None
        return self._db

    def put(self, target: str, name: str, content_type: str, data: bytes) -> list[str]:
        """Queue one item; returns the content types of the older items of ``target`` that
        had to go for it."""
        return self._insert("a picture", (target, name, content_type, data, None, len(data)))

    def put_file(self, target: str, name: str, content_type: str, path: Path) -> list[str]:
        """Queue the file at ``path`` (synced, in ``files``: the queue owns it from now on,
        and deletes it if it cannot be queued); returns what ``put`` does."""
        try:
            size = path.stat().st_size
            with path.open("rb") as f:
                os.fsync(f.fileno())
            return self._insert("a file", (target, name, content_type, b"", path.name, size))
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def _insert(self, what: str, row: tuple[str, str, str, bytes, str | None, int]) -> list[str]:
        """Insert ``row`` (target, name, content type, data, file, size) and keep the bound."""
        target, name, content_type, data, file, size = row
        with self._lock, _refused(f"queue {what}"):
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO items (target, name, content_type, data, created, file, size)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (target, name, content_type, data, time.time(), file, size),
                )
                dropped = self._bound(db, target)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        for _, dropped_file in dropped:
            if dropped_file is not None:
                (self.files / dropped_file).unlink(missing_ok=True)
        if dropped:
            _LOGGER.warning(
                "upload queue of %s is full: dropped the %d oldest waiting item(s)",
                target,
                len(dropped),
            )
        return [content_type for content_type, _ in dropped]

    def _bound(self, db: sqlite3.Connection, target: str) -> list[tuple[str, str | None]]:
        """Drop ``target``'s oldest items past the bounds; their (content type, file)."""
        dropped: list[tuple[str, str | None]] = []
        while True:
            count, size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(COALESCE(size, LENGTH(data))), 0) FROM items"
                " WHERE target = ?",
                (target,),
            ).fetchone()
            if count <= 1 or (count <= self.max_items and size <= self.max_bytes):
                return dropped
            oldest, content_type, file = db.execute(
                "SELECT id, content_type, file FROM items WHERE target = ? ORDER BY id LIMIT 1",
                (target,),
            ).fetchone()
            db.execute("DELETE FROM items WHERE id = ?", (oldest,))
            dropped.append((content_type, file))

    def first(self, target: str) -> Item | None:
        """The oldest item waiting for ``target``."""
        with self._lock, _refused("read"):
            row = (
                self._conn()
                .execute(
                    "SELECT id, target, name, content_type, data, created, attempts, file"
                    " FROM items WHERE target = ? ORDER BY id LIMIT 1",
                    (target,),
                )
                .fetchone()
            )
        if row is None:
            return None
        item_id, target_id, name, content_type, data, created, attempts, file = row
        path = self.files / file if file is not None else None
        return Item(item_id, target_id, name, content_type, data, created, attempts, path)

    def done(self, item: Item) -> None:
        """Forget an uploaded item (and delete its file)."""
        with self._lock, _refused("forget an uploaded item"):
            self._conn().execute("DELETE FROM items WHERE id = ?", (item.id,))
        if item.path is not None:
            item.path.unlink(missing_ok=True)

    def failed(self, item_id: int) -> None:
        with self._lock, _refused("count a failed attempt"):
            self._conn().execute(
                "UPDATE items SET attempts = attempts + 1 WHERE id = ?", (item_id,)
            )

    def pending_of(self, target: str, content_type: str) -> int:
        """How many items of ``content_type`` wait for ``target``."""
        with self._lock, _refused("read"):
            (count,) = (
                self._conn()
                .execute(
                    "SELECT COUNT(*) FROM items WHERE target = ? AND content_type = ?",
                    (target, content_type),
                )
                .fetchone()
            )
        return int(count)

    def pending(self, target: str) -> int:
        with self._lock, _refused("read"):
            (count,) = (
                self._conn()
                .execute("SELECT COUNT(*) FROM items WHERE target = ?", (target,))
                .fetchone()
            )
        return int(count)


__all__ = ["FILES_FOLDER", "QUEUE_FILE", "Item", "UploadQueue"]
