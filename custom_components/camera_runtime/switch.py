"""Switches per channel: arming (the manual's arming switch) and motion detection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from camera_runtime.client import RuntimeClient

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntity, ChannelEntityDescription, Status, add_channel_entities
from .entity import has_motion as _has_motion
from .errors import runtime_call

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelSwitchDescription(ChannelEntityDescription, SwitchEntityDescription):
    value_fn: Callable[[Status], bool]
    set_fn: Callable[[RuntimeClient, str, bool], Awaitable[Any]]


SWITCHES: tuple[ChannelSwitchDescription, ...] = (
    ChannelSwitchDescription(
        key="arming",
        translation_key="arming",
        value_fn=lambda status: bool(status.get("armed")),
        set_fn=lambda client, channel, on: client.set_armed(channel, on),
    ),
    ChannelSwitchDescription(
        key="motion_detection",
        translation_key="motion_detection",
        entity_category=EntityCategory.CONFIG,
        supported_fn=_has_motion,
        value_fn=lambda status: bool(status["detectors"]["motion"].get("enabled")),
        set_fn=lambda client, channel, on: client.set_detector(channel, "motion", enabled=on),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_channel_entities(entry, async_add_entities, SWITCHES, ChannelSwitch)


class ChannelSwitch(ChannelEntity, SwitchEntity):
    entity_description: ChannelSwitchDescription

    @property
    def available(self) -> bool:
        return super().available and self.entity_description.supported_fn(self.status)

    @property
    def is_on(self) -> bool:
        return self.entity_description.value_fn(self.status)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await runtime_call(
            self.data, self.entity_description.set_fn(self.client, self.channel_id, True)
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        await runtime_call(
            self.data, self.entity_description.set_fn(self.client, self.channel_id, False)
        )
