"""Base entities: names, unique ids, devices and availability, all from the client's pushed
state; and the helper that adds a channel's entities when the channel appears or declares new
ones (dynamic-devices).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import capabilities
from .capabilities import Declared, Status
from .data import CameraRuntimeConfigEntry, CameraRuntimeData, channel_identifier
from .data import runtime_identifier as _runtime_identifier
from .errors import runtime_call


@dataclass(frozen=True, kw_only=True)
class ChannelEntityDescription(EntityDescription):
    """A channel entity as data; a platform builds them per channel from its status (for a
    declared control or event type) or lists fixed ones (the camera, the frame rate)."""


class CameraRuntimeEntity(Entity):
    """Pushed, never polled; unavailable while the runtime is unreachable."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, data: CameraRuntimeData, description: EntityDescription) -> None:
        self.entity_description = description
        self.data = data
        self.client = data.client

    @property
    def available(self) -> bool:
        return self.client.connected

    async def async_added_to_hass(self) -> None:
        self.async_on_remove(self.client.subscribe_connection(self._on_connection))

    @callback
    def _on_connection(self, connected: bool) -> None:
        self.async_write_ha_state()


class RuntimeEntity(CameraRuntimeEntity):
    """An entity of the runtime device itself."""

    def __init__(self, data: CameraRuntimeData, description: EntityDescription) -> None:
        super().__init__(data, description)
        self._attr_unique_id = f"{data.device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={_runtime_identifier(data.device_id)})


class ChannelEntity(CameraRuntimeEntity):
    """An entity of one channel, on the channel's device (linked to the runtime's)."""

    def __init__(
        self, data: CameraRuntimeData, channel_id: str, description: EntityDescription
    ) -> None:
        super().__init__(data, description)
        self.channel_id = channel_id
        self._attr_unique_id = f"{data.device_id}_{channel_id}_{description.key}"
        status = self.status
        self._attr_device_info = DeviceInfo(
            identifiers={channel_identifier(data.device_id, channel_id)},
            via_device=_runtime_identifier(data.device_id),
            manufacturer="camera_runtime",
            model=f"{status.get('source', 'camera')} channel",
            name=status.get("name") or channel_id,
            # The runtime's web page (it has no page per channel yet); none when embedded.
            configuration_url=data.client.web_url,
        )

    @property
    def status(self) -> Status:
        """The channel's last pushed status (empty once the channel is gone)."""
        return self.client.channels.get(self.channel_id) or {}

    @property
    def available(self) -> bool:
        return self.client.connected and self.channel_id in self.client.channels

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.client.subscribe_channels(self._on_channel_update))

    @callback
    def _on_channel_update(self, update: dict[str, Any]) -> None:
        if update.get("channel") == self.channel_id:
            self._handle_status()
            self.async_write_ha_state()

    @callback
    def _handle_status(self) -> None:
        """Hook for entities that derive attributes from the status."""


def add_channel_entities[D: ChannelEntityDescription](
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    describe: Callable[[Status], Iterable[D]],
    factory: Callable[[CameraRuntimeData, str, D], Entity],
) -> None:
    """Add each channel's entities now, and for channels added later or whose status newly
    declares one (a detector added, the motion detector switched to normal mode...).

    ``describe`` turns a channel's status into the descriptions of the entities it has; an
    entity whose description a later status no longer lists stays, unavailable (its
    ``available`` checks the status), so its history and automations survive a change back.
    """
    data = entry.runtime_data
    added: set[tuple[str, str]] = set()

    @callback
    def add(channel_id: str) -> None:
        status = data.client.channels.get(channel_id)
        if status is None:
            return
        new = []
        for description in describe(status):
            if (channel_id, description.key) in added:
                continue
            added.add((channel_id, description.key))
            new.append(factory(data, channel_id, description))
        if new:
            async_add_entities(new)

    @callback
    def on_channel(update: dict[str, Any]) -> None:
        channel_id = update["channel"]
        if update.get("change") == "removed":
            for key in [k for k in added if k[0] == channel_id]:
                added.discard(key)
        else:
            add(channel_id)

    for channel_id in list(data.client.channels):
        add(channel_id)
    entry.async_on_unload(data.client.subscribe_channels(on_channel))


class ControlEntity(ChannelEntity):
    """The entity of one control the channel declares (its description's key is the
    control's); unavailable while the channel does not offer it."""

    @property
    def control(self) -> Declared | None:
        return capabilities.control(self.status, self.entity_description.key)

    @property
    def control_value(self) -> Any:
        found = self.control
        return found.get("value") if found is not None else None

    @property
    def available(self) -> bool:
        return super().available and self.control is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The status entry the control declares as its attributes (a calibrate button's
        last result: state, error words, time)."""
        found = self.control
        name = found.get("attributes") if found is not None else None
        shown = self.status.get(name) if isinstance(name, str) else None
        return dict(shown) if isinstance(shown, dict) else None

    async def _set(self, value: Any) -> None:
        await runtime_call(
            self.data, self.client.set_control(self.channel_id, self.entity_description.key, value)
        )


def control_descriptions[D: ChannelEntityDescription](
    cls: Callable[..., D],
    kind: str,
    fields: Callable[[Declared], dict[str, Any]] = lambda _control: {},
) -> Callable[[Status], list[D]]:
    """``describe`` for ``add_channel_entities``: one description of type ``cls`` per control
    of ``kind`` the status declares, with the platform's own ``fields`` of it. The declared
    label names the entity where the integration has no translation for it (a third-party
    plugin's control)."""

    def describe(status: Status) -> list[D]:
        return [
            cls(
                key=c["key"],
                translation_key=c.get("translation_key") or c["key"],
                name=c.get("label") or c["key"],
                entity_category=EntityCategory.CONFIG if c.get("config") else None,
                **fields(c),
            )
            for c in capabilities.controls(status, kind)
        ]

    return describe
