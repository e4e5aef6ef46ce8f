"""What the bridge keeps retained on the broker, recomputed from the runtime: per channel its
availability, status, the state of each declared control and the ON/OFF of each declared event
type; the runtime's info; Home Assistant discovery.

Each function publishes only what changed since the last (re)connect (``bridge.retained``),
unless forced (a command's echo), so the periodic channel updates cost little traffic. Every
retained topic of a channel is published with ``channel=``, so that the bridge remembers it
and can clear it when the channel goes away, or when the channel no longer has it (an event
type whose detector was removed), also in a later run: a retained ``ON`` left by a crash in
the middle of an event must not stay on the broker for a sensor that no longer exists.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from ..exceptions import NotFoundError
from . import ha_discovery
from .topics import OFF, OFFLINE, ON, ONLINE

if TYPE_CHECKING:
    from ..model import ChannelStatus, DeviceInfo
    from .bridge import MqttBridge

_LOGGER = logging.getLogger(__name__)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


def reading(sensor: dict[str, Any]) -> str:
    """A declared reading's value as its state payload (``None``: Home Assistant's unknown)."""
    value = sensor.get("value")
    return "None" if value is None else str(value)


def control_state(control: dict[str, Any]) -> str | None:
    """A control's value as its state payload (``None`` for a button, which has none)."""
    value = control.get("value")
    if control["kind"] == "button" or value is None:
        return None
    if control["kind"] == "switch":
        return ON if value else OFF
    return str(value)


def _status(bridge: MqttBridge, channel_id: str) -> ChannelStatus | None:
    try:
        return bridge.runtime.channel_status(channel_id)
    except NotFoundError:  # removed meanwhile
        return None


def publish_channel(
    bridge: MqttBridge,
    channel_id: str,
    status: ChannelStatus | None = None,
    *,
    force: bool = False,
) -> None:
    """Availability, status, every control's state and every event type's ON/OFF (changed
    ones only, unless ``force``: a command's echo)."""
    status = status if status is not None else _status(bridge, channel_id)
    if status is None:
        return
    topics = bridge.topics

    def publish(topic: str, payload: bytes | str, force: bool = False) -> None:
        bridge.publish(topic, payload, retain=True, force=force, channel=channel_id)

    online = status["state"] == "online"
    publish(topics.channel_availability(channel_id), ONLINE if online else OFFLINE)
    publish(topics.channel_status(channel_id), _json(status))
    current = {
        topics.channel_availability(channel_id),
        topics.channel_status(channel_id),
        topics.snapshot(channel_id),
        topics.discovery(channel_id),
    }
    for control in status["controls"]:
        payload = control_state(control)
        if payload is not None:
            topic = topics.state(channel_id, control["key"])
            publish(topic, payload, force)
            current.add(topic)
    for sensor in status.get("sensors", []):
        topic = topics.state(channel_id, sensor["key"])
        publish(topic, reading(sensor))
        current.add(topic)
    for info in status["event_types"]:
        topic = topics.event_state(channel_id, info["name"])
        publish(topic, ON if bridge.active.get((channel_id, info["name"])) else OFF)
        current.add(topic)
        current |= _publish_rules(bridge, channel_id, info)
    _clear_unused(bridge, channel_id, current)


def _publish_rules(bridge: MqttBridge, channel_id: str, info: dict[str, Any]) -> set[str]:
    """The ON/OFF and attributes of each rule the event type's detector declares; returns
    their topics (a rule deleted since is cleared by ``_clear_unused``)."""
    published = set()
    name = info["name"]
    for rule in info.get("rules") or []:
        state = bridge.topics.rule_state(channel_id, name, rule["id"])
        attributes = bridge.topics.rule_attributes(channel_id, name, rule["id"])
        on = bridge.rules.active(channel_id, name, rule["id"])
        body = _json(bridge.rules.attributes(channel_id, name, rule))
        # The target first: a subscriber that sees ON finds the attributes of that event.
        bridge.publish(attributes, body, retain=True, channel=channel_id)
        bridge.publish(state, ON if on else OFF, retain=True, channel=channel_id)
        published |= {state, attributes}
    return published


def publish_device(bridge: MqttBridge) -> None:
    """The ON/OFF of each of the device's own event types (its exceptions: storage error),
    and the value of each of its readings (changed ones only)."""
    info = bridge.runtime.device_info()
    for declared in info["event_types"]:
        active = bridge.active.get(("", declared["name"]))
        bridge.publish(
            bridge.topics.event_state("", declared["name"]), ON if active else OFF, retain=True
        )
    publish_readings(bridge, info)


def publish_readings(bridge: MqttBridge, info: DeviceInfo) -> None:
    """The device's readings (the storage's), changed ones only."""
    for sensor in info.get("sensors", []):
        bridge.publish(bridge.topics.state("", sensor["key"]), reading(sensor), retain=True)


