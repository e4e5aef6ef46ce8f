"""Persistent event history in SQLite: survives restarts, queryable by channel, type and time.

All database work runs on one dedicated thread, so the event loop never waits on disk and
SQLite sees a single writer. Writes are queued in bus order, so a query issued after an
update was recorded sees it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .data_folder import private_file, private_folder
from .exceptions import StorageError
from .model import Event, EventUpdate

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_start ON events (start);
CREATE INDEX IF NOT EXISTS events_channel_start ON events (channel, start);
"""

MAX_LIMIT = 1000


class EventHistory:
    """The event table. ``record`` is fire-and-forget from the loop; queries are awaited."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-history")
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> None:
        private_folder(self.path.parent)
        private_file(self.path)
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        # Events still active when the runtime last stopped never got their end: close them at
        # their start rather than leaving them active forever.
        conn.execute("UPDATE events SET end = start WHERE end IS NULL")
        conn.commit()
        self._conn = conn

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def open(self) -> None:
        try:
            await self._run(self._open)
        except sqlite3.Error as err:
            raise StorageError(f"cannot open the event history {self.path}: {err}") from err

    async def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._run(close)
        self._executor.shutdown(wait=True)

    def _write(self, event: Event) -> None:
        assert self._conn is not None
        self._conn.execute(
            "INSERT INTO events (id, channel, type, start, end, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET end = excluded.end, data = excluded.data",
            (event.id, event.channel, event.type, event.start, event.end, json.dumps(event.data)),
        )
        self._conn.commit()

    def record(self, update: EventUpdate) -> None:
        """Queue the update for writing (bus subscriber; returns at once)."""
        self._executor.submit(self._write, update.event)

    async def flush(self) -> None:
        """Wait until every queued write is on disk."""
        await self._run(lambda: None)

    async def query(
        self,
        *,
        channel: str | None = None,
        type: str | None = None,
        since: float | None = None,
        until: float | None = None,
        active: bool | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """Events newest first; ``since``/``until`` bound the start time (seconds since epoch);
        ``active`` keeps only events still going (True) or only ended ones (False)."""
        clauses: list[str] = []
        params: list[Any] = []
        if active is not None:
            clauses.append("end IS NULL" if active else "end IS NOT NULL")
        for column, op, value in (
            ("channel", "=", channel),
            ("type", "=", type),
            ("start", ">=", since),
            ("start", "<", until),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT id, channel, type, start, end, data FROM events {where} ORDER BY start DESC, id DESC LIMIT ?"
        params.append(max(1, min(limit, MAX_LIMIT)))

        def run() -> list[Event]:
            assert self._conn is not None
            rows = self._conn.execute(sql, params).fetchall()
            return [
                Event(id=r[0], channel=r[1], type=r[2], start=r[3], end=r[4], data=json.loads(r[5]))
                for r in rows
            ]

        return await self._run(run)

    async def get(self, event_id: str) -> Event | None:
        def run() -> Event | None:
            assert self._conn is not None
            r = self._conn.execute(
                "SELECT id, channel, type, start, end, data FROM events WHERE id = ?", (event_id,)
            ).fetchone()
            if r is None:
                return None
            return Event(
                id=r[0], channel=r[1], type=r[2], start=r[3], end=r[4], data=json.loads(r[5])
            )

        return await self._run(run)
