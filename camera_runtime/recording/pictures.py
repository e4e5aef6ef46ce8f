"""The pictures' table of the recording index (SQLite, WAL, ``synchronous=FULL``): one row
per captured picture with its channel, time, type, reason, size and file name, so pictures are
searched, counted and expired like segments, by query rather than by listing a folder.

A row is written only after its file is in place; a file without a row (a crash between the
two, or a picture of a runtime that kept no index) is adopted at start, a row whose file is
gone is forgotten (``Captures.load``). The connection opens on first use, behind a lock:
blocking methods, called off the event loop.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data_folder import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pictures (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    time REAL NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    file TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS pictures_channel_time ON pictures (channel, time);
CREATE INDEX IF NOT EXISTS pictures_time ON pictures (time);
"""

#: The manual's capture types: a picture taken by hand, by timing, or on an event (whose type
#: is the picture's ``reason``: motion, alarm_input...).
MANUAL, TIMING, EVENT = "manual", "timing", "event"


def picture_type(reason: str) -> str:
    """The capture type of a picture taken for ``reason``."""
    return reason if reason in (MANUAL, TIMING) else EVENT


@dataclass(frozen=True, slots=True)
class PictureRow:
    id: str
    channel: str
    time: float
    type: str
    reason: str
    size: int
    file: str


_COLUMNS = "id, channel, time, type, reason, size, file"


class PictureIndex:
    """The ``pictures`` table of the SQLite file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            private_file(self.path)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()

    def add(self, row: PictureRow) -> None:
        with self._lock:
            self._conn().execute(
                f"INSERT OR REPLACE INTO pictures ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.channel, row.time, row.type, row.reason, row.size, row.file),
            )

    def delete(self, ids: list[str]) -> None:
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("DELETE FROM pictures WHERE id = ?", [(i,) for i in ids])
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def get(self, picture_id: str) -> PictureRow | None:
        with self._lock:
            row = (
                self._conn()
                .execute(f"SELECT {_COLUMNS} FROM pictures WHERE id = ?", (picture_id,))
                .fetchone()
            )
        return PictureRow(*row) if row else None

    def search(
        self,
        channel: str | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[PictureRow]:
        """Oldest first: of ``channel``, taken in ``[start, end]``, of ``kind`` (a capture
        type, ``manual``/``timing``/``event``, or the event type it was taken for); each
        ``None``: any."""
        terms: list[str] = []
        args: list[Any] = []
        for term, value in (("channel = ?", channel), ("time >= ?", start), ("time <= ?", end)):
            if value is not None:
                terms.append(term)
                args.append(value)
        if kind is not None:
            terms.append("(type = ? OR reason = ?)")
            args += [kind, kind]
        where = f" WHERE {' AND '.join(terms)}" if terms else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        with self._lock:
            rows = (
                self._conn()
                .execute(f"SELECT {_COLUMNS} FROM pictures{where} ORDER BY time, id{tail}", args)
                .fetchall()
            )
        return [PictureRow(*row) for row in rows]

    def totals(self) -> tuple[int, int]:
        """How many pictures, and their bytes."""
        with self._lock:
            count, size = (
                self._conn()
                .execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM pictures")
                .fetchone()
            )
        return int(count), int(size)

    def files(self) -> dict[str, str]:
        """File name -> id of every row."""
        with self._lock:
            rows = self._conn().execute("SELECT file, id FROM pictures").fetchall()
        return {file: picture_id for file, picture_id in rows}


__all__ = ["EVENT", "MANUAL", "TIMING", "PictureIndex", "PictureRow", "picture_type"]
