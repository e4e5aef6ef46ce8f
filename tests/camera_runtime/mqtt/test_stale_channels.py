"""Retained topics of a channel that is gone are cleared on the broker even when the bridge
could not do it at the time: a channel removed while the broker was down, or removed from the
configuration between two runs (the bridge remembers its retained topics on disk)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.polling import eventually

from .conftest import Runtimes, Subscriber, discovery_topic, mqtt_block, tick_channel


def retained_topics(sub: Subscriber, prefix: str) -> set[str]:
    """Topics under ``prefix`` the bridge keeps retained (all but the event stream)."""
    return {
        m.topic
        for m in sub.messages
        if m.topic.startswith(prefix) and not m.topic.endswith("/events") and m.payload
    }


async def retained_on_broker(sub: Subscriber, marker: str) -> dict[str, bytes]:
    """What the broker holds retained now, as a new subscriber gets it."""
    fresh = Subscriber(sub.broker, asyncio.get_running_loop())
    await fresh.start("#")
    try:
        # Retained messages are queued on subscribing: a message sent afterwards comes after.
        fresh.publish(marker, "end")
        await fresh.wait_payload(marker, "end")
        return {m.topic: m.payload for m in fresh.messages if m.retain}
    finally:
        fresh.stop()


async def test_channel_removed_while_the_broker_is_down(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    broker = subscriber.broker
    # A persistent session: this client keeps receiving across the broker restart below.
    sub = Subscriber(broker, asyncio.get_running_loop(), client_id="stale-while-down")
    await sub.start("#")
    try:
        runtime, bridge = await runtimes.start(
            [tick_channel("cam1"), tick_channel("cam2")], mqtt_block(broker)
        )
        node = f"camera_runtime_{runtime.device_id}_cam2"
        discovery = discovery_topic(runtime.device_id, "cam2")
        base = f"camera_runtime/{runtime.device_id}"
        await sub.discovery(runtime.device_id, "cam2")
        await sub.wait_payload(f"{base}/cam2/availability", "online")
        broker.stop()
        await eventually(lambda: not bridge.connected, what="the bridge to see the outage")
        await runtime.remove_channel("cam2")
        mark = sub.mark()
        broker.start()
        await sub.wait_payload(discovery, b"", after=mark)
        for topic in retained_topics(sub, f"{base}/cam2/"):
            await sub.wait_payload(topic, b"", after=mark)
        held = await retained_on_broker(sub, f"{base}/test-marker")
        assert not [t for t in held if t.startswith(f"{base}/cam2/") or node in t]
        assert f"{base}/cam1/availability" in held  # the channel that stays keeps its topics
    finally:
        sub.stop()


async def test_channel_removed_from_the_config_between_runs(
    runtimes: Runtimes, subscriber: Subscriber, tmp_path: Path
) -> None:
    config = mqtt_block(subscriber.broker)
    data_dir = tmp_path / "between-runs"
    first = await runtimes.start(
        [tick_channel("cam1"), tick_channel("cam2")], config, data_dir=data_dir
    )
    discovery = discovery_topic(first[0].device_id, "cam2")
    base = f"camera_runtime/{first[0].device_id}"
    await subscriber.discovery(first[0].device_id, "cam2")
    await subscriber.wait_payload(f"{base}/cam2/arming/state", "ON")
    await subscriber.wait_payload(f"{base}/cam2/availability", "online")
    await runtimes.stop(first)
    stale = retained_topics(subscriber, f"{base}/cam2/") | {discovery}
    assert {f"{base}/cam2/status", f"{base}/cam2/arming/state"} <= stale

    mark = subscriber.mark()
    second = await runtimes.start([tick_channel("cam1")], config, data_dir=data_dir)
    assert second[0].device_id == first[0].device_id
    for topic in stale:
        await subscriber.wait_payload(topic, b"", after=mark)
    held = await retained_on_broker(subscriber, f"{base}/test-marker")
    assert not set(held) & stale
    # Once the broker confirmed, the bridge forgets them: a third run clears nothing.
    await eventually(
        lambda: not [c for c in second[1].outbox.retained_topics.values() if c == "cam2"],
        what="the cleared topics to be forgotten",
    )
