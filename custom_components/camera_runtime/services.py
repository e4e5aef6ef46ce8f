"""Actions (services) of the integration: arm, disarm, capture picture, record clip and set image
stage on channels (the camera actions of the linkage blueprints in ``blueprints/``).

Registered once in ``async_setup`` (quality rule action-setup); a call names its channels as a
target: channel devices, entities of channel devices (the camera, any of its switches), or
areas, floors and labels holding them.
Errors are translated: an unknown or unloaded target is the caller's mistake
(``ServiceValidationError``), a runtime that fails is a ``HomeAssistantError``.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service import (
    ServiceTargetSelector,
    async_extract_referenced_entity_ids,
)

from .const import DOMAIN
from .data import CameraRuntimeConfigEntry, channel_of_device
from .errors import runtime_call

SERVICE_ARM = "arm"
SERVICE_DISARM = "disarm"
SERVICE_CAPTURE_PICTURE = "capture_picture"
SERVICE_SET_IMAGE_STAGE = "set_image_stage"
SERVICE_RECORD_CLIP = "record_clip"

#: Home Assistant's own target fields: entities, devices, areas, floors and labels.
TARGET_SCHEMA = vol.Schema(cv.ENTITY_SERVICE_FIELDS)
#: An image stage of the targeted channels (``rotate``, ``privacy_mask``, ``osd``...: the
#: kinds their status lists), switched and/or given options, which the runtime checks against
#: the stage's own schema: a refusal names the option.
SET_IMAGE_STAGE_SCHEMA = vol.Schema(
    {
        **cv.ENTITY_SERVICE_FIELDS,
        vol.Required("stage"): cv.string,
        vol.Optional("enabled"): cv.boolean,
        vol.Optional("options"): dict,
    }
)

#: The linkage action "record": ``pre`` s before the call (5 by default, as far back as the
#: channel's pre-record ring reaches), ``length`` s long (30). The bounds are the runtime API's
#: (``POST /api/channels/{id}/record/clip``), checked here too so an embedded runtime, which
#: has no API in between, gets the same limits.
RECORD_CLIP_SCHEMA = vol.Schema(
    {
        **cv.ENTITY_SERVICE_FIELDS,
        vol.Optional("pre", default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=30)),
        vol.Optional("length", default=30.0): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=3600)
        ),
    }
)


def _channels(hass: HomeAssistant, call: ServiceCall) -> list[tuple[CameraRuntimeConfigEntry, str]]:
    """The (entry, channel id) pairs a call targets, each once.

    An entity or device named explicitly must be a channel's (else the caller made a
    mistake); what an area, floor or label brings in is kept when it is a channel's and
    skipped otherwise (an area also holds lights and thermostats).
    """
    entities = er.async_get(hass)
    selector = ServiceTargetSelector(call)
    selected = async_extract_referenced_entity_ids(hass, call)
    named_devices = sorted(selector.device_ids)
    device_ids: list[str] = list(named_devices)
    for entity_id in sorted(selected.referenced):
        device_id = _device_of_entity(entities, entity_id)
        if device_id is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_channel",
                translation_placeholders={"target": entity_id},
            )
        device_ids.append(device_id)
    indirect = [
        device_id
        for entity_id in sorted(selected.indirectly_referenced)
        if (device_id := _device_of_entity(entities, entity_id)) is not None
    ]
    indirect += sorted(selected.referenced_devices - set(named_devices))
    devices = dr.async_get(hass)
    found: list[tuple[CameraRuntimeConfigEntry, str]] = []
    for device_id in dict.fromkeys(device_ids):
        target = _channel_of_device(hass, devices.async_get(device_id))
        if target is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_channel",
                translation_placeholders={"target": device_id},
            )
        found.append(target)
    for device_id in dict.fromkeys(indirect):
        if device_id not in device_ids and (
            target := _channel_of_device(hass, devices.async_get(device_id))
        ):
            found.append(target)
    if not found:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_target")
    return list(dict.fromkeys(found))


def _device_of_entity(entities: er.EntityRegistry, entity_id: str) -> str | None:
    """The device of one of this integration's entities (``None``: not one of ours)."""
    entity = entities.async_get(entity_id)
    if entity is None or entity.platform != DOMAIN:
        return None
    return entity.device_id


@callback
def _channel_of_device(
    hass: HomeAssistant, device: dr.DeviceEntry | None
) -> tuple[CameraRuntimeConfigEntry, str] | None:
    found = channel_of_device(hass, device)
    if found is not None and found[0].state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": found[0].title},
        )
    return found


async def _arm(call: ServiceCall, armed: bool) -> None:
    for entry, channel_id in _channels(call.hass, call):
        data = entry.runtime_data
        await runtime_call(data, data.client.set_armed(channel_id, armed))


async def _handle_arm(call: ServiceCall) -> None:
    await _arm(call, True)


async def _handle_disarm(call: ServiceCall) -> None:
    await _arm(call, False)


async def _handle_capture(call: ServiceCall) -> ServiceResponse:
    captures: list[Any] = []
    for entry, channel_id in _channels(call.hass, call):
        data = entry.runtime_data
        captures.append(await runtime_call(data, data.client.capture(channel_id)))
    return {"captures": captures}


async def _handle_record_clip(call: ServiceCall) -> ServiceResponse:
    """Each targeted channel records a clip (its ``record`` must be enabled: the runtime
    refuses a channel that does not record, and the call fails naming it)."""
    pre, length = call.data["pre"], call.data["length"]
    clips: list[Any] = []
    for entry, channel_id in _channels(call.hass, call):
        data = entry.runtime_data
        clips.append(await runtime_call(data, data.client.record_clip(channel_id, pre, length)))
    return {"clips": clips}


async def _handle_set_image_stage(call: ServiceCall) -> None:
    enabled, options = call.data.get("enabled"), call.data.get("options")
    if enabled is None and not options:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="nothing_to_set")
    for entry, channel_id in _channels(call.hass, call):
        data = entry.runtime_data
        await runtime_call(
            data,
            data.client.set_stage(channel_id, call.data["stage"], enabled=enabled, options=options),
        )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    hass.services.async_register(DOMAIN, SERVICE_ARM, _handle_arm, schema=TARGET_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_DISARM, _handle_disarm, schema=TARGET_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_CAPTURE_PICTURE,
        _handle_capture,
        schema=TARGET_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_RECORD_CLIP,
        _handle_record_clip,
        schema=RECORD_CLIP_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_IMAGE_STAGE, _handle_set_image_stage, schema=SET_IMAGE_STAGE_SCHEMA
    )
