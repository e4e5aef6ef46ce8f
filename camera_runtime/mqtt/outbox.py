"""The durable MQTT outbox: event messages are on disk (SQLite, WAL, fsync'd) before they are
published, and leave it only when the broker acknowledged them (PUBACK).

All database work runs on one dedicated thread, like the event history, so the event loop
never waits on the disk. Writes are grouped: every message queued while the previous commit
was syncing goes into the next transaction, so a burst costs one fsync, not one per event.
The sequence number is per runtime, increases across restarts (kept in a ``meta`` row, never
reused, even after the outbox emptied) and gives the delivery order.

A failed write (disk full, I/O error, a lock held too long) loses nothing: what it carried is
put back in front of the queue and written again after a backoff (0.1 s doubling to 5 s).
Only what cannot wait any more is dropped, and then counted and logged: the oldest messages
beyond ``max_rows`` kept in memory, and what is still unwritten when the outbox closes (those
never got a sequence number). ``max_rows`` bounds the rows waiting to be published; a row
already fetched for publishing (handed to paho, which delivers it anyway) is not counted
against it, never deleted to make room, and so never counted as lost.

The outbox also remembers, durably, which retained topics the bridge published for which
channel (table ``retained``): a channel removed while the broker was down, or removed from the
configuration between two runs, still gets its retained topics cleared on the next connect.
Likewise the Home Assistant discovery components published per channel (table ``discovery``):
one that is gone after a restart with another configuration is still sent as removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..data_folder import private_file, private_folder
from ..exceptions import StorageError

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, channel TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS discovery (
    channel TEXT NOT NULL,
    component TEXT NOT NULL,
    platform TEXT NOT NULL,
    PRIMARY KEY (channel, component)
);
"""

#: Backoff between attempts after a failed write, in seconds.
RETRY_MIN, RETRY_MAX = 0.1, 5.0
#: How long a write waits for a lock held by another connection before it counts as failed.
BUSY_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    topic: str
    payload: bytes


