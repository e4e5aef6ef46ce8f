"""Event bus and persistent event history."""

from __future__ import annotations

from pathlib import Path

import pytest

from camera_runtime.buses import EventBus
from camera_runtime.history import EventHistory
from camera_runtime.model import Event, EventPhase, EventUpdate


def test_bus_delivers_in_order_and_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[str] = []
    unsubscribe = bus.subscribe(lambda u: seen.append(u.event.id))
    events = [Event("cam", "motion", float(i), id=f"e{i}") for i in range(3)]
    for event in events:
        bus.publish(EventUpdate(EventPhase.NEW, event))
    unsubscribe()
    unsubscribe()  # safe twice
    bus.publish(EventUpdate(EventPhase.NEW, Event("cam", "motion", 9.0, id="late")))
    assert seen == ["e0", "e1", "e2"]
    assert bus.subscriber_count == 0


def test_a_failing_subscriber_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[str] = []

    def broken(update: EventUpdate) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(lambda u: seen.append(u.event.id))
    bus.publish(EventUpdate(EventPhase.NEW, Event("cam", "motion", 1.0, id="x")))
    assert seen == ["x"]
    assert "boom" in caplog.text


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
