"""An event entity per channel: every motion and video loss event, with its phase and data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import EVENT_TYPES
from .data import CameraRuntimeConfigEntry, CameraRuntimeData, forward_updates
from .entity import ChannelEntity, ChannelEntityDescription, add_channel_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChannelEventDescription(ChannelEntityDescription, EventEntityDescription):
    """The channel's events."""


EVENTS = (
    ChannelEventDescription(key="events", translation_key="events", event_types=list(EVENT_TYPES)),
)


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

    add_channel_entities(entry, async_add_entities, EVENTS, factory)


class ChannelEvent(ChannelEntity, EventEntity):
    """Fires ``motion`` / ``video_loss`` with attributes ``phase`` (``new``, ``end``, and
    ``update`` when the entry's option asks for it), ``event_id``, ``start``, ``end`` and the
    event's data (motion: ``areas``, ``boxes``, ``sensitivity``, ``day_night``)."""

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

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.client.subscribe_events(self._on_event))

    @callback
    def _on_event(self, update: dict[str, Any]) -> None:
        event, phase = update["event"], update.get("phase")
        if event.get("channel") != self.channel_id or event.get("type") not in EVENT_TYPES:
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
