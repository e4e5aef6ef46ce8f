"""Actions (services) arm, disarm and capture picture on a real runtime, and their errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.const import ATTR_AREA_ID, ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_runtime.const import DOMAIN
from tests.camera_runtime.client.helpers import motion_channel, motion_config
from tests.polling import eventually

from .conftest import (
    Served,
    ServeFactory,
    recording_channel,
    remote_entry,
    set_up_entry,
    wait_for_state,
)


def _channel_device(hass: HomeAssistant, served: Served, channel: str = "cam1") -> str:
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{served.runtime.device_id}_{channel}")}
    )
    assert device is not None
    return device.id


async def test_arm_and_disarm(hass: HomeAssistant, served: Served, loaded: MockConfigEntry) -> None:
    await hass.services.async_call(
        DOMAIN, "disarm", {ATTR_DEVICE_ID: _channel_device(hass, served)}, blocking=True
    )
    assert served.runtime.channel("cam1").armed is False
    assert hass.states.get("switch.front_door_arming").state == "off"
    await hass.services.async_call(
        DOMAIN, "arm", {ATTR_ENTITY_ID: "camera.front_door"}, blocking=True
    )
    assert served.runtime.channel("cam1").armed is True


async def test_capture_picture_returns_the_capture(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    await wait_for_state(hass, "sensor.front_door_channel_state", lambda s: s == "online")
    response = await hass.services.async_call(
        DOMAIN,
        "capture_picture",
        {ATTR_ENTITY_ID: ["camera.front_door", "switch.front_door_arming"]},
        blocking=True,
        return_response=True,
    )
    captures = response["captures"]
    assert len(captures) == 1  # two entities of one channel: one capture
    assert captures[0]["channel"] == "cam1"
    assert (served.data_dir / "captures" / f"{captures[0]['id']}.cam1.jpg").is_file()


async def test_target_errors(hass: HomeAssistant, served: Served, loaded: MockConfigEntry) -> None:
    runtime_device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, served.runtime.device_id)}
    )
    assert runtime_device is not None
    cases = [
        ({}, "no_target"),
        ({ATTR_ENTITY_ID: "sun.sun"}, "not_a_channel"),
        ({ATTR_DEVICE_ID: "no-such-device"}, "not_a_channel"),
        ({ATTR_DEVICE_ID: runtime_device.id}, "not_a_channel"),
    ]
    for data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(DOMAIN, "arm", data, blocking=True)
        assert err.value.translation_key == key, data
    device = _channel_device(hass, served)
    await hass.config_entries.async_unload(loaded.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "arm", {ATTR_DEVICE_ID: device}, blocking=True)
    assert err.value.translation_key == "entry_not_loaded"


async def test_runtime_errors(hass: HomeAssistant, serve: ServeFactory) -> None:
    """A channel without a picture: the runtime says no (503), a translated error."""
    dead = motion_channel("dead", "Dead")
    dead["source"] = {"type": "rtsp", "url": "rtsp://127.0.0.1:9/none"}
    dead["detectors"] = {}
    config = motion_config()
    config["channels"].append(dead)
    served = await serve(config)
    entry = await set_up_entry(hass, remote_entry(served))
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "capture_picture",
            {ATTR_DEVICE_ID: _channel_device(hass, served, "dead")},
            blocking=True,
            return_response=True,
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "no_frame"
    # The runtime refuses a value out of its range (checked by its own schema).
    await served.runtime.remove_channel("dead")
    await hass.async_block_till_done()
    client = entry.runtime_data.client
    from custom_components.camera_runtime.errors import runtime_call

    with pytest.raises(ServiceValidationError) as bad:
        await runtime_call(
            entry.runtime_data,
            client.set_detector("cam1", "motion", options={"sensitivity": 101}),
        )
    assert bad.value.translation_key == "invalid_config"
    with pytest.raises(ServiceValidationError) as gone:
        await runtime_call(entry.runtime_data, client.set_armed("dead", True))
    assert gone.value.translation_key == "channel_not_found"


async def test_area_target(hass: HomeAssistant, served: Served, loaded: MockConfigEntry) -> None:
    """An area holding a channel's device acts on that channel; the runtime device and other
    integrations' entities in the same area are left alone."""
    porch = ar.async_get(hass).async_create("Porch")
    devices = dr.async_get(hass)
    devices.async_update_device(_channel_device(hass, served), area_id=porch.id)
    runtime_device = devices.async_get_device(identifiers={(DOMAIN, served.runtime.device_id)})
    assert runtime_device is not None
    devices.async_update_device(runtime_device.id, area_id=porch.id)
    lamp = er.async_get(hass).async_get_or_create("light", "demo", "porch-lamp")
    er.async_get(hass).async_update_entity(lamp.entity_id, area_id=porch.id)

    await hass.services.async_call(DOMAIN, "disarm", {ATTR_AREA_ID: porch.id}, blocking=True)
    assert served.runtime.channel("cam1").armed is False
    await hass.services.async_call(DOMAIN, "arm", {ATTR_AREA_ID: [porch.id]}, blocking=True)
    assert served.runtime.channel("cam1").armed is True
    empty = ar.async_get(hass).async_create("Attic")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "arm", {ATTR_AREA_ID: empty.id}, blocking=True)
    assert err.value.translation_key == "no_target"


