"""Diagnostics: the entry (secrets redacted), the runtime's information, channel statuses and
the events in progress, as the integration sees them."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_TOKEN
from homeassistant.core import HomeAssistant

from .const import CONF_TOKEN_ID
from .data import CameraRuntimeConfigEntry

TO_REDACT = {CONF_TOKEN, CONF_PASSWORD, CONF_TOKEN_ID, "url", "username"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CameraRuntimeConfigEntry
) -> dict[str, Any]:
    data = entry.runtime_data
    client = data.client
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "connected": client.connected,
        "device": data.device,
        "channels": async_redact_data(dict(client.channels), TO_REDACT),
        "active_events": client.active_events(),
    }
