"""Home Assistant discovery as published on the broker: device payloads, removal, birth."""

from __future__ import annotations

from .conftest import (
    Runtimes,
    Subscriber,
    discovery_topic,
    motion_channel,
    mqtt_block,
    tick_channel,
)


async def test_device_discovery_payloads(runtimes: Runtimes, subscriber: Subscriber) -> None:
    runtime, bridge = await runtimes.start([motion_channel("yard")], mqtt_block(subscriber.broker))
    assert bridge.discovery_enabled
    node = f"camera_runtime_{runtime.device_id}"
    base = f"camera_runtime/{runtime.device_id}"
    top = await subscriber.discovery(runtime.device_id)
    payload = top.json()
    assert payload["o"]["name"] == "camera_runtime"
    assert payload["dev"]["ids"] == [node]
    assert payload["avty"] == [{"topic": f"{base}/availability"}]
    channel = (await subscriber.discovery(runtime.device_id, "yard")).json()
    assert channel["dev"]["via_device"] == node
    assert channel["avty_mode"] == "all"
    cmps = channel["cmps"]
    assert {c["p"] for c in cmps.values()} == {
        "camera", "switch", "button", "sensor", "binary_sensor", "event", "number"
    }  # fmt: skip
    assert cmps["motion"]["device_class"] == "motion"
    assert cmps["motion"]["state_topic"] == f"{base}/yard/motion"
    assert cmps["video_loss"]["device_class"] == "problem"
    assert cmps["snapshot"]["topic"] == f"{base}/yard/snapshot"
    assert cmps["arming"]["command_topic"] == f"{base}/yard/arming/set"
    assert cmps["motion_sensitivity"]["max"] == 100
    assert "motion_new" in cmps["events"]["event_types"]
    assert len({c["unique_id"] for c in cmps.values()}) == len(cmps)


async def test_channel_removal_empties_its_config_and_birth_republishes(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start(
        [tick_channel("cam1"), tick_channel("cam2")], mqtt_block(subscriber.broker)
    )
    topic = discovery_topic(runtime.device_id, "cam2")
    await subscriber.discovery(runtime.device_id, "cam2")
    await runtime.remove_channel("cam2")
    await subscriber.wait_payload(topic, b"")
    await subscriber.wait_payload(f"camera_runtime/{runtime.device_id}/cam2/availability", b"")
    # Home Assistant restarted: its birth message makes the bridge publish discovery again.
    mark = subscriber.mark()
    subscriber.publish("homeassistant/status", "online")
    await subscriber.wait_for(
        lambda: [
            m
            for m in subscriber.messages[mark:]
            if m.topic == discovery_topic(runtime.device_id, "cam1")
        ]
    )
    assert not [m for m in subscriber.messages[mark:] if m.topic == topic and m.payload]
    added = await runtime.add_channel(tick_channel("cam3"))
    assert added["id"] == "cam3"
    await subscriber.discovery(runtime.device_id, "cam3")


async def test_discovery_off_publishes_none(runtimes: Runtimes, subscriber: Subscriber) -> None:
    runtime, bridge = await runtimes.start(
        [tick_channel("cam1")],
        mqtt_block(subscriber.broker, discovery=False, topic_prefix="home/cams"),
    )
    assert not bridge.discovery_enabled
    await subscriber.wait_payload(f"home/cams/{runtime.device_id}/cam1/availability", "online")
    await subscriber.wait_for(
        lambda: subscriber.last(f"home/cams/{runtime.device_id}/cam1/arming/state")
    )
    assert not [m for m in subscriber.messages if m.topic.startswith("homeassistant/")]