async def test_set_image_stage(hass: HomeAssistant, serve: ServeFactory) -> None:
    """The OSD's text changed from Home Assistant; a refused option is the caller's mistake,
    named by the runtime, and changes nothing."""
    config = motion_config()
    config["channels"][0]["image"] = {"osd": {"texts": ["Front"]}}
    served = await serve(config)
    await set_up_entry(hass, remote_entry(served))
    target = {ATTR_ENTITY_ID: "camera.front_door"}
    await hass.services.async_call(
        DOMAIN,
        "set_image_stage",
        {**target, "stage": "osd", "options": {"texts": ["Gate", "North"]}},
        blocking=True,
    )
    stage = served.runtime.channel_status("cam1")["image"]["osd"]
    assert stage["options"]["texts"] == ["Gate", "North"]
    await hass.services.async_call(
        DOMAIN, "set_image_stage", {**target, "stage": "osd", "enabled": False}, blocking=True
    )
    assert served.runtime.channel_status("cam1")["image"]["osd"]["enabled"] is False

    with pytest.raises(ServiceValidationError, match=r"image\.osd\.font_size"):
        await hass.services.async_call(
            DOMAIN,
            "set_image_stage",
            {**target, "stage": "osd", "options": {"font_size": 7}},
            blocking=True,
        )
    assert served.runtime.channel_status("cam1")["image"]["osd"]["options"]["font_size"] == 32
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "set_image_stage", {**target, "stage": "rotate", "enabled": True}, blocking=True
        )
    with pytest.raises(ServiceValidationError) as nothing:
        await hass.services.async_call(
            DOMAIN, "set_image_stage", {**target, "stage": "osd"}, blocking=True
        )
    assert nothing.value.translation_key == "nothing_to_set"


async def test_record_clip(hass: HomeAssistant, serve: ServeFactory, h264_file: Path) -> None:
    """The linkage action "record" from Home Assistant: a recording channel records a clip from
    ``pre`` s before the call, ``length`` s long, which the runtime lists; a channel that does
    not record is refused, named, and a value out of range never reaches the runtime."""
    config = motion_config()
    config["channels"] = [
        recording_channel(h264_file, "cam1", "Front door"),
        motion_channel("cam2", "Back door"),
    ]
    served = await serve(config)
    await set_up_entry(hass, remote_entry(served))
    recorder = served.runtime.recordings.recorders["cam1"]
    await eventually(lambda: recorder.ring.packets > 10)
    response = await hass.services.async_call(
        DOMAIN,
        "record_clip",
        {ATTR_ENTITY_ID: "camera.front_door", "pre": 1, "length": 1},
        blocking=True,
        return_response=True,
    )
    (clip,) = response["clips"]
    assert (clip["channel"], clip["reason"]) == ("cam1", "clip")

    def recorded() -> Any:
        return next(
            (c for c in served.runtime.recordings.clips("cam1") if c.id == clip["id"] and c.end),
            None,
        )

    await eventually(lambda: recorded() is not None)
    assert recorded().end - recorded().start >= 1.5  # from before the call, past its length

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "record_clip", {ATTR_ENTITY_ID: "camera.back_door"}, blocking=True
        )
    assert refused.value.translation_key == "not_recording"
    with pytest.raises(vol.Invalid, match="pre"):
        await hass.services.async_call(
            DOMAIN, "record_clip", {ATTR_ENTITY_ID: "camera.front_door", "pre": 31}, blocking=True
        )