def _clear_unused(bridge: MqttBridge, channel_id: str, current: set[str]) -> None:
    """Empty the retained topics the channel published once but no longer has (e.g. the
    event state of a detector removed from its configuration); forgotten once acknowledged."""
    unused = [
        topic
        for topic, channel in bridge.outbox.retained_topics.items()
        if channel == channel_id and topic not in current and bridge.retained.get(topic) != b""
    ]
    if not unused or not bridge.connected:
        return
    _LOGGER.info("MQTT: clearing %d retained topic(s) %s no longer has", len(unused), channel_id)
    for topic in unused:
        bridge.retained[topic] = b""  # clearing: not again in this session
    waits = [bridge.publish_acked(topic, b"") for topic in unused]

    async def forget() -> None:
        await asyncio.gather(*waits)
        # Not if published again meanwhile (the detector came back).
        bridge.outbox.forget([t for t in unused if bridge.retained.get(t) == b""])

    bridge.spawn(forget(), f"mqtt-clear-unused-{channel_id}")


def remove_channel(bridge: MqttBridge, channel_id: str) -> None:
    """Remove the channel's device from Home Assistant and clear its retained topics (now,
    or on the next connect when the broker is down)."""
    bridge.clear_stale()
    for key in [k for k in bridge.active if k[0] == channel_id]:
        del bridge.active[key]
    bridge.rules.forget(channel_id)
    publish_info(bridge)


def clear_stale(bridge: MqttBridge) -> None:
    """Empty the retained topics (discovery config included) of every channel that is gone:
    removed now, while the broker was down, or from the configuration between two runs. They
    are forgotten once the broker acknowledged the empty messages; until then every connect
    clears them again."""
    if not bridge.connected:
        return  # the next connect does it
    stale: dict[str, list[str]] = {}
    channels = set(bridge.runtime.channel_ids())
    for topic, channel in bridge.outbox.retained_topics.items():
        if channel not in channels:
            stale.setdefault(channel, []).append(topic)
    for channel, topics in stale.items():
        _LOGGER.info("MQTT: clearing the %d retained topic(s) of channel %s", len(topics), channel)
        for topic in topics:
            bridge.retained.pop(topic, None)
        waits = [bridge.publish_acked(topic, b"") for topic in topics]
        bridge.spawn(_forget(bridge, channel, topics, waits), f"mqtt-clear-{channel}")


async def _forget(
    bridge: MqttBridge, channel: str, topics: list[str], waits: list[asyncio.Future[None]]
) -> None:
    await asyncio.gather(*waits)
    if channel not in bridge.runtime.channel_ids():  # not added again meanwhile
        bridge.outbox.forget(topics)
        bridge.outbox.forget_components(channel)  # its device is gone from HA


def publish_discovery(bridge: MqttBridge) -> None:
    topics = bridge.topics
    runtime = bridge.runtime
    bridge.publish(
        topics.discovery(), _json(ha_discovery.runtime_device(topics, runtime.device_info())),
        retain=True, force=True,
    )  # fmt: skip
    for channel_id in runtime.channel_ids():
        publish_channel_discovery(bridge, channel_id, force=True)


def publish_channel_discovery(
    bridge: MqttBridge,
    channel_id: str,
    status: ChannelStatus | None = None,
    *,
    force: bool = False,
) -> None:
    """A channel's device config; unless ``force``, only when it differs from the last one
    published (its capabilities or its name changed)."""
    status = status if status is not None else _status(bridge, channel_id)
    if status is None:
        return
    payload = ha_discovery.channel_device(bridge.topics, channel_id, status)
    cmps: dict[str, Any] = payload["cmps"]
    # Every component ever published (remembered across restarts): one that went away is sent
    # as ``{"p": platform}``, which makes HA remove its entity, for as long as the channel lives.
    gone = bridge.outbox.discovery_components.get(channel_id, {})
    for key, platform in gone.items():
        if key not in cmps:
            cmps[key] = {"p": platform}
    bridge.outbox.remember_components(channel_id, {key: c["p"] for key, c in cmps.items()})
    topic = bridge.topics.discovery(channel_id)
    bridge.publish(topic, _json(payload), retain=True, force=force, channel=channel_id)


def publish_info(bridge: MqttBridge) -> None:
    """The device information (forced), and its readings that changed."""
    device = bridge.runtime.device_info()
    publish_readings(bridge, device)
    info = {
        **device,
        "outbox_pending": bridge.outbox.count,
        "outbox_dropped": bridge.outbox.dropped,
    }
    bridge.publish(bridge.topics.info, _json(info), retain=True, force=True)
