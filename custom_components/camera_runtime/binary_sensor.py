"""Binary sensors: one per event type a channel declares (motion, video loss, a plugin's own;
on while such an event is active), one per rule of a detector that declares rules (a smart
event's lines and regions: on while an event of that rule is active), and the runtime's
connectivity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import capabilities
from .capabilities import DEVICE, Status
from .data import CameraRuntimeConfigEntry
from .entity import (
    ChannelEntity,
    ChannelEntityDescription,
    RuntimeEntity,
    add_channel_entities,
)

PARALLEL_UPDATES = 0

#: What a rule's sensor shows of its newest event's target (as the MQTT discovery's does).
TARGET_KEYS = ("box", "track_id", "direction")


@dataclass(frozen=True, kw_only=True)
class EventBinarySensorDescription(ChannelEntityDescription, BinarySensorEntityDescription):
    """On while the channel has an active event of the type named by ``key`` (or by
    ``event_type``, with ``rule_id``: of that rule)."""

    event_type: str = ""
    rule_id: int | None = None

    @property
    def watched_type(self) -> str:
        return self.event_type or self.key

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether an event (its type checked by the caller) is one this sensor shows."""
        data = event.get("data") or {}
        return self.rule_id is None or data.get("rule_id") == self.rule_id


def _device_class(value: Any) -> BinarySensorDeviceClass | None:
    """The declared device class, if Home Assistant knows it (else none: a plain sensor)."""
    try:
        return BinarySensorDeviceClass(value) if value else None
    except ValueError:
        return None


def describe_event_types(status: Status) -> list[EventBinarySensorDescription]:
    """One binary sensor per event type the channel declares, then one per rule of each;
    exceptions (video loss) among the device's diagnostics."""
    found = []
    for info in capabilities.event_types(status):
        name = info["name"]
        label = info.get("label") or name
        device_class = _device_class(info.get("device_class"))
        found.append(
            EventBinarySensorDescription(
                key=name,
                translation_key=info.get("translation_key") or name,
                name=label,
                device_class=device_class,
                entity_category=EntityCategory.DIAGNOSTIC if info.get("exception") else None,
            )
        )
        found.extend(
            EventBinarySensorDescription(
                key=f"{name}_rule_{rule['id']}",
                event_type=name,
                rule_id=rule["id"],
                name=f"{label} {rule['name']}",
                device_class=device_class,
            )
            for rule in capabilities.event_type_rules(info)
        )
    return found


@dataclass(frozen=True, kw_only=True)
class RecordingSensorDescription(ChannelEntityDescription, BinarySensorEntityDescription):
    """On while the channel writes a segment (its record state)."""


RECORDING = RecordingSensorDescription(key="recording", translation_key="recording")


def describe_recording(status: Status) -> list[RecordingSensorDescription]:
    """A recording channel (``recording`` in its status is not null) has its record state."""
    return [RECORDING] if status.get("recording") is not None else []


CONNECTIVITY = BinarySensorEntityDescription(
    key="connectivity",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    data = entry.runtime_data
    async_add_entities(
        [
            ConnectivitySensor(data, CONNECTIVITY),
            *(DeviceEventSensor(data, d) for d in describe_event_types(data.device)),
        ]
    )
    add_channel_entities(entry, async_add_entities, describe_event_types, EventBinarySensor)
    add_channel_entities(entry, async_add_entities, describe_recording, RecordingSensor)


class RecordingSensor(ChannelEntity, BinarySensorEntity):
    """The record state, from the channel's pushed status."""

    entity_description: RecordingSensorDescription

    @property
    def is_on(self) -> bool:
        return bool(self.status.get("recording"))

    @property
    def available(self) -> bool:
        return super().available and self.status.get("recording") is not None


class _EventSensor(BinarySensorEntity):
    """On while ``event_channel`` (a channel's id, or ``DEVICE``: the runtime's own) has an
    active event of the type named by the description's key; pushed, never polled."""

    entity_description: EventBinarySensorDescription
    client: Any
    event_channel: str

    @property
    def is_on(self) -> bool:
        description = self.entity_description
        active = self.client.active_events(self.event_channel, description.watched_type)
        return any(description.matches(event) for event in active)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.client.subscribe_events(self._on_event))

    @callback
    def _on_event(self, update: dict[str, Any]) -> None:
        event = update["event"]
        if (
            event.get("channel") == self.event_channel
            and event.get("type") == self.entity_description.watched_type
            and self.entity_description.matches(event)
        ):
            self._seen(event)
            self.async_write_ha_state()

    def _seen(self, event: dict[str, Any]) -> None:
        """An event this sensor shows changed (before its state is written)."""


class EventBinarySensor(_EventSensor, ChannelEntity):
    """A channel's declared event type, or one rule of it; a rule's sensor has the rule's
    attributes (id, name, event type) and its newest event's target (box, track id,
    direction; ``None`` before the first)."""

    _target: dict[str, Any] | None = None

    def _seen(self, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        self._target = {key: data.get(key) for key in TARGET_KEYS}

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        description = self.entity_description
        if description.rule_id is None:
            return None
        declared = {info["name"]: info for info in capabilities.event_types(self.status)}
        rules = capabilities.event_type_rules(declared.get(description.watched_type) or {})
        name = next((r["name"] for r in rules if r["id"] == description.rule_id), None)
        target = self._target or {}
        return {
            "rule_id": description.rule_id,
            "rule": name,
            "event_type": description.watched_type,
            **{key: target.get(key) for key in TARGET_KEYS},
        }

    @property
    def event_channel(self) -> str:  # type: ignore[override]
        return self.channel_id

    @property
    def available(self) -> bool:
        """Unavailable once the channel no longer declares the event type (or the rule)."""
        description = self.entity_description
        declared = {info["name"]: info for info in capabilities.event_types(self.status)}
        info = declared.get(description.watched_type)
        if info is None or not super().available:
            return False
        rules = {rule["id"] for rule in capabilities.event_type_rules(info)}
        return description.rule_id is None or description.rule_id in rules


class DeviceEventSensor(_EventSensor, RuntimeEntity):
    """The runtime's own event types (its exceptions: a storage error)."""

    event_channel = DEVICE


class ConnectivitySensor(RuntimeEntity, BinarySensorEntity):
    """Whether Home Assistant reaches the runtime; itself always available."""

    @property
    def available(self) -> bool:
        return True

    @property
    def is_on(self) -> bool:
        return self.client.connected
