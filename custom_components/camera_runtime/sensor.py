"""Sensors: per channel its measured frame rate and state (diagnostic), and every reading the
runtime declares (``sensors`` in a channel's status: the record state; in the device
information: the storage's capacity, used and free bytes, status), built from the declaration,
so no reading is named here. The device's readings are not pushed: one coordinator fetches the
device information every minute for all of them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from camera_runtime.client import CameraRuntimeError

from .data import CameraRuntimeConfigEntry, CameraRuntimeData
from .entity import (
    ChannelEntity,
    ChannelEntityDescription,
    RuntimeEntity,
    Status,
    add_channel_entities,
)

_LOGGER = logging.getLogger(__name__)
PARALLEL_UPDATES = 0
#: How often the device's readings (the storage's) are fetched.
DEVICE_READINGS_INTERVAL = timedelta(minutes=1)
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


def readings(status: Status) -> list[dict[str, Any]]:
    """The readings a status declares (``sensors``: a channel's or the device's)."""
    found = status.get("sensors") or []
    return [r for r in found if isinstance(r, dict) and isinstance(r.get("key"), str)]


def _reading(status: Status, key: str) -> dict[str, Any] | None:
    return next((r for r in readings(status) if r["key"] == key), None)


def _enum[E](kind: type[E], value: Any) -> E | None:
    """The declared class, if Home Assistant knows it (else none: a plain sensor)."""
    try:
        return kind(value) if value else None  # type: ignore[call-arg]
    except ValueError:
        return None


def describe_reading(info: dict[str, Any]) -> ChannelSensorDescription:
    """A declared reading as a sensor description; sizes shown in GB (declared in bytes)."""
    key = info["key"]
    device_class = _enum(SensorDeviceClass, info.get("device_class"))
    size = device_class is SensorDeviceClass.DATA_SIZE
    return ChannelSensorDescription(
        key=key,
        translation_key=info.get("translation_key") or key,
        name=info.get("label") or key,
        native_unit_of_measurement=info.get("unit"),
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES if size else None,
        suggested_display_precision=2 if size else None,
        device_class=device_class,
        state_class=_enum(SensorStateClass, info.get("state_class")),
        options=list(info["options"]) if info.get("options") else None,
        entity_category=EntityCategory.DIAGNOSTIC if info.get("diagnostic") else None,
        icon=info.get("icon"),
        value_fn=lambda status: (_reading(status, key) or {}).get("value"),
    )


def _describe_channel(status: Status) -> list[ChannelSensorDescription]:
    return [*SENSORS, *(describe_reading(info) for info in readings(status))]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    data = entry.runtime_data
    add_channel_entities(entry, async_add_entities, _describe_channel, ChannelSensor)
    declared = readings(data.device)
    if not declared:
        return

    async def fetch() -> dict[str, Any]:
        try:
            return await data.client.device_info()
        except CameraRuntimeError as err:
            raise UpdateFailed(f"cannot read the device information: {err}") from err

    coordinator: DataUpdateCoordinator[dict[str, Any]] = DataUpdateCoordinator(
        hass,
        _LOGGER,
        config_entry=entry,
        name="camera_runtime device readings",
        update_method=fetch,
        update_interval=DEVICE_READINGS_INTERVAL,
    )
    coordinator.async_set_updated_data(data.device)  # what setup fetched: no second call
    async_add_entities(
        RuntimeSensor(data, describe_reading(info), coordinator) for info in declared
    )


class ChannelSensor(ChannelEntity, SensorEntity):
    entity_description: ChannelSensorDescription

    @property
    def native_value(self) -> Any:
        return self.entity_description.value_fn(self.status)


class RuntimeSensor(RuntimeEntity, SensorEntity):
    """A reading of the runtime itself (the storage's), from the coordinator's last fetch."""

    entity_description: ChannelSensorDescription

    def __init__(
        self,
        data: CameraRuntimeData,
        description: ChannelSensorDescription,
        coordinator: DataUpdateCoordinator[dict[str, Any]],
    ) -> None:
        super().__init__(data, description)
        self.coordinator = coordinator

    @property
    def available(self) -> bool:
        return super().available and self.coordinator.last_update_success

    @property
    def native_value(self) -> Any:
        return self.entity_description.value_fn(self.coordinator.data or {})

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_listener(self._on_update))

    @callback
    def _on_update(self) -> None:
        self.async_write_ha_state()
