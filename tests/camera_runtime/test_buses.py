"""The in-process buses: order, unsubscribing, a failing subscriber."""

from __future__ import annotations

import pytest

from camera_runtime.buses import EventBus
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
