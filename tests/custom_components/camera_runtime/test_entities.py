"""Entities following a real runtime: motion from real synthetic-scene events, switches,
number, button, camera pictures, and the pushed state of changes made on the runtime."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

from homeassistant.components.camera import async_get_image
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_runtime.const import EVENT_CAMERA_RUNTIME

from .conftest import Served, wait_for_state

MOTION = "binary_sensor.front_door_motion"


async def test_motion_follows_real_events(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    fired: list[dict[str, Any]] = []

    @callback
    def on_bus(event: Event) -> None:
        fired.append(dict(event.data))

    hass.bus.async_listen(EVENT_CAMERA_RUNTIME, on_bus)
    # A whole motion event seen from its start (one may be under way already).
    await wait_for_state(hass, MOTION, lambda s: s == STATE_OFF)
    await wait_for_state(hass, MOTION, lambda s: s == STATE_ON)
    await wait_for_state(hass, MOTION, lambda s: s == STATE_OFF)
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.front_door_video_loss").state == STATE_OFF
    assert hass.states.get("binary_sensor.test_nvr_connectivity").state == STATE_ON

    started = [e for e in fired if e["phase"] == "new"]
    ended = [e for e in fired if e["phase"] == "end"]
    assert started and started[0]["event_id"] in [e["event_id"] for e in ended]
    assert started[0]["type"] == "motion" and started[0]["channel"] == "cam1"
    assert started[0]["device_id"] is not None
    assert started[0]["data"]["areas"] == ["area_1"]
    assert all(e["phase"] != "update" for e in fired)  # not without the option

    event = hass.states.get("event.front_door_events")
    assert event.attributes["event_type"] == "motion"
    assert event.attributes["phase"] in ("new", "end")
    assert event.attributes["event_types"] == ["motion", "video_loss"]


async def test_arming_switch_both_ways(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    arming = "switch.front_door_arming"
    assert hass.states.get(arming).state == STATE_ON
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: arming}, blocking=True)
    assert served.runtime.channel("cam1").armed is False
    assert hass.states.get(arming).state == STATE_OFF
    # Changed on the runtime (its API, the web page...): pushed to Home Assistant.
    await served.runtime.set_armed("cam1", True)
    await wait_for_state(hass, arming, lambda s: s == STATE_ON)


async def test_display_info_switch_from_the_channel_s_declaration(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    display = "switch.front_door_display_info_on_stream"
    assert hass.states.get(display).state == STATE_OFF
    entry = er.async_get(hass).async_get(display)
    assert entry is not None and entry.entity_category == er.EntityCategory.CONFIG
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: display}, blocking=True)
    assert served.runtime.channel("cam1").display_info is True
    assert hass.states.get(display).state == STATE_ON
    await served.runtime.set_control("cam1", "display_info", False)
    await wait_for_state(hass, display, lambda s: s == STATE_OFF)


async def test_motion_detection_switch_and_sensitivity(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    switch, number = "switch.front_door_motion_detection", "number.front_door_motion_sensitivity"
    assert hass.states.get(number).state == "80.0"
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: number, "value": 35}, blocking=True
    )
    assert served.runtime.channel("cam1").detectors["motion"].options["sensitivity"] == 35
    assert hass.states.get(number).state == "35.0"
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True)
    assert served.runtime.channel("cam1").detectors["motion"].enabled is False
    assert hass.states.get(switch).state == STATE_OFF
    assert "motion_detection" not in hass.states.get("camera.front_door").attributes
    await hass.services.async_call(
        "camera", "enable_motion_detection", {ATTR_ENTITY_ID: "camera.front_door"}, blocking=True
    )
    assert served.runtime.channel("cam1").detectors["motion"].enabled is True
    assert hass.states.get("camera.front_door").attributes["motion_detection"] is True
    await hass.services.async_call(
        "camera", "disable_motion_detection", {ATTR_ENTITY_ID: "camera.front_door"}, blocking=True
    )
    assert served.runtime.channel("cam1").detectors["motion"].enabled is False
    # Expert mode on the runtime: the single sensitivity does not apply any more.
    await served.runtime.set_detector("cam1", "motion", options={"mode": "expert"})
    await wait_for_state(hass, number, lambda s: s == STATE_UNAVAILABLE)


async def test_capture_button_and_camera_pictures(
    hass: HomeAssistant,
    served: Served,
    loaded: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    await wait_for_state(hass, "sensor.front_door_channel_state", lambda s: s == "online")
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.front_door_capture_picture"}, blocking=True
    )
    captures = list((served.data_dir / "captures").glob("*.cam1.jpg"))
    assert len(captures) == 1 and captures[0].read_bytes()[:2] == b"\xff\xd8"

    image = await async_get_image(hass, "camera.front_door")
    assert image.content_type == "image/jpeg" and image.content[:2] == b"\xff\xd8"

    client = await hass_client()
    response = await client.get("/api/camera_proxy_stream/camera.front_door")
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    seen = b""
    async with asyncio.timeout(10):
        while seen.count(b"\xff\xd8") < 2:
            seen += await response.content.readany()
    assert served.runtime.channel("cam1").live.viewers == 1
    response.close()
    async with asyncio.timeout(10):  # the viewer left: the runtime stops encoding for it
        while served.runtime.channel("cam1").live.viewers:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_fps_sensor_is_disabled_by_default(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    entry = er.async_get(hass).async_get("sensor.front_door_frame_rate")
    assert entry is not None and entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("sensor.front_door_frame_rate") is None


async def test_the_runtime_s_storage_error_is_a_binary_sensor_and_an_event(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    """The runtime's own exceptions (not a channel's) are on the runtime's device."""
    sensor = "binary_sensor.test_nvr_storage_error"
    assert hass.states.get(sensor).state == STATE_OFF
    fired: list[dict[str, Any]] = []

    # a callback runs on the loop as the event fires; a plain function (the lambda this was)
    # runs in Home Assistant's executor, where two events may be recorded out of order
    @callback
    def on_bus(event: Event) -> None:
        fired.append(dict(event.data))

    hass.bus.async_listen(EVENT_CAMERA_RUNTIME, on_bus)
    served.runtime.storage.failed("captures", "No space left on device")
    await wait_for_state(hass, sensor, lambda s: s == STATE_ON)
    served.runtime.storage.recovered("captures")
    await wait_for_state(hass, sensor, lambda s: s == STATE_OFF)
    await hass.async_block_till_done()
    ours = [e for e in fired if e["type"] == "storage_error"]
    assert [e["phase"] for e in ours] == ["new", "end"]
    device = er.async_get(hass).async_get(sensor).device_id
    assert ours[0]["device_id"] == device and ours[0]["channel"] == ""
    assert ours[0]["data"]["sources"]["captures"]["error"] == "No space left on device"
