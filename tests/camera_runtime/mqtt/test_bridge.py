"""The bridge against a real Mosquitto: availability, events with the history's ids, states,
snapshots, and the stop/start behaviour hosts rely on."""

from __future__ import annotations

import asyncio
import time

import cv2
import numpy as np

from camera_runtime.model import EventPhase

from .conftest import Runtimes, Subscriber, motion_channel, mqtt_block, stored_events, tick_channel


def base(runtime_device_id: str) -> str:
    return f"camera_runtime/{runtime_device_id}"


async def test_availability_states_and_status_are_retained(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, bridge = await runtimes.start([tick_channel("cam1")], mqtt_block(subscriber.broker))
    b = base(runtime.device_id)
    await subscriber.wait_payload(f"{b}/availability", "online")
    await subscriber.wait_payload(f"{b}/cam1/availability", "online")
    assert bridge.connected
    assert subscriber.last(f"{b}/availability").retain is False  # live delivery, not a replay
    await subscriber.wait_payload(f"{b}/cam1/arming/state", "ON")
    status = await subscriber.wait_for(lambda: subscriber.last(f"{b}/cam1/status"))
    assert status.json()["id"] == "cam1"
    info = (await subscriber.wait_for(lambda: subscriber.last(f"{b}/info"))).json()
    assert info["device_id"] == runtime.device_id
    assert info["channels"] == 1

    # A late subscriber gets the retained states at once.
    late = Subscriber(subscriber.broker, asyncio.get_running_loop())
    await late.start(f"{b}/#")
    try:
        message = await late.wait_payload(f"{b}/cam1/availability", "online")
        assert message.retain
        assert (await late.wait_payload(f"{b}/cam1/arming/state", "ON")).retain
        assert (await late.wait_payload(f"{b}/availability", "online")).retain
    finally:
        late.stop()

    await runtimes.stop((runtime, bridge))
    await subscriber.wait_payload(f"{b}/availability", "offline")
    await subscriber.wait_payload(f"{b}/cam1/availability", "offline")


async def test_events_carry_the_history_ids_in_order(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, bridge = await runtimes.start(
        [tick_channel("cam1", detect_fps=10)],
        mqtt_block(subscriber.broker, snapshot_on_event=False),
    )
    b = base(runtime.device_id)
    topic = f"{b}/cam1/events"
    await subscriber.wait_for(lambda: len(subscriber.on(topic)) >= 10, what="10 event messages")
    await runtimes.stop((runtime, bridge))
    history = await stored_events(runtime)
    ids = {e.id for e in history}

    def ended() -> bool:
        return {m.json()["id"] for m in subscriber.on(topic) if m.json()["type"] == "end"} == ids

    await subscriber.wait_for(ended, what="every event's end")
    messages = [m.json() for m in subscriber.on(topic)]
    seqs = [m["seq"] for m in messages]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for m in messages:
        assert m["channel"] == "cam1" and m["event_type"] == "pulse"
        assert m["type"] in {"new", "end"}
        assert m["device_id"] == runtime.device_id
    # After the stop every event is ended, and MQTT has exactly the history's events.
    assert {m["id"] for m in messages} == {e.id for e in history}
    ends = {m["id"] for m in messages if m["type"] == "end"}
    assert ends == {e.id for e in history}
    by_id = {e.id: e for e in history}
    for m in messages:
        if m["type"] == "end":
            assert m["end"] == by_id[m["id"]].end
            assert m["active"] is False


async def test_event_state_follows_real_motion_and_snapshot_is_a_jpeg(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start([motion_channel("yard")], mqtt_block(subscriber.broker))
    b = base(runtime.device_id)
    new = await subscriber.wait_for(
        lambda: next(
            (m for m in subscriber.on(f"{b}/yard/events") if m.json()["type"] == "new"), None
        ),
        within=20,
        what="a motion event",
    )
    event = new.json()
    assert event["event_type"] == "motion"
    assert event["data"]["areas"] == ["area_1"]
    assert event["snapshot"] == f"{b}/yard/snapshot"
    await subscriber.wait_payload(f"{b}/yard/motion", "ON")
    snapshot = await subscriber.wait_for(lambda: subscriber.last(f"{b}/yard/snapshot"))
    assert snapshot.retain is False
    picture = cv2.imdecode(np.frombuffer(snapshot.payload, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (180, 320, 3)
    await subscriber.wait_for(
        lambda: any(
            m.json()["type"] == "end" and m.json()["id"] == event["id"]
            for m in subscriber.on(f"{b}/yard/events")
        ),
        within=20,
        what="the motion event's end",
    )
    await subscriber.wait_payload(f"{b}/yard/motion", "OFF")
    # The same id is in the event history.
    await runtime.history.flush()
    stored = await runtime.history.get(event["id"])
    assert stored is not None and stored.type == "motion"


async def test_start_does_not_wait_for_an_unreachable_broker_and_stop_is_quick(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    broker = subscriber.broker
    broker.stop()
    began = time.monotonic()
    runtime, bridge = await runtimes.start([tick_channel("cam1")], mqtt_block(broker))
    assert time.monotonic() - began < 3
    assert not bridge.connected
    # Events queue in the outbox meanwhile.
    waited = asyncio.get_running_loop().create_future()
    unsubscribe = runtime.bus.subscribe(
        lambda u: u.phase is EventPhase.END and not waited.done() and waited.set_result(u)
    )
    await asyncio.wait_for(waited, 10)
    unsubscribe()
    await bridge.outbox.flush()
    assert bridge.outbox.count >= 2
    began = time.monotonic()
    await runtimes.stop((runtime, bridge))
    assert time.monotonic() - began < 5
