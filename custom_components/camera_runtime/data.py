"""What a loaded entry holds (``entry.runtime_data``) and how devices are identified."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from camera_runtime.client import RuntimeClient

from .const import CONF_FORWARD_UPDATES, DOMAIN


@dataclass
class CameraRuntimeData:
    """The client of the entry's runtime and the runtime's basic information.

    ``start_reauth`` asks the user for new credentials: called when the runtime refuses the
    entry's token in answer to a command (``runtime_call``), not only when reconnecting."""

    client: RuntimeClient
    device: dict[str, Any]
    start_reauth: Callable[[], None] = field(default=lambda: None, repr=False)
    #: Set when Home Assistant stops: the client's going offline is then no outage to log.
    stopping: bool = False

    @property
    def device_id(self) -> str:
        return str(self.device["device_id"])


type CameraRuntimeConfigEntry = ConfigEntry[CameraRuntimeData]


def runtime_identifier(device_id: str) -> tuple[str, str]:
    """The device registry identifier of a runtime."""
    return (DOMAIN, device_id)


def channel_identifier(device_id: str, channel_id: str) -> tuple[str, str]:
    """The device registry identifier of one channel of a runtime (device ids hold no ``_``)."""
    return (DOMAIN, f"{device_id}_{channel_id}")


def split_channel_identifier(identifier: str) -> tuple[str, str] | None:
    """``(device_id, channel_id)`` of a channel identifier; ``None`` for a runtime's own."""
    device_id, sep, channel_id = identifier.partition("_")
    return (device_id, channel_id) if sep and channel_id else None


def channel_of_device(
    hass: HomeAssistant, device: dr.DeviceEntry | None
) -> tuple[CameraRuntimeConfigEntry, str] | None:
    """The entry and the channel id a device stands for (``None``: not a channel's device);
    the entry may not be loaded."""
    if device is None:
        return None
    for domain, identifier in device.identifiers:
        parsed = split_channel_identifier(identifier) if domain == DOMAIN else None
        if parsed is None:
            continue
        for entry_id in device.config_entries:
            entry = hass.config_entries.async_get_entry(entry_id)
            if entry is not None and entry.domain == DOMAIN:
                return entry, parsed[1]
    return None


def forward_updates(entry: ConfigEntry) -> bool:
    return bool(entry.options.get(CONF_FORWARD_UPDATES, False))
