"""The recording index: SQLite (WAL, ``synchronous=FULL``) of segment files and clips.

A segment row is written only after its file was renamed into place and synced, so a row
always names a complete file; a file without a row (a crash between the two) or a row
without a file is reconciled at start-up (``recovery.py``). Clips are time ranges on a
channel (an event's recording, a record-clip command, a manual recording): the segments they
overlap are what a user gets back, and retention never deletes a segment an open clip
(``end`` still ``NULL``) overlaps. A clip is ``handed`` once its finished recording was
handed on (queued for upload): one a crash kept from that is handed on at the next start. One connection shared by the writer threads and the API's
executor, behind a lock: writes are a few rows a minute per channel.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data_folder import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    stream TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    keyframes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_channel_start ON segments (channel, start);
CREATE TABLE IF NOT EXISTS clips (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS clips_channel_start ON clips (channel, start);
"""


@dataclass(frozen=True, slots=True)
class Segment:
    """One closed segment file; ``path`` is relative to the recordings folder."""

    id: int
    channel: str
    stream: str
    start: float
    end: float
    path: str
    size: int
    keyframes: int

    def as_dict(self) -> dict[str, Any]:
        """What the API shows: no path (files are addressed by id)."""
        return {
            "id": self.id,
            "channel": self.channel,
            "stream": self.stream,
            "start": self.start,
            "end": self.end,
            "size": self.size,
            "keyframes": self.keyframes,
        }


@dataclass(frozen=True, slots=True)
class Clip:
    """A recorded time range of a channel; ``end`` is ``None`` while it is being recorded."""

    id: int
    channel: str
    start: float
    end: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "start": self.start,
            "end": self.end,
            "reason": self.reason,
        }


_SEGMENT_COLUMNS = "id, channel, stream, start, end, path, size, keyframes"


class RecordingIndex:
    """Blocking methods; call them off the event loop."""

    def __init__(self, path: Path) -> None:
        private_file(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(clips)")}
            if "handed" not in columns:  # an index older than clip upload: its clips count
                self._db.execute(  # as handed on (none is uploaded afterwards)
                    "ALTER TABLE clips ADD COLUMN handed INTEGER NOT NULL DEFAULT 1"
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add_segment(
        self,
        channel: str,
        stream: str,
        start: float,
        end: float,
        path: str,
        size: int,
        keyframes: int,
    ) -> Segment:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO segments (channel, stream, start, end, path, size, keyframes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (channel, stream, start, end, path, size, keyframes),
            )
        assert cursor.lastrowid is not None
        return Segment(cursor.lastrowid, channel, stream, start, end, path, size, keyframes)

    def segments(
        self, channel: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Segment]:
        """Segments overlapping ``[start, end]`` (either open), oldest first."""
        where, args = _range(channel, start, end)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_SEGMENT_COLUMNS} FROM segments{where} ORDER BY start, id", args
            ).fetchall()
        return [Segment(*row) for row in rows]

    def segment(self, segment_id: int) -> Segment | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_SEGMENT_COLUMNS} FROM segments WHERE id = ?", (segment_id,)
            ).fetchone()
        return Segment(*row) if row else None

    def delete_segment(self, segment_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM segments WHERE id = ?", (segment_id,))

    def paths(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT path FROM segments")}

    def open_clip(self, channel: str, start: float, reason: str) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO clips (channel, start, reason, handed) VALUES (?, ?, ?, 0)",
                (channel, start, reason),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def close_clip(self, clip_id: int, end: float) -> None:
        with self._lock:
            self._db.execute("UPDATE clips SET end = ? WHERE id = ?", (end, clip_id))

    def clip(self, clip_id: int) -> Clip | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, channel, start, end, reason FROM clips WHERE id = ?", (clip_id,)
            ).fetchone()
        return Clip(*row) if row else None

    def unhanded_clips(self) -> list[Clip]:
        """Closed clips not handed on yet (to the uploads): a stop or crash came between
        their end and their hand-over."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, channel, start, end, reason FROM clips"
                " WHERE end IS NOT NULL AND handed = 0 ORDER BY id"
            ).fetchall()
        return [Clip(*row) for row in rows]

    def hand_clip(self, clip_id: int) -> None:
        """Clip ``clip_id`` was handed on: a restart does not hand it on again."""
        with self._lock:
            self._db.execute("UPDATE clips SET handed = 1 WHERE id = ?", (clip_id,))

    def delete_clip(self, clip_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database and truncate it: the log only shrinks
        so, and on a nearly full disk it would otherwise keep the room deletions made."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def video_bytes(self) -> int:
        """Bytes of every indexed segment (what the video quota counts)."""
        with self._lock:
            row = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM segments").fetchone()
        return int(row[0])

    def clips(
        self, channel: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Clip]:
        where, args = _range(channel, start, end)
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, channel, start, end, reason FROM clips{where} ORDER BY start, id",
                args,
            ).fetchall()
        return [Clip(*row) for row in rows]

    def open_clips(self) -> list[Clip]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, channel, start, end, reason FROM clips WHERE end IS NULL"
            ).fetchall()
        return [Clip(*row) for row in rows]


def _range(channel: str | None, start: float | None, end: float | None) -> tuple[str, list[Any]]:
    """A WHERE clause for rows overlapping ``[start, end]`` (an open row's end is infinite)."""
    terms: list[str] = []
    args: list[Any] = []
    if channel is not None:
        terms.append("channel = ?")
        args.append(channel)
    if start is not None:
        terms.append("(end IS NULL OR end >= ?)")
        args.append(start)
    if end is not None:
        terms.append("start <= ?")
        args.append(end)
    return (" WHERE " + " AND ".join(terms) if terms else ""), args
