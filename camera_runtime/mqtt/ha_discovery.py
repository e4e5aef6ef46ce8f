"""Home Assistant MQTT discovery payloads, device-based (one message per device).

``<discovery_prefix>/device/<node_id>/config`` carries the device (``dev``), the origin
(``o``: required by HA for device discovery) and its components (``cmps``: ``{object_id:
{"p": platform, ...}}``). The runtime is one device; each channel is a device linked to it with
``via_device``. Every channel entity is available only while both the runtime and the channel
are (``avty_mode: all``). Payloads follow HA 2025.4's ``mqtt/discovery.py`` and ``schemas.py``.

A channel's components come from its status: its declared controls (switch, number, select,
button), event types (binary sensors, and the event entity's types), the rules of each (a
binary sensor per rule, ``<type>_rule_<id>``) and readings (sensors: the record state). No
detector is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import __version__
from .topics import OFF, OFFLINE, ON, ONLINE, PRESS, Topics, segment

SUPPORT_URL = "https://github.com/camera-runtime/camera_runtime"

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
    """The runtime's own device: identity, two diagnostic sensors (channel count, outbox), a
    binary sensor per event type of the device itself (its exceptions: storage error) and a
    sensor per reading it declares (the storage's capacity, free space, status)."""
    node = topics.node_id()
    device: dict[str, Any] = {
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
    for declared in info.get("event_types", []):
        key = segment(declared["name"])
        device["cmps"].setdefault(key, _event_sensor(topics, "", declared, f"{node}_{key}"))
    for declared in info.get("sensors", []):
        key = segment(declared["key"])
        device["cmps"].setdefault(key, _sensor(topics, "", declared, f"{node}_{key}"))
    return device


def _sensor(
    topics: Topics, channel: str, info: Mapping[str, Any], unique_id: str
) -> dict[str, Any]:
    """The sensor of one declared reading (``channel`` ``""``: the device's own), its state on
    ``<channel>/<key>/state``."""
    extra: dict[str, Any] = {}
    for option, key in (
        ("device_class", "device_class"),
        ("state_class", "state_class"),
        ("unit_of_measurement", "unit"),
        ("icon", "icon"),
    ):
        if info.get(key):
            extra[option] = info[key]
    if info.get("options"):
        extra["options"] = list(info["options"])
    if info.get("diagnostic"):
        extra["entity_category"] = "diagnostic"
    return {
        "p": "sensor",
        "name": info["label"],
        "unique_id": unique_id,
        "state_topic": topics.state(channel, info["key"]),
        **extra,
    }


def _event_sensor(
    topics: Topics, channel: str, info: Mapping[str, Any], unique_id: str
) -> dict[str, Any]:
    """The binary sensor of one declared event type (``channel`` ``""``: the device's own)."""
    extra: dict[str, Any] = {}
    if info.get("device_class"):
        extra["device_class"] = info["device_class"]
    if info.get("exception"):
        extra["entity_category"] = "diagnostic"
        # An exception (video loss) must stay visible while the channel itself is offline.
        extra["availability"] = [{"topic": topics.availability}]
    return {
        "p": "binary_sensor",
        "name": info["label"],
        "unique_id": unique_id,
        "state_topic": topics.event_state(channel, info["name"]),
        "payload_on": ON,
        "payload_off": OFF,
        **extra,
    }


def _rule_sensor(
    topics: Topics,
    channel: str,
    info: Mapping[str, Any],
    rule: Mapping[str, Any],
    unique_id: str,
) -> dict[str, Any]:
    """The binary sensor of one declared rule of an event type (a smart event's line or
    region): its event type's sensor, narrowed to the rule, with the rule's attributes."""
    sensor = _event_sensor(topics, channel, info, unique_id)
    return {
        **sensor,
        "name": f"{info['label']} {rule['name']}",
        "state_topic": topics.rule_state(channel, info["name"], rule["id"]),
        "json_attributes_topic": topics.rule_attributes(channel, info["name"], rule["id"]),
    }


def _control(topics: Topics, channel: str, control: Mapping[str, Any]) -> dict[str, Any]:
    """The component of one declared control, by its kind (HA's platform of that name)."""
    key = control["key"]
    extra: dict[str, Any] = {}
    if control.get("config"):
        extra["entity_category"] = "config"
    if control.get("icon"):
        extra["icon"] = control["icon"]
    if control.get("unit"):
        extra["unit_of_measurement"] = control["unit"]
    if control.get("attributes"):
        # The channel status's entry the control shows (a calibrate button's last result).
        extra["json_attributes_topic"] = topics.channel_status(channel)
        extra["json_attributes_template"] = f"{{{{ value_json.{control['attributes']} | tojson }}}}"
    kind = control["kind"]
    command = {"command_topic": topics.command(channel, key)}
    if kind == "button":
        return {**command, "payload_press": PRESS, **extra}
    state = {**command, "state_topic": topics.state(channel, key)}
    if kind == "switch":
        return {**state, "payload_on": ON, "payload_off": OFF, **extra}
    if kind == "number":
        return {
            **state,
            "min": control["min"],
            "max": control["max"],
            "step": control["step"],
            **extra,
        }
    return {**state, "options": list(control["options"]), **extra}  # select


def channel_device(topics: Topics, channel: str, status: Mapping[str, Any]) -> dict[str, Any]:
    """One channel's device, built from its status: the core's camera and frame rate, a
    component per declared control and per event type, and the event entity."""
    node = topics.node_id(channel)
    uid = node

    def entity(platform: str, key: str, entity_name: str | None, **extra: Any) -> dict[str, Any]:
        return {"p": platform, "name": entity_name, "unique_id": f"{uid}_{key}", **extra}

    cmps: dict[str, Any] = {
        "snapshot": entity("camera", "snapshot", None, topic=topics.snapshot(channel)),
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
    for control in status.get("controls", []):
        key = segment(control["key"])
        if key not in cmps:
            cmps[key] = entity(
                control["kind"], key, control["label"], **_control(topics, channel, control)
            )
    for info in status.get("sensors", []):
        key = segment(info["key"])
        if key not in cmps:
            cmps[key] = _sensor(topics, channel, info, f"{uid}_{key}")
    kinds = [t["name"] for t in status.get("event_types", [])]
    for info in status.get("event_types", []):
        key = segment(info["name"])
        if key not in cmps:
            cmps[key] = _event_sensor(topics, channel, info, f"{uid}_{key}")
    for info in status.get("event_types", []):
        for rule in info.get("rules") or []:
            key = f"{segment(info['name'])}_rule_{int(rule['id'])}"
            if key not in cmps:
                cmps[key] = _rule_sensor(topics, channel, info, rule, f"{uid}_{key}")
    cmps["events"] = entity(
        "event",
        "events",
        "Events",
        state_topic=topics.events(channel),
        event_types=[f"{t}_{phase}" for t in kinds for phase in EVENT_PHASES],
        value_template=_EVENT_TEMPLATE,
    )
    return {
        "dev": {
            "ids": [node],
            "name": status.get("name") or channel,
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


__all__ = ["channel_device", "origin", "runtime_device"]
