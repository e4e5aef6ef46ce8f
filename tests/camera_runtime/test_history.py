"""The persistent event history: restarts, filters, a full disk, what was interrupted."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from camera_runtime.history import EventHistory
from camera_runtime.model import Event, EventPhase, EventUpdate


async def test_history_survives_restart_and_filters(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    history = EventHistory(path)
    await history.open()
    a = Event("front", "motion", 100.0, id="a")
    b = Event("back", "video_loss", 200.0, id="b", data={"reason": "timeout"})
    c = Event("front", "motion", 300.0, id="c")
    for event in (a, b, c):
        history.record(EventUpdate(EventPhase.NEW, event))
    a.end = 150.0
    history.record(EventUpdate(EventPhase.END, a))
    await history.flush()
    await history.close()

    history = EventHistory(path)
    await history.open()
    try:
        everything = await history.query()
        assert [e.id for e in everything] == ["c", "b", "a"]
        stored_a = await history.get("a")
        assert stored_a is not None and stored_a.end == 150.0
        assert [e.id for e in await history.query(channel="front")] == ["c", "a"]
        assert [e.id for e in await history.query(type="video_loss")] == ["b"]
        assert [e.id for e in await history.query(since=150.0, until=300.0)] == ["b"]
        assert [e.id for e in await history.query(limit=1)] == ["c"]
        stored_b = await history.get("b")
        assert stored_b is not None and stored_b.data == {"reason": "timeout"}
        # Events left active by a stop are closed on the next start, not active forever.
        assert stored_b.end == stored_b.start
        assert await history.get("missing") is None
    finally:
        await history.close()


def _fill(history: EventHistory, pages: int) -> Any:
    """Limit the history's database to ``pages`` pages: a full disk, as SQLite sees one."""
    assert history._conn is not None
    conn = history._conn
    return history._run(lambda: conn.execute(f"PRAGMA max_page_count = {pages}").fetchone())


async def test_a_full_disk_keeps_events_in_memory_and_the_history_catches_up(
    tmp_path: Path,
) -> None:
    reports: list[tuple[str | None, int, int]] = []
    history = EventHistory(
        tmp_path / "events.sqlite3", lambda e, p, d: reports.append((e, p, d)), max_pending=100
    )
    await history.open()
    history.record(EventUpdate(EventPhase.NEW, Event("cam", "motion", 1.0, id="before")))
    await history.flush()
    await _fill(history, 1)  # no page more: the next write fails
    events = [
        Event("cam", "motion", 10.0 + i, id=f"e{i:02d}", data={"n": "x" * 5000}) for i in range(20)
    ]
    for event in events:
        history.record(EventUpdate(EventPhase.NEW, event))
    await history.flush()
    await asyncio.sleep(0)  # the reports are handed to the loop
    assert reports and reports[0][0] == "database or disk is full"
    assert history.pending == 20
    # Queries see what waits: the API shows every event in its latest state meanwhile.
    events[3] = replace(events[3], end=99.0)
    history.record(EventUpdate(EventPhase.END, events[3]))
    found = await history.query(limit=100)
    assert [e.id for e in found][:3] == ["e19", "e18", "e17"] and len(found) == 21
    assert (await history.get("e03")).end == 99.0  # type: ignore[union-attr]
    assert [e.id for e in await history.query(active=True, limit=100)].count("e03") == 0

    await _fill(history, 1_000_000)  # space is back: the retry writes everything
    async with asyncio.timeout(10):
        while history.pending:  # noqa: ASYNC110 - the retry timer has nothing to wait on
            await asyncio.sleep(0.05)
    await asyncio.sleep(0)
    assert reports[-1] == (None, 0, 0)
    await history.close()
    reopened = EventHistory(tmp_path / "events.sqlite3")
    await reopened.open()
    stored = await reopened.query(limit=100)
    assert len(stored) == 21 and next(e for e in stored if e.id == "e03").end == 99.0
    await reopened.close()


async def test_memory_is_bounded_and_what_was_dropped_is_counted(tmp_path: Path) -> None:
    reports: list[tuple[str | None, int, int]] = []
    history = EventHistory(
        tmp_path / "events.sqlite3", lambda e, p, d: reports.append((e, p, d)), max_pending=5
    )
    await history.open()
    await _fill(history, 1)
    big = {"n": "x" * 5000}  # a row that needs pages of its own
    history.record(EventUpdate(EventPhase.NEW, Event("cam", "motion", 0.0, id="first", data=big)))
    await history.flush()
    for i in range(8):
        event = Event("cam", "motion", 1.0 + i, id=f"e{i}", data=big)
        history.record(EventUpdate(EventPhase.NEW, event))
    await history.flush()
    await asyncio.sleep(0)
    assert history.pending == 5 and history.dropped == 4  # "first" and e0..e2
    assert reports[-1][1:] == (5, 4)
    assert [e.id for e in await history.query()] == ["e7", "e6", "e5", "e4", "e3"]
    await _fill(history, 1_000_000)
    await history.close()  # a last try writes what waits


async def test_events_active_at_a_kill_are_ended_at_the_next_start(tmp_path: Path) -> None:
    history = EventHistory(tmp_path / "events.sqlite3")
    await history.open()
    history.record(EventUpdate(EventPhase.NEW, Event("cam", "motion", 5.0, id="cut")))
    history.record(EventUpdate(EventPhase.NEW, Event("cam", "motion", 1.0, id="done", end=2.0)))
    await history.flush()
    # No close(): as after a kill -9.
    history._executor.shutdown(wait=True)
    assert history._conn is not None
    history._conn.close()
    again = EventHistory(tmp_path / "events.sqlite3")
    await again.open()
    assert [(e.id, e.end) for e in again.closed_at_start] == [("cut", 5.0)]
    assert (await again.get("cut")).end == 5.0  # type: ignore[union-attr]
    await again.close()
