"""No event lost: broker restarts during a burst, a runtime restart with a full outbox, and
camera loss shown on the channel's availability (TESTPLAN E1, E2, F1)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.polling import eventually

from .conftest import (
    Message,
    Runtimes,
    Subscriber,
    count_events,
    mqtt_block,
    stored_events,
    tick_channel,
)
from .plugins import gate


def deduped(messages: list[Message]) -> list[dict[str, Any]]:
    """Event messages in arrival order, duplicates (same ``seq``) dropped, first copy kept."""
    seen: set[int] = set()
    out = []
    for message in messages:
        body = message.json()
        if body["seq"] not in seen:
            seen.add(body["seq"])
            out.append(body)
    return out


def event_messages(sub: Subscriber) -> list[Message]:
    return [m for m in sub.messages if m.topic.endswith("/events")]


async def persistent_subscriber(sub: Subscriber, name: str) -> Subscriber:
    persistent = Subscriber(sub.broker, asyncio.get_running_loop(), client_id=name)
    await persistent.start("camera_runtime/+/+/events")
    return persistent


def assert_complete(received: list[dict[str, Any]], history_ids: set[str]) -> None:
    """In order, no gap in the sequence, every event's new and end, the history's ids."""
    seqs = [m["seq"] for m in received]
    assert seqs == sorted(seqs), "out of order"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a sequence number is missing"
    assert {m["id"] for m in received} == history_ids
    assert {m["id"] for m in received if m["type"] == "new"} == history_ids
    assert {m["id"] for m in received if m["type"] == "end"} == history_ids


async def test_broker_restarts_during_a_burst_lose_nothing(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    sub = await persistent_subscriber(subscriber, "outage-receiver")
    broker = subscriber.broker
    runtime, bridge = await runtimes.start(
        [tick_channel("cam1", detect_fps=20), tick_channel("cam2", detect_fps=20)],
        mqtt_block(broker, snapshot_on_event=False),
    )
    try:
        for _ in range(2):
            before = len(event_messages(sub))
            await sub.wait_for(
                lambda before=before: len(event_messages(sub)) >= before + 20, what="a burst"
            )
            broker.stop()
            await eventually(lambda: not bridge.connected, what="the bridge to see the outage")
            await count_events(runtime, 40)  # events raised while the broker is down
            assert bridge.outbox.count > 0
            broker.start()
            await eventually(lambda: bridge.connected, what="the bridge to reconnect")
        await runtimes.stop((runtime, bridge))
        history_ids = {e.id for e in await stored_events(runtime)}
        assert len(history_ids) > 60

        def complete() -> bool:
            received = deduped(event_messages(sub))
            return {m["id"] for m in received if m["type"] == "end"} == history_ids

        await sub.wait_for(complete, within=30, what="every event after the outages")
        assert_complete(deduped(event_messages(sub)), history_ids)
        assert bridge.outbox.count == 0  # drained
    finally:
        sub.stop()


async def test_runtime_restart_delivers_the_outbox(
    runtimes: Runtimes, subscriber: Subscriber, tmp_path: Any
) -> None:
    sub = await persistent_subscriber(subscriber, "restart-receiver")
    broker = subscriber.broker
    broker.stop()
    data_dir = tmp_path / "restart-data"
    config = mqtt_block(broker, snapshot_on_event=False)
    first = await runtimes.start([tick_channel("cam1", detect_fps=20)], config, data_dir=data_dir)
    await count_events(first[0], 30)
    await runtimes.stop(first)
    kept = first[1].outbox.count
    assert kept >= 30  # nothing was delivered: all of it waits on disk

    broker.start()
    second = await runtimes.start([tick_channel("cam1", detect_fps=20)], config, data_dir=data_dir)
    assert second[0].device_id == first[0].device_id
    try:
        await sub.wait_for(
            lambda: len(deduped(event_messages(sub))) >= kept + 10, what="the kept events"
        )
        await runtimes.stop(second)
        history_ids = {e.id for e in await stored_events(second[0])}

        def complete() -> bool:
            received = deduped(event_messages(sub))
            return {m["id"] for m in received if m["type"] == "end"} == history_ids

        await sub.wait_for(complete, within=30, what="every event of both runs")
        received = deduped(event_messages(sub))
        assert_complete(received, history_ids)
        assert received[0]["seq"] == 1
    finally:
        sub.stop()


async def test_channel_availability_follows_video_loss(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start(
        [tick_channel("door", gate="door"), tick_channel("yard")], mqtt_block(subscriber.broker)
    )
    topic = f"camera_runtime/{runtime.device_id}/door/availability"
    await subscriber.wait_payload(topic, "online")
    gate("door").clear()
    await subscriber.wait_payload(topic, "offline", within=20)  # E1: within 20 s
    loss = await subscriber.wait_for(
        lambda: next(
            (
                m.json()
                for m in subscriber.on(f"camera_runtime/{runtime.device_id}/door/events")
                if m.json()["event_type"] == "video_loss"
            ),
            None,
        )
    )
    assert loss["type"] == "new"
    await subscriber.wait_payload(f"camera_runtime/{runtime.device_id}/door/video_loss", "ON")
    # The other channel and the runtime stay online.
    assert (
        subscriber.last(f"camera_runtime/{runtime.device_id}/yard/availability").payload
        == b"online"
    )
    gate("door").set()
    await subscriber.wait_payload(topic, "online", within=20)
    await subscriber.wait_payload(f"camera_runtime/{runtime.device_id}/door/video_loss", "OFF")
