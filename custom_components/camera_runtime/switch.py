"""Switches per channel: one per switch the channel declares (the arming switch, each
detector's on/off...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntityDescription, ControlEntity, add_channel_entities
from .entity import control_descriptions as _control_descriptions

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelSwitchDescription(ChannelEntityDescription, SwitchEntityDescription):
    """A declared switch."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    describe = _control_descriptions(ChannelSwitchDescription, "switch")
    add_channel_entities(entry, async_add_entities, describe, ChannelSwitch)


class ChannelSwitch(ControlEntity, SwitchEntity):
    entity_description: ChannelSwitchDescription

    @property
    def is_on(self) -> bool:
        return bool(self.control_value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set(False)
