"""Sensors per channel (diagnostic): measured frame rate, and the channel's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntity, ChannelEntityDescription, Status, add_channel_entities

PARALLEL_UPDATES = 0
CHANNEL_STATES = ["starting", "online", "offline", "ended", "stopped"]


@dataclass(frozen=True, kw_only=True)
class ChannelSensorDescription(ChannelEntityDescription, SensorEntityDescription):
    value_fn: Callable[[Status], Any]


SENSORS: tuple[ChannelSensorDescription, ...] = (
    ChannelSensorDescription(
        key="fps",
        translation_key="fps",
        native_unit_of_measurement="fps",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda status: status.get("fps"),
    ),
    ChannelSensorDescription(
        key="state",
        translation_key="state",
        device_class=SensorDeviceClass.ENUM,
        options=CHANNEL_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: (
            status.get("state") if status.get("state") in CHANNEL_STATES else None
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_channel_entities(entry, async_add_entities, lambda status: SENSORS, ChannelSensor)


class ChannelSensor(ChannelEntity, SensorEntity):
    entity_description: ChannelSensorDescription

    @property
    def native_value(self) -> Any:
        return self.entity_description.value_fn(self.status)