class Outbox:
    """``add`` queues a message (returns at once); ``stored`` is called on the event loop, in
    order, once it is committed. ``fetch`` reads rows after a sequence number; ``ack`` deletes.

    When more than ``max_rows`` are waiting, the oldest are deleted to make room: ``dropped``
    counts them and each drop is logged. Losing the oldest is the documented trade-off of a
    bounded outbox; the bound is meant to be reached only after a very long broker outage.
    Fetched rows are in flight, not waiting: the file holds ``max_rows`` plus those at most.
    """

    def __init__(
        self,
        path: Path,
        max_rows: int,
        stored: Callable[[], None],
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        health: Callable[[str | None, int, int], None] | None = None,
    ) -> None:
        """``health(error, pending, dropped)`` hears of each failed write (``error``) and of
        the first write that works again (``None``), on the event loop."""
        self.path = path
        self._health = health
        self.max_rows = max_rows
        self.busy_timeout = busy_timeout
        self._stored = stored
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mqtt-outbox")
        self._conn: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._acks: list[int] = []
        #: Bookkeeping writes (retained topics, discovery components) for the next commit.
        self._sql: list[tuple[str, list[tuple[str, ...]]]] = []
        self._flush_scheduled = False
        self._retry_pending = False  # a retry after a failed write is waiting for its time
        self._retry_handle: asyncio.TimerHandle | None = None
        self._closing = False
        self._failures = 0  # failed writes in a row
        self._next_seq = 1
        self._fetched = 0  # highest seq ``fetch`` returned: rows up to it are in paho's hands
        self._fetched_rows = 0  # rows on disk with ``seq <= _fetched`` (deleted only by acks)
        #: Rows on disk (committed, not yet acknowledged).
        self.count = 0
        #: Messages lost: deleted unpublished because the outbox was full, or never written.
        self.dropped = 0
        #: Retained topics published per channel (topic -> channel id), as on disk.
        self.retained_topics: dict[str, str] = {}
        #: Discovery components published per channel (channel -> component -> platform).
        self.discovery_components: dict[str, dict[str, str]] = {}

    # ------------------------------------------------------------------ lifecycle

    def _open(self) -> None:
        private_folder(self.path.parent)
        private_file(self.path)
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, check_same_thread=False, isolation_level=None
        )
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on the disk when it returns, also across a power cut.
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        top = conn.execute("SELECT MAX(seq), COUNT(*) FROM outbox").fetchone()
        self._next_seq = max(row[0] if row else 0, top[0] or 0) + 1
        self.count = int(top[1])
        self.retained_topics = dict(conn.execute("SELECT topic, channel FROM retained"))
        for channel, key, platform in conn.execute(
            "SELECT channel, component, platform FROM discovery"
        ):
            self.discovery_components.setdefault(channel, {})[key] = platform
        with self._lock:
            self._conn = conn
        self._flush()  # messages queued before the outbox was open

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            await self._run(self._open)
        except sqlite3.Error as err:
            raise StorageError(f"cannot open the MQTT outbox {self.path}: {err}") from err

    async def close(self) -> None:
        """Write what is queued, then close; the rows left are published after the next start."""

        with self._lock:
            self._closing = True
        if self._retry_handle is not None:
            self._retry_handle.cancel()

        def close() -> None:
            self._flush()
            with self._lock:
                lost, self._pending = len(self._pending), []
                self._acks, self._sql = [], []
            if lost:
                self.dropped += lost
                _LOGGER.error(
                    "MQTT outbox %s: %d event message(s) could not be written and are lost "
                    "(%d lost in all)",
                    self.path,
                    lost,
                    self.dropped,
                )
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._run(close)
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    # ------------------------------------------------------------------ writes

    def add(self, topic: str, body: dict[str, Any]) -> None:
        """Queue ``body`` (JSON-serialisable; its ``seq`` key is set here) for ``topic``.
        May be called before ``open``: the message is written once the outbox is open."""
        with self._lock:
            self._pending.append((topic, body))
            self._schedule()

    def ack(self, seq: int) -> None:
        """The broker has the message: delete its row (grouped with the next commit)."""
        with self._lock:
            self._acks.append(seq)
            self._schedule()

    def remember(self, topic: str, channel: str) -> None:
        """``topic`` now holds a retained message that belongs to ``channel``."""
        if self.retained_topics.get(topic) == channel:
            return
        self.retained_topics[topic] = channel
        self._queue_sql(
            "INSERT INTO retained (topic, channel) VALUES (?, ?) "
            "ON CONFLICT(topic) DO UPDATE SET channel = excluded.channel",
            [(topic, channel)],
        )

    def forget(self, topics: list[str]) -> None:
        """These retained topics were cleared on the broker."""
        for topic in topics:
            self.retained_topics.pop(topic, None)
        self._queue_sql("DELETE FROM retained WHERE topic = ?", [(t,) for t in topics])

    def remember_components(self, channel: str, components: dict[str, str]) -> None:
        """Discovery ``components`` (id -> platform) were published for ``channel``: from now
        on, across restarts, one of them that goes away is sent as removed."""
        known = self.discovery_components.setdefault(channel, {})
        new = {key: p for key, p in components.items() if known.get(key) != p}
        if not new:
            return
        known.update(new)
        self._queue_sql(
            "INSERT INTO discovery (channel, component, platform) VALUES (?, ?, ?) "
            "ON CONFLICT(channel, component) DO UPDATE SET platform = excluded.platform",
            [(channel, key, p) for key, p in new.items()],
        )

    def forget_components(self, channel: str) -> None:
        """``channel``'s device was removed from Home Assistant: its components with it."""
        if self.discovery_components.pop(channel, None) is not None:
            self._queue_sql("DELETE FROM discovery WHERE channel = ?", [(channel,)])

    def _queue_sql(self, sql: str, rows: list[tuple[str, ...]]) -> None:
        """Run ``sql`` for ``rows`` in the next commit (kept, like messages, on a failure)."""
        if rows:
            with self._lock:
                self._sql.append((sql, rows))
                self._schedule()

    def _schedule(self) -> None:
        """Called with the lock held: one flush at a time is queued on the outbox thread."""
        if not self._flush_scheduled and not self._closing:
            self._flush_scheduled = True
            self._executor.submit(self._flush)

    def _flush(self) -> None:
        """Write everything queued in one transaction; on failure keep it for a retry."""
        with self._lock:
            if not self._retry_pending:
                self._flush_scheduled = False
            conn = self._conn
            if conn is None:  # not open yet: ``open`` flushes what was queued meanwhile
                return
            pending, self._pending = self._pending, []
            acks, self._acks = self._acks, []
            sql, self._sql = self._sql, []
        if not (pending or acks or sql):
            return
        first_seq = self._next_seq
        try:
            self._write(conn, pending, acks, sql)
        except sqlite3.Error as err:
            self._next_seq = first_seq
            self._write_failed(err, pending, acks, sql)
            return
        if self._failures:
            _LOGGER.warning(
                "MQTT outbox %s: writing works again (after %d failed attempt(s))",
                self.path,
                self._failures,
            )
            self._failures = 0
            self._tell(None)
        if pending and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stored)

    def _write(
        self,
        conn: sqlite3.Connection,
        pending: list[tuple[str, dict[str, Any]]],
        acks: list[int],
        sql: list[tuple[str, list[tuple[str, ...]]]],
    ) -> None:
        rows = []
        for topic, body in pending:
            body["seq"] = self._next_seq
            payload = json.dumps(body, separators=(",", ":"), default=str).encode()
            rows.append((self._next_seq, topic, payload))
            self._next_seq += 1
        conn.execute("BEGIN IMMEDIATE")
        try:
            if rows:
                conn.executemany("INSERT INTO outbox (seq, topic, payload) VALUES (?, ?, ?)", rows)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('last_seq', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (self._next_seq - 1,),
                )
            deleted = 0
            if acks:  # always fetched rows
                cur = conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in acks])
                deleted = cur.rowcount
            over = self.count - self._fetched_rows + len(rows) - self.max_rows
            if over > 0:
                # Only rows never fetched: a fetched one is in paho's hands and still delivered.
                # ``fetch`` runs on this thread, so no fetch can happen during this transaction.
                over = conn.execute(
                    "DELETE FROM outbox WHERE seq IN "
                    "(SELECT seq FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?)",
                    (self._fetched, over),
                ).rowcount
            for statement, values in sql:
                conn.executemany(statement, values)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self.count += len(rows) - deleted - max(over, 0)
        self._fetched_rows -= deleted
        if over > 0:
            self.dropped += over
            _LOGGER.warning(
                "MQTT outbox full (%d messages): dropped the %d oldest unpublished event "
                "message(s) (%d in all)",
                self.max_rows,
                over,
                self.dropped,
            )

    def _write_failed(
        self,
        err: sqlite3.Error,
        pending: list[tuple[str, dict[str, Any]]],
        acks: list[int],
        sql: list[tuple[str, list[tuple[str, ...]]]],
    ) -> None:
        """Put the batch back in front of what was queued meanwhile, and retry later."""
        with self._lock:
            self._pending[:0] = pending
            self._acks[:0] = acks
            self._sql[:0] = sql
            over = len(self._pending) - self.max_rows
            if over > 0:  # memory is bounded like the disk: the oldest go first
                del self._pending[:over]
                self.dropped += over
            self._failures += 1
            retry = not self._retry_pending and not self._closing
            if retry:
                self._retry_pending = self._flush_scheduled = True
        if self._failures == 1:
            _LOGGER.error(
                "MQTT outbox %s: write failed (%s); %d event message(s) kept in memory, retrying",
                self.path,
                err,
                len(self._pending),
            )
        if over > 0:
            _LOGGER.error(
                "MQTT outbox %s: still cannot write; dropped the %d oldest unwritten event "
                "message(s) (%d lost in all)",
                self.path,
                over,
                self.dropped,
            )
        self._tell(str(err))
        delay = min(RETRY_MAX, RETRY_MIN * 2 ** min(self._failures - 1, 10))
        if retry and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._retry_later, delay)

    def _tell(self, error: str | None) -> None:
        if self._health is None or self._loop is None or self._loop.is_closed():
            return
        with self._lock:
            pending = len(self._pending)
        self._loop.call_soon_threadsafe(self._health, error, pending, self.dropped)

    def _retry_later(self, delay: float) -> None:
        assert self._loop is not None
        self._retry_handle = self._loop.call_later(delay, self._retry)

    def _retry(self) -> None:
        self._retry_handle = None
        with self._lock:
            self._retry_pending = self._flush_scheduled = False
            self._schedule()

    # ------------------------------------------------------------------ reads

    async def fetch(self, after: int, limit: int) -> list[OutboxRow]:
        """Committed rows with ``seq > after``, oldest first, for publishing: from now on a
        full outbox no longer deletes them (they are delivered, not lost)."""

        def run() -> list[OutboxRow]:
            if self._conn is None:
                return []
            cur = self._conn.execute(
                "SELECT seq, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            )
            rows = [OutboxRow(r[0], r[1], bytes(r[2])) for r in cur.fetchall()]
            if rows and rows[-1].seq > self._fetched:
                self._fetched_rows += sum(1 for r in rows if r.seq > self._fetched)
                self._fetched = rows[-1].seq
            return rows

        return await self._run(run)

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        await self._run(self._flush)


__all__ = ["Outbox", "OutboxRow"]
