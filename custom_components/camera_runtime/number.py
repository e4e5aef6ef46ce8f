"""Numbers per channel: one per number the channel declares (a detector's sensitivity...),
with the range the detector's option schema allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import NumberEntity, NumberEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .capabilities import Declared
from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntityDescription, ControlEntity, add_channel_entities
from .entity import control_descriptions as _control_descriptions

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelNumberDescription(ChannelEntityDescription, NumberEntityDescription):
    """A declared number."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    describe = _control_descriptions(ChannelNumberDescription, "number", _number_fields)
    add_channel_entities(entry, async_add_entities, describe, ChannelNumber)


def _number_fields(control: Declared) -> dict[str, Any]:
    """What a number needs beyond the common fields: its range, step and unit."""
    return {
        "native_min_value": float(control["min"]),
        "native_max_value": float(control["max"]),
        "native_step": float(control.get("step") or 1),
        "native_unit_of_measurement": control.get("unit"),
    }


class ChannelNumber(ControlEntity, NumberEntity):
    entity_description: ChannelNumberDescription

    @property
    def native_value(self) -> float | None:
        value = self.control_value
        return float(value) if isinstance(value, int | float) else None

    async def async_set_native_value(self, value: float) -> None:
        # Whole-number controls take 55, not 55.0 (the runtime accepts both).
        await self._set(int(value) if float(value).is_integer() else value)
