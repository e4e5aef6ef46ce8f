"""Persistent event history in SQLite: survives restarts, queryable by channel, type and time.

All database work runs on one dedicated thread, so the event loop never waits on disk and
SQLite sees a single writer. Updates wait in memory, in order, until they are written (in
batches); when a write fails (a full disk, an I/O error) they stay there and the write is
retried with a growing delay, so the history catches up once the disk works again. The
failure is reported to the runtime's storage watch (``report``): logged once per episode and
raised as the ``storage_error`` exception. Waiting updates are bounded (``max_pending``
events): past it the oldest are dropped and counted. Queries see waiting updates too, so the
API never shows an event stuck in a state it left.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from .data_folder import private_file, private_folder
from .exceptions import StorageError
from .model import Event, EventPhase, EventUpdate

T = TypeVar("T")

_LOGGER = logging.getLogger(__name__)

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

#: Events a query returns: by default, and at most.
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
#: Events kept in memory while the history cannot be written; the oldest go beyond it.
MAX_PENDING = 10_000
#: Delay before retrying a failed write: doubling from the first to the last.
RETRY_FIRST, RETRY_LAST = 0.5, 30.0

#: ``report(error, pending, dropped)``: ``error`` is ``None`` once the history writes again.
Report = Callable[[str | None, int, int], None]


class EventHistory:
    """The event table. ``record`` is fire-and-forget from the loop; queries are awaited."""

    def __init__(
        self, path: Path, report: Report | None = None, max_pending: int = MAX_PENDING
    ) -> None:
        self.path = path
        self._report = report
        self._max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-history")
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # guards the fields below (loop and writer thread)
        self._pending: OrderedDict[str, Event] = OrderedDict()
        self._scheduled = False
        self._failing = False
        self._retry_delay = RETRY_FIRST
        self._retry: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        #: Events dropped unwritten because too many waited (since the start).
        self.dropped = 0
        #: Events closed at the start that were still active when the runtime last stopped
        #: (killed, or the power went): their ``end`` was never sent.
        self.closed_at_start: list[Event] = []

    # ------------------------------------------------------------------ lifecycle

    def _open(self) -> None:
        private_folder(self.path.parent)
        private_file(self.path)
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        # Events still active when the runtime last stopped never got their end: close them at
        # their start rather than leaving them active forever, and say which they were.
        stale = conn.execute(
            "SELECT id, channel, type, start, end, data FROM events WHERE end IS NULL"
        ).fetchall()
        conn.execute("UPDATE events SET end = start WHERE end IS NULL")
        conn.commit()
        self.closed_at_start = [replace(_event(row), end=row[3]) for row in stale]
        self._conn = conn

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            await self._run(self._open)
        except sqlite3.Error as err:
            raise StorageError(f"cannot open the event history {self.path}: {err}") from err

    async def close(self) -> None:
        """Write what waits (one last try), then close."""
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

        def close() -> None:
            if self._conn is not None:
                self._write_pending()
                self._conn.close()
                self._conn = None
            with self._lock:
                left = len(self._pending)
            if left:
                _LOGGER.error("event history closed with %d event(s) unwritten", left)

        await self._run(close)
        self._executor.shutdown(wait=True)

    def end_interrupted(self, publish: Callable[[EventUpdate], None]) -> None:
        """Publish the ``end`` of the events closed at the open (``interrupted`` in their
        data), once."""
        for event in self.closed_at_start:
            _LOGGER.info(
                "%s: %s event %s ended by the restart", event.channel, event.type, event.id
            )
            event.data = {**event.data, "interrupted": True}
            publish(EventUpdate(EventPhase.END, event))
        self.closed_at_start = []

    # ------------------------------------------------------------------ writing

    def record(self, update: EventUpdate) -> None:
        """Queue the update for writing (bus subscriber; returns at once, on the loop)."""
        event = update.event
        with self._lock:
            self._pending[event.id] = event
            self._pending.move_to_end(event.id)
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)
                self.dropped += 1
            schedule = not self._scheduled and not self._failing
            self._scheduled = self._scheduled or schedule
        if schedule:
            self._executor.submit(self._write_pending)

    def _write_pending(self) -> None:
        """Writer thread: write every waiting event in one transaction; on failure keep them
        and schedule a retry."""
        with self._lock:
            self._scheduled = False
            batch = list(self._pending.values())
        if not batch or self._conn is None:
            return
        try:
            self._conn.executemany(
                "INSERT INTO events (id, channel, type, start, end, data) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET end = excluded.end, data = excluded.data",
                [(e.id, e.channel, e.type, e.start, e.end, json.dumps(e.data)) for e in batch],
            )
            self._conn.commit()
        except sqlite3.Error as err:
            self._conn.rollback()
            self._failed(str(err))
            return
        with self._lock:
            for event in batch:  # unless a newer state of it came meanwhile
                if self._pending.get(event.id) is event:
                    del self._pending[event.id]
            recovered, self._failing = self._failing, False
            more = bool(self._pending) and not self._scheduled
            self._scheduled = self._scheduled or more
        if recovered:
            self._retry_delay = RETRY_FIRST
            self._tell(None)
        if more:
            self._executor.submit(self._write_pending)

    def _failed(self, error: str) -> None:
        with self._lock:
            self._failing = True
        delay, self._retry_delay = self._retry_delay, min(self._retry_delay * 2, RETRY_LAST)
        self._tell(error)
        loop = self._loop
        if loop is not None and not loop.is_closed() and not self._closed:
            loop.call_soon_threadsafe(self._retry_later, delay)

    def _retry_later(self, delay: float) -> None:
        if not self._closed:
            self._retry = asyncio.get_running_loop().call_later(delay, self._retry_now)

    def _retry_now(self) -> None:
        self._retry = None
        with self._lock:
            schedule = not self._scheduled
            self._scheduled = True
        if schedule and not self._closed:
            self._executor.submit(self._write_pending)

    def _tell(self, error: str | None) -> None:
        """Hand the news to the storage watch, on the loop."""
        loop, report = self._loop, self._report
        if loop is None or report is None or loop.is_closed():
            return
        with self._lock:
            pending, dropped = len(self._pending), self.dropped
        loop.call_soon_threadsafe(report, error, pending, dropped)

    @property
    def pending(self) -> int:
        """Events waiting to be written."""
        with self._lock:
            return len(self._pending)

    async def flush(self) -> None:
        """Try to write what waits now, and wait for that attempt."""
        await self._run(self._write_pending)

    # ------------------------------------------------------------------ queries

    def _waiting(self) -> list[Event]:
        with self._lock:
            return list(self._pending.values())

    async def query(
        self,
        *,
        channel: str | None = None,
        type: str | None = None,
        since: float | None = None,
        until: float | None = None,
        active: bool | None = None,
        limit: int = DEFAULT_LIMIT,
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
        limit = max(1, min(limit, MAX_LIMIT))
        params.append(limit)

        def wanted(e: Event) -> bool:
            return (
                (active is None or (e.end is None) == active)
                and (channel is None or e.channel == channel)
                and (type is None or e.type == type)
                and (since is None or e.start >= since)
                and (until is None or e.start < until)
            )

        def run() -> list[Event]:
            assert self._conn is not None
            stored = {r[0]: _event(r) for r in self._conn.execute(sql, params).fetchall()}
            # What waits to be written is newer than what is stored: it wins, in or out.
            for event in self._waiting():
                stored.pop(event.id, None)
                if wanted(event):
                    stored[event.id] = event
            found = sorted(stored.values(), key=lambda e: (e.start, e.id), reverse=True)
            return found[:limit]

        return await self._run(run)

    async def get(self, event_id: str) -> Event | None:
        def run() -> Event | None:
            assert self._conn is not None
            with self._lock:
                waiting = self._pending.get(event_id)
            if waiting is not None:
                return waiting
            r = self._conn.execute(
                "SELECT id, channel, type, start, end, data FROM events WHERE id = ?", (event_id,)
            ).fetchone()
            return _event(r) if r is not None else None

        return await self._run(run)


def _event(row: Any) -> Event:
    return Event(
        id=row[0], channel=row[1], type=row[2], start=row[3], end=row[4], data=json.loads(row[5])
    )


__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_PENDING", "EventHistory"]
