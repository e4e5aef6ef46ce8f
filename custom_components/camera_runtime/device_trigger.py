"""Device triggers of a channel: ``<event type>_started`` and ``<event type>_ended`` for every
event type the channel declares (motion, video loss, a plugin's own).

They listen to ``camera_runtime_event`` on Home Assistant's bus (fired for every event start
and end), matched on the channel's device id, the event type and the phase.
"""

from __future__ import annotations

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_PLATFORM, CONF_TYPE
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType

from . import capabilities
from .capabilities import Status
from .const import DOMAIN, EVENT_CAMERA_RUNTIME
from .data import channel_of_device

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        vol.Required(CONF_TYPE): vol.All(
            str, vol.Match(r"^[a-z][a-z0-9_]*_(started|ended)$", msg="not a trigger type")
        )
    }
)


def _channel_status(hass: HomeAssistant, device_id: str) -> Status | None:
    """The pushed status of the channel a device stands for (``None``: not a channel, or its
    runtime's entry is not loaded)."""
    found = channel_of_device(hass, dr.async_get(hass).async_get(device_id))
    if found is None or found[0].state is not ConfigEntryState.LOADED:
        return None
    entry, channel_id = found
    return entry.runtime_data.client.channels.get(channel_id)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """The trigger types of a channel device, from the event types it declares; none for the
    runtime's own device."""
    status = _channel_status(hass, device_id)
    if status is None:
        return []
    return [
        {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: t}
        for t in capabilities.trigger_types(status)
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    parsed = capabilities.split_trigger_type(config[CONF_TYPE])
    assert parsed is not None  # TRIGGER_SCHEMA checked it
    event_type, phase = parsed
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: "event",
            "event_type": EVENT_CAMERA_RUNTIME,
            "event_data": {
                CONF_DEVICE_ID: config[CONF_DEVICE_ID],
                "type": event_type,
                "phase": phase,
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
