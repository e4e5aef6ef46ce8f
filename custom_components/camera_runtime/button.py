"""Buttons per channel: one per button the channel declares (capture picture...)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntityDescription, ControlEntity, add_channel_entities
from .entity import control_descriptions as _control_descriptions
from .errors import runtime_call

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelButtonDescription(ChannelEntityDescription, ButtonEntityDescription):
    """A declared button."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    describe = _control_descriptions(ChannelButtonDescription, "button")
    add_channel_entities(entry, async_add_entities, describe, ChannelButton)


class ChannelButton(ControlEntity, ButtonEntity):
    entity_description: ChannelButtonDescription

    async def async_press(self) -> None:
        await runtime_call(
            self.data, self.client.press(self.channel_id, self.entity_description.key)
        )
