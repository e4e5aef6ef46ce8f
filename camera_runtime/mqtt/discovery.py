"""Home Assistant MQTT discovery payloads, device-based (one message per device).

``<discovery_prefix>/device/<node_id>/config`` carries the device (``dev``), the origin
(``o``: required by HA for device discovery) and its components (``cmps``: ``{object_id:
{"p": platform, ...}}``). The runtime is one device; each channel is a device linked to it with
``via_device``. Every channel entity is available only while both the runtime and the channel
are (``avty_mode: all``). Payloads follow HA 2025.4's ``mqtt/discovery.py`` and ``schemas.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import __version__
from ..model import EventType
from .topics import OFF, OFFLINE, ON, ONLINE, Topics, segment

SUPPORT_URL = "https://github.com/camera-runtime/camera-runtime"

#: Binary sensor device class per event type; types not listed get none.
EVENT_DEVICE_CLASSES: dict[str, str] = {
    EventType.MOTION.value: "motion",
    EventType.VIDEO_LOSS.value: "problem",
}

#: The phases an event entity fires, per event type (``<type>_<phase>``).
EVENT_PHASES = ("new", "update", "end")

#: The event entity turns our event JSON into HA's ``{"event_type": ...}`` payload.
_EVENT_TEMPLATE = (
    "{{ {'event_type': value_json.event_type ~ '_' ~ value_json.type, "
    "'event_id': value_json.id, 'channel': value_json.channel, "
    "'start': value_json.start, 'end': value_json.end} | tojson }}"
)


def origin() -> dict[str, str]:
    return {"name": "camera_runtime", "sw": __version__, "url": SUPPORT_URL}


def runtime_device(topics: Topics, info: Mapping[str, Any]) -> dict[str, Any]:
    """The runtime's own device: identity and two diagnostic sensors (channel count, outbox)."""
    node = topics.node_id()
    return {
        "dev": {
            "ids": [node],
            "name": info["device_name"],
            "mf": "camera_runtime",
            "mdl": info["model"],
            "sw": info["firmware_version"],
            "sn": info["serial_no"],
        },
        "o": origin(),
        "avty": [{"topic": topics.availability}],
        "cmps": {
            "channels": {
                "p": "sensor",
                "name": "Channels",
                "unique_id": f"{node}_channels",
                "state_topic": topics.info,
                "value_template": "{{ value_json.channels }}",
                "entity_category": "diagnostic",
                "icon": "mdi:cctv",
            },
            "outbox": {
                "p": "sensor",
                "name": "MQTT outbox",
                "unique_id": f"{node}_outbox",
                "state_topic": topics.info,
                "value_template": "{{ value_json.outbox_pending }}",
                "unit_of_measurement": "messages",
                "state_class": "measurement",
                "entity_category": "diagnostic",
                "icon": "mdi:tray-full",
            },
        },
    }


def event_types(detector_kinds: list[str]) -> list[str]:
    """Event types a channel can raise: its detectors' plus video loss (every channel)."""
    types = [kind for kind in detector_kinds if kind != EventType.VIDEO_LOSS.value]
    return [*types, EventType.VIDEO_LOSS.value]


def channel_device(
    topics: Topics,
    channel: str,
    name: str,
    detectors: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """One channel's device. ``detectors`` maps kind -> current options (its ``mode`` decides
    whether the sensitivity number is offered: only in normal mode)."""
    node = topics.node_id(channel)
    uid = node

    def entity(platform: str, key: str, entity_name: str | None, **extra: Any) -> dict[str, Any]:
        return {"p": platform, "name": entity_name, "unique_id": f"{uid}_{key}", **extra}

    cmps: dict[str, Any] = {
        "snapshot": entity("camera", "snapshot", None, topic=topics.snapshot(channel)),
        "arming": entity(
            "switch",
            "arming",
            "Arming",
            command_topic=topics.command(channel, "arming"),
            state_topic=topics.state(channel, "arming"),
            payload_on=ON,
            payload_off=OFF,
            icon="mdi:shield-check",
        ),
        "capture": entity(
            "button",
            "capture",
            "Capture picture",
            command_topic=topics.command(channel, "capture"),
            payload_press="PRESS",
            icon="mdi:camera-iris",
        ),
        "fps": entity(
            "sensor",
            "fps",
            "Frame rate",
            state_topic=topics.channel_status(channel),
            value_template="{{ value_json.fps }}",
            unit_of_measurement="fps",
            state_class="measurement",
            entity_category="diagnostic",
            suggested_display_precision=1,
        ),
    }
    kinds = event_types(list(detectors))
    for event_type in kinds:
        key = segment(event_type)
        extra: dict[str, Any] = {}
        if event_type in EVENT_DEVICE_CLASSES:
            extra["device_class"] = EVENT_DEVICE_CLASSES[event_type]
        if event_type == EventType.VIDEO_LOSS.value:
            extra["entity_category"] = "diagnostic"
            # Video loss must stay visible while the channel itself is offline.
            extra["availability"] = [{"topic": topics.availability}]
        cmps[key] = entity(
            "binary_sensor",
            key,
            event_type.replace("_", " ").capitalize(),
            state_topic=topics.event_state(channel, event_type),
            payload_on=ON,
            payload_off=OFF,
            **extra,
        )
    cmps["events"] = entity(
        "event",
        "events",
        "Events",
        state_topic=topics.events(channel),
        event_types=[f"{t}_{phase}" for t in kinds for phase in EVENT_PHASES],
        value_template=_EVENT_TEMPLATE,
    )
    if "motion" in detectors:
        cmps["motion_detection"] = entity(
            "switch",
            "motion_detection",
            "Motion detection",
            command_topic=topics.command(channel, "motion"),
            state_topic=topics.state(channel, "motion"),
            payload_on=ON,
            payload_off=OFF,
            entity_category="config",
            icon="mdi:motion-sensor",
        )
        if detectors["motion"].get("mode", "normal") == "normal":
            cmps["motion_sensitivity"] = entity(
                "number",
                "motion_sensitivity",
                "Motion sensitivity",
                command_topic=topics.command(channel, "motion_sensitivity"),
                state_topic=topics.state(channel, "motion_sensitivity"),
                min=0,
                max=100,
                step=1,
                mode="slider",
                entity_category="config",
            )
    return {
        "dev": {
            "ids": [node],
            "name": name,
            "mf": "camera_runtime",
            "mdl": "camera channel",
            "via_device": topics.node_id(),
        },
        "o": origin(),
        "avty": [
            {"topic": topic, "payload_available": ONLINE, "payload_not_available": OFFLINE}
            for topic in (topics.availability, topics.channel_availability(channel))
        ],
        "avty_mode": "all",
        "cmps": cmps,
    }


__all__ = ["EVENT_DEVICE_CLASSES", "channel_device", "event_types", "origin", "runtime_device"]
