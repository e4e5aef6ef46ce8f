"""A channel's capabilities as its status declares them: the event types and controls that the
runtime's plugins declare. Every such entity, device trigger and event type of a channel is
built from here, so a third-party detector reaches Home Assistant without this integration
knowing its name."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass

Status = dict[str, Any]
Declared = dict[str, Any]

#: The ``channel`` of the runtime's own events (not a channel's: a storage error).
DEVICE = ""

#: Trigger type suffix -> event phase: ``<event type>_started`` / ``<event type>_ended``.
TRIGGER_PHASES = {"started": "new", "ended": "end"}


def controls(status: Status, kind: str | None = None) -> list[Declared]:
    """The channel's controls (of one kind: ``switch``, ``number``, ``select``, ``button``)."""
    found = status.get("controls") or []
    return [c for c in found if isinstance(c, dict) and (kind is None or c.get("kind") == kind)]


def control(status: Status, key: str) -> Declared | None:
    """One control by key (``None`` once the channel no longer offers it)."""
    return next((c for c in controls(status) if c.get("key") == key), None)


def event_types(status: Status) -> list[Declared]:
    """The event types the channel may raise, in the order the runtime lists them."""
    found = status.get("event_types") or []
    return [t for t in found if isinstance(t, dict) and isinstance(t.get("name"), str)]


def event_type_rules(info: Declared) -> list[dict[str, Any]]:
    """The rules an event type's detector declares (``id`` and ``name`` each): a sensor per
    rule shows that rule's events (``data.rule_id``)."""
    rules = info.get("rules") or []
    return [
        r
        for r in rules
        if isinstance(r, dict) and isinstance(r.get("id"), int) and isinstance(r.get("name"), str)
    ]


def event_type_names(status: Status) -> list[str]:
    return [t["name"] for t in event_types(status)]


def trigger_types(status: Status) -> list[str]:
    """Device trigger types: ``<event type>_started`` and ``_ended`` per event type."""
    return [f"{name}_{suffix}" for name in event_type_names(status) for suffix in TRIGGER_PHASES]


def split_trigger_type(trigger_type: str) -> tuple[str, str] | None:
    """``motion_started`` -> (``motion``, ``new``); ``None`` when it is not a trigger type."""
    event_type, _, suffix = trigger_type.rpartition("_")
    phase = TRIGGER_PHASES.get(suffix)
    return (event_type, phase) if event_type and phase else None


def motion_detection_switch(status: Status) -> Declared | None:
    """The switch that turns on the detector raising the channel's ``motion`` device-class
    events: Home Assistant's camera calls it the camera's motion detection."""
    detectors = {
        t.get("detector")
        for t in event_types(status)
        if t.get("device_class") == BinarySensorDeviceClass.MOTION
    }
    return next(
        (
            c
            for c in controls(status, "switch")
            if c.get("sets") == "enabled" and c.get("detector") in detectors - {None}
        ),
        None,
    )
