"""Actions (services) of the integration: arm, disarm, capture picture, record clip and set image
stage on channels (the camera actions of the linkage blueprints in ``blueprints/``); the ePTZ's
move, stop, go to, 3D positioning, preset, patrol and pattern (a preset by its number, as a linkage
rule calls it: the channel's preset select names its options ``"<n>: <name>"``).

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

from camera_runtime.client import PtzCall

from .const import DOMAIN
from .data import CameraRuntimeConfigEntry, channel_of_device
from .errors import runtime_call

SERVICE_ARM = "arm"
SERVICE_DISARM = "disarm"
SERVICE_CAPTURE_PICTURE = "capture_picture"
SERVICE_SET_IMAGE_STAGE = "set_image_stage"
SERVICE_RECORD_CLIP = "record_clip"
#: ePTZ actions -> (the client's PTZ command, the field holding its number, or none).
PTZ_SERVICES: dict[str, tuple[str, str | None]] = {
    "ptz_move": ("move", None),
    "ptz_stop": ("stop", None),
    "ptz_go_to": ("position", None),
    "ptz_position_3d": ("position_3d", None),
    "call_preset": ("call_preset", "preset"),
    "start_patrol": ("start_patrol", "patrol"),
    "stop_patrol": ("stop_patrol", None),
    "run_pattern": ("run_pattern", "pattern"),
}
_DIRECTION = vol.All(vol.Coerce(float), vol.Range(min=-1, max=1))
_FRACTION = vol.All(vol.Coerce(float), vol.Range(min=0, max=1))
#: Each ePTZ action's own fields (besides the target); the runtime checks them again.
PTZ_FIELDS: dict[str, dict[Any, Any]] = {
    "ptz_move": {
        vol.Optional("pan"): _DIRECTION,
        vol.Optional("tilt"): _DIRECTION,
        vol.Optional("zoom"): _DIRECTION,
        vol.Optional("speed"): vol.All(vol.Coerce(int), vol.Range(min=1, max=7)),
    },
    "ptz_stop": {},
    "ptz_go_to": {
        vol.Optional("pan"): _FRACTION,
        vol.Optional("tilt"): _FRACTION,
        vol.Optional("zoom"): vol.All(vol.Coerce(float), vol.Range(min=1, max=16)),
    },
    "ptz_position_3d": {
        vol.Required("x"): _FRACTION,
        vol.Required("y"): _FRACTION,
        vol.Optional("x1"): _FRACTION,
        vol.Optional("y1"): _FRACTION,
    },
    "call_preset": {vol.Required("preset"): vol.All(vol.Coerce(int), vol.Range(min=1, max=256))},
    "start_patrol": {vol.Required("patrol"): vol.All(vol.Coerce(int), vol.Range(min=1, max=8))},
    "stop_patrol": {},
    "run_pattern": {vol.Required("pattern"): vol.All(vol.Coerce(int), vol.Range(min=1, max=4))},
}

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


def _ptz_payload(service: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The runtime's payload for an ePTZ action: 3D positioning with ``x1``/``y1`` is a box
    from ``(x, y)``, without them a click."""
    given = {k: v for k, v in fields.items() if k not in cv.ENTITY_SERVICE_FIELDS}
    if service == "ptz_position_3d" and ("x1" in given or "y1" in given):
        if not {"x1", "y1"} <= set(given):
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="box_corner")
        return {"x0": given["x"], "y0": given["y"], "x1": given["x1"], "y1": given["y1"]}
    return given


async def _handle_ptz(call: ServiceCall) -> None:
    command, numbered = PTZ_SERVICES[call.service]
    number = call.data[numbered] if numbered else None
    payload = _ptz_payload(call.service, dict(call.data))
    for entry, channel_id in _channels(call.hass, call):
        data = entry.runtime_data
        await runtime_call(data, data.client.ptz(channel_id, PtzCall(command, number, payload)))


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
    for service, fields in PTZ_FIELDS.items():
        schema = vol.Schema({**cv.ENTITY_SERVICE_FIELDS, **fields})
        hass.services.async_register(DOMAIN, service, _handle_ptz, schema=schema)
