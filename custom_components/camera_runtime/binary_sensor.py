"""Binary sensors: motion and video loss per channel (on while such an event is active), and
the runtime's connectivity."""

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

from .data import CameraRuntimeConfigEntry
from .entity import (
    ChannelEntity,
    ChannelEntityDescription,
    RuntimeEntity,
    add_channel_entities,
    has_motion,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class EventBinarySensorDescription(ChannelEntityDescription, BinarySensorEntityDescription):
    """On while the channel has an active event of ``event_type``."""

    event_type: str


CHANNEL_SENSORS: tuple[EventBinarySensorDescription, ...] = (
    EventBinarySensorDescription(
        key="motion",
        translation_key="motion",
        device_class=BinarySensorDeviceClass.MOTION,
        event_type="motion",
        supported_fn=has_motion,
    ),
    EventBinarySensorDescription(
        key="video_loss",
        translation_key="video_loss",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        event_type="video_loss",
    ),
)
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
    async_add_entities([ConnectivitySensor(entry.runtime_data, CONNECTIVITY)])
    add_channel_entities(entry, async_add_entities, CHANNEL_SENSORS, EventBinarySensor)


class EventBinarySensor(ChannelEntity, BinarySensorEntity):
    entity_description: EventBinarySensorDescription

    @property
    def is_on(self) -> bool:
        return bool(self.client.active_events(self.channel_id, self.entity_description.event_type))

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.client.subscribe_events(self._on_event))

    @callback
    def _on_event(self, update: dict[str, Any]) -> None:
        event = update["event"]
        if (
            event.get("channel") == self.channel_id
            and event.get("type") == self.entity_description.event_type
        ):
            self.async_write_ha_state()


class ConnectivitySensor(RuntimeEntity, BinarySensorEntity):
    """Whether Home Assistant reaches the runtime; itself always available."""

    @property
    def available(self) -> bool:
        return True

    @property
    def is_on(self) -> bool:
        return self.client.connected
