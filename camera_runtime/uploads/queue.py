"""The upload queue: what waits for a server, kept on disk so a restart or an outage loses
nothing (the manual's "automatic network replenishment").

One SQLite file in the data folder (WAL, synchronous FULL: an item acknowledged is on the
disk). It holds the pictures themselves, not paths: a picture waiting for its server outlives
the capture folder's retention. Bounded per target (items and megabytes): when full, the
oldest waiting item goes, counted and logged, so a server gone for weeks cannot fill the disk.
Blocking: the uploader calls it from one worker thread.

A write or read the database refuses (a full disk, a read-only or damaged file) raises
``StorageError`` in words, never SQLite's own exception: the uploader reports it as the
``storage_error`` exception. A refused write changes nothing (its transaction is rolled back),
so what was queued before stays queued.
"""

from __future__ import annotations

import logging
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


class UploadQueue:
    """Waiting uploads per target, oldest first."""

    def __init__(self, path: Path, *, max_items: int, max_bytes: int) -> None:
        self.path = Path(path)
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

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
        except sqlite3.Error as err:
            if db is not None:
                db.close()
            raise StorageError(f"the upload queue cannot open its file: {err}") from err
        self._db = db

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

    def put(self, target: str, name: str, content_type: str, data: bytes) -> int:
        """Queue one item; returns how many older items of ``target`` had to go for it."""
        with self._lock, _refused("queue a picture"):
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO items (target, name, content_type, data, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (target, name, content_type, data, time.time()),
                )
                dropped = self._bound(db, target)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        if dropped:
            _LOGGER.warning(
                "upload queue of %s is full: dropped the %d oldest waiting item(s)", target, dropped
            )
        return dropped

    def _bound(self, db: sqlite3.Connection, target: str) -> int:
        dropped = 0
        while True:
            count, size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM items WHERE target = ?",
                (target,),
            ).fetchone()
            if count <= 1 or (count <= self.max_items and size <= self.max_bytes):
                return dropped
            db.execute(
                "DELETE FROM items WHERE id = (SELECT MIN(id) FROM items WHERE target = ?)",
                (target,),
            )
            dropped += 1

    def first(self, target: str) -> Item | None:
        """The oldest item waiting for ``target``."""
        with self._lock, _refused("read"):
            row = (
                self._conn()
                .execute(
                    "SELECT id, target, name, content_type, data, created, attempts FROM items"
                    " WHERE target = ? ORDER BY id LIMIT 1",
                    (target,),
                )
                .fetchone()
            )
        return Item(*row) if row is not None else None

    def done(self, item_id: int) -> None:
        with self._lock, _refused("forget an uploaded item"):
            self._conn().execute("DELETE FROM items WHERE id = ?", (item_id,))

    def failed(self, item_id: int) -> None:
        with self._lock, _refused("count a failed attempt"):
            self._conn().execute(
                "UPDATE items SET attempts = attempts + 1 WHERE id = ?", (item_id,)
            )

    def pending(self, target: str) -> int:
        with self._lock, _refused("read"):
            (count,) = (
                self._conn()
                .execute("SELECT COUNT(*) FROM items WHERE target = ?", (target,))
                .fetchone()
            )
        return int(count)


__all__ = ["QUEUE_FILE", "Item", "UploadQueue"]
