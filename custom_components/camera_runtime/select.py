"""Selects per channel: one per select the channel declares (a detector option with a fixed
set of values)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntityDescription, ControlEntity, add_channel_entities
from .entity import control_descriptions as _control_descriptions

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelSelectDescription(ChannelEntityDescription, SelectEntityDescription):
    """A declared select."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    describe = _control_descriptions(ChannelSelectDescription, "select")
    add_channel_entities(entry, async_add_entities, describe, ChannelSelect)


class ChannelSelect(ControlEntity, SelectEntity):
    entity_description: ChannelSelectDescription

    @property
    def options(self) -> list[str]:
        found = self.control
        return [str(o) for o in found.get("options", [])] if found is not None else []

    @property
    def current_option(self) -> str | None:
        value = self.control_value
        return value if isinstance(value, str) and value in self.options else None

    async def async_select_option(self, option: str) -> None:
        await self._set(option)
