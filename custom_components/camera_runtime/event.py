"""An event entity per channel: every event of the types the channel declares, with its phase
and data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import capabilities
from .data import CameraRuntimeConfigEntry, CameraRuntimeData, forward_updates
from .entity import ChannelEntity, ChannelEntityDescription, add_channel_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelEventDescription(ChannelEntityDescription, EventEntityDescription):
    """The channel's events."""


EVENTS = (ChannelEventDescription(key="events", translation_key="events"),)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    updates = forward_updates(entry)

    def factory(
        data: CameraRuntimeData, channel_id: str, description: ChannelEventDescription
    ) -> ChannelEvent:
        return ChannelEvent(data, channel_id, description, updates)

    add_channel_entities(entry, async_add_entities, lambda status: EVENTS, factory)


class ChannelEvent(ChannelEntity, EventEntity):
    """Fires the event's type (``motion``, ``video_loss``...: the types the channel declares)
    with attributes ``phase`` (``new``, ``end``, and ``update`` when the entry's option asks
    for it), ``event_id``, ``start``, ``end`` and the event's data."""

    entity_description: ChannelEventDescription

    def __init__(
        self,
        data: CameraRuntimeData,
        channel_id: str,
        description: ChannelEventDescription,
        updates: bool,
    ) -> None:
        super().__init__(data, channel_id, description)
        self._updates = updates
        self._handle_status()

    @callback
    def _handle_status(self) -> None:
        """The event types follow the channel's declarations (a detector added or removed)."""
        self._attr_event_types = capabilities.event_type_names(self.status)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.client.subscribe_events(self._on_event))

    @callback
    def _on_event(self, update: dict[str, Any]) -> None:
        event, phase = update["event"], update.get("phase")
        if event.get("channel") != self.channel_id or event.get("type") not in self.event_types:
            return
        if phase == "update" and not self._updates:
            return
        self._trigger_event(
            event["type"],
            {
                **(event.get("data") or {}),
                "phase": phase,
                "event_id": event["id"],
                "start": event.get("start"),
                "end": event.get("end"),
            },
        )
        self.async_write_ha_state()
