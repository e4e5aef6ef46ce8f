"""Discovery follows the channel: a change of the components a channel would offer (here the
motion mode: the sensitivity number exists in normal mode only) republishes its config, with
the component that went away as ``{"p": platform}`` so Home Assistant removes it; ``info`` is
published on channel changes, with discovery on or off."""

from __future__ import annotations

from typing import Any

from .conftest import (
    Runtimes,
    Subscriber,
    discovery_topic,
    motion_channel,
    mqtt_block,
    tick_channel,
)


async def test_motion_mode_change_republishes_discovery(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start([motion_channel("yard")], mqtt_block(subscriber.broker))
    topic = discovery_topic(runtime.device_id, "yard")

    def config_after(mark: int, check: Any) -> Any:
        return lambda: next(
            (
                m.json()
                for m in subscriber.messages[mark:]
                if m.topic == topic and m.payload and check(m.json()["cmps"])
            ),
            None,
        )

    first = await subscriber.wait_for(config_after(0, lambda c: True))
    assert first["cmps"]["motion_sensitivity"]["p"] == "number"
    assert "command_topic" in first["cmps"]["motion_sensitivity"]

    mark = subscriber.mark()
    await runtime.set_detector("yard", "motion", options={"mode": "expert"})
    expert = await subscriber.wait_for(
        config_after(mark, lambda c: "command_topic" not in c["motion_sensitivity"]),
        what="the config without the sensitivity number",
    )
    assert expert["cmps"]["motion_sensitivity"] == {"p": "number"}  # HA removes the entity
    assert "command_topic" in expert["cmps"]["motion_detection"]

    mark = subscriber.mark()
    await runtime.set_detector("yard", "motion", options={"mode": "normal"})
    normal = await subscriber.wait_for(
        config_after(mark, lambda c: "command_topic" in c["motion_sensitivity"]),
        what="the sensitivity number back",
    )
    assert normal["cmps"]["motion_sensitivity"]["max"] == 100

    # An unrelated change (arming) publishes no new config.
    mark = subscriber.mark()
    await runtime.set_armed("yard", False)
    base = f"camera_runtime/{runtime.device_id}"
    await subscriber.wait_payload(f"{base}/yard/arming/state", "OFF", after=mark)
    assert not [m for m in subscriber.messages[mark:] if m.topic == topic]


async def test_info_is_published_on_channel_changes_without_discovery(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, bridge = await runtimes.start(
        [tick_channel("cam1")], mqtt_block(subscriber.broker, discovery=False)
    )
    assert not bridge.discovery_enabled
    info = f"camera_runtime/{runtime.device_id}/info"
    await subscriber.wait_for(lambda: [m for m in subscriber.on(info) if m.json()["channels"] == 1])
    # Well before the periodic refresh (30 s): the change itself publishes it.
    await runtime.add_channel(tick_channel("cam2"))
    await subscriber.wait_for(
        lambda: [m for m in subscriber.on(info) if m.json()["channels"] == 2],
        within=10,
        what="info after the channel was added",
    )
    await runtime.remove_channel("cam2")
    await subscriber.wait_for(
        lambda: [m for m in subscriber.on(info) if m.json()["channels"] == 1][1:],
        within=10,
        what="info after the channel was removed",
    )
    assert not [m for m in subscriber.messages if m.topic.startswith("homeassistant/")]
