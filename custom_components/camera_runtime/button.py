"""Buttons per channel: capture picture."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from camera_runtime.client import RuntimeClient

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntity, ChannelEntityDescription, add_channel_entities
from .errors import runtime_call

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelButtonDescription(ChannelEntityDescription, ButtonEntityDescription):
    press_fn: Callable[[RuntimeClient, str], Awaitable[Any]]


BUTTONS = (
    ChannelButtonDescription(
        key="capture",
        translation_key="capture",
        press_fn=lambda client, channel: client.capture(channel),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_channel_entities(entry, async_add_entities, BUTTONS, ChannelButton)


class ChannelButton(ChannelEntity, ButtonEntity):
    entity_description: ChannelButtonDescription

    async def async_press(self) -> None:
        await runtime_call(
            self.data, self.entity_description.press_fn(self.client, self.channel_id)
        )
