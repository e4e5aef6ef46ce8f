"""ePTZ in a real Home Assistant against a real runtime: the preset select (its options the
saved presets, choosing one calls it), the patrol and pattern buttons, and the ePTZ actions
(move, stop, go to, 3D positioning, preset, patrol, pattern); bad input is refused by the action's
schema or translated from the runtime's refusal, and changes nothing."""

from __future__ import annotations

import pytest
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.camera_runtime.const import DOMAIN
from tests.runtime_server import Served, ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

SELECT = "select.front_door_preset"
CAMERA = "camera.front_door"
SOURCE = {"type": "synthetic", "width": 160, "height": 90, "fps": 10, "objects": [], "noise": 0}


async def eptz(serve: ServeFactory) -> Served:
    data = {
        "device": {"name": "Test NVR"},
        "zeroconf": {"enabled": False},
        "channels": [
            {"id": "cam1", "name": "Front door", "source": SOURCE, "ptz": {"enabled": True}}
        ],
    }
    served = await serve(data)
    runtime = served.runtime
    await runtime.ptz_absolute("cam1", {"pan": 0.3, "tilt": 0.4, "zoom": 2})
    await runtime.save_preset("cam1", 1, "Door")
    await runtime.ptz_absolute("cam1", {"pan": 0.7, "tilt": 0.6, "zoom": 4})
    await runtime.save_preset("cam1", 5, "Yard")
    await runtime.set_patrol("cam1", 2, [{"preset": 1}, {"preset": 5}])
    await runtime.start_pattern_recording("cam1")
    await runtime.save_pattern("cam1", 1)
    return served


async def test_the_preset_select_calls_presets(hass: HomeAssistant, serve: ServeFactory) -> None:
    served = await eptz(serve)
    await set_up_entry(hass, remote_entry(served))
    state = hass.states.get(SELECT)
    assert state is not None
    assert state.attributes["options"] == ["1: Door", "5: Yard"]
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: SELECT, "option": "1: Door"}, blocking=True
    )
    assert served.runtime.ptz_status("cam1")["pan"] == 0.3
    await wait_for_state(hass, SELECT, lambda s: s == "1: Door")
    # The patrol and pattern buttons.
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.front_door_start_patrol_2"}, blocking=True
    )
    assert served.runtime.ptz_status("cam1")["patrol"] == 2
    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: "button.front_door_stop_patrol_or_pattern"},
        blocking=True,
    )
    assert served.runtime.ptz_status("cam1")["patrol"] is None
    assert hass.states.get("button.front_door_run_pattern_1") is not None
    # Saved later: a new patrol gets its button, a new preset joins the select's options.
    await served.runtime.save_preset("cam1", 9, "Shed")
    await served.runtime.set_patrol("cam1", 3, [{"preset": 9}])
    await wait_for_state(hass, "button.front_door_start_patrol_3", lambda s: s is not None)
    assert hass.states.get(SELECT).attributes["options"] == ["1: Door", "5: Yard", "9: Shed"]


async def test_the_eptz_actions(hass: HomeAssistant, serve: ServeFactory) -> None:
    served = await eptz(serve)
    await set_up_entry(hass, remote_entry(served))
    runtime = served.runtime
    target = {ATTR_ENTITY_ID: CAMERA}
    await hass.services.async_call(
        DOMAIN, "ptz_go_to", {**target, "pan": 0.5, "tilt": 0.5, "zoom": 2}, blocking=True
    )
    status = runtime.ptz_status("cam1")
    assert (status["pan"], status["tilt"], status["zoom"]) == (0.5, 0.5, 2.0)
    await hass.services.async_call(
        DOMAIN, "ptz_position_3d", {**target, "x": 0.75, "y": 0.5}, blocking=True
    )
    assert runtime.ptz_status("cam1")["pan"] == pytest.approx(0.625)
    await hass.services.async_call(
        DOMAIN,
        "ptz_position_3d",
        {**target, "x": 0.25, "y": 0.25, "x1": 0.75, "y1": 0.75},
        blocking=True,
    )
    assert runtime.ptz_status("cam1")["zoom"] == pytest.approx(4.0)
    await hass.services.async_call(DOMAIN, "call_preset", {**target, "preset": 5}, blocking=True)
    status = runtime.ptz_status("cam1")
    assert (status["pan"], status["tilt"], status["zoom"]) == (0.7, 0.6, 4.0)
    await hass.services.async_call(
        DOMAIN, "ptz_move", {**target, "pan": -1, "speed": 7}, blocking=True
    )
    assert runtime.ptz_status("cam1")["moving"] is True
    await hass.services.async_call(DOMAIN, "ptz_stop", target, blocking=True)
    assert runtime.ptz_status("cam1")["moving"] is False
    await hass.services.async_call(DOMAIN, "start_patrol", {**target, "patrol": 2}, blocking=True)
    assert runtime.ptz_status("cam1")["patrol"] == 2
    await hass.services.async_call(DOMAIN, "stop_patrol", target, blocking=True)
    assert runtime.ptz_status("cam1")["patrol"] is None
    await hass.services.async_call(DOMAIN, "run_pattern", {**target, "pattern": 1}, blocking=True)

    # Bad input: the action's schema, then the runtime's refusal, translated.
    with pytest.raises(Exception, match="value must be at most 7"):
        await hass.services.async_call(DOMAIN, "ptz_move", {**target, "speed": 9}, blocking=True)
    with pytest.raises(HomeAssistantError, match="no patrol 7"):
        await hass.services.async_call(
            DOMAIN, "start_patrol", {**target, "patrol": 7}, blocking=True
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "ptz_position_3d", {**target, "x": 0.2, "y": 0.2, "x1": 0.5}, blocking=True
        )
    with pytest.raises(HomeAssistantError, match="no preset 3"):
        await hass.services.async_call(
            DOMAIN, "call_preset", {**target, "preset": 3}, blocking=True
        )
    with pytest.raises(HomeAssistantError, match="at most 8"):
        await hass.services.async_call(DOMAIN, "ptz_go_to", {**target, "zoom": 12}, blocking=True)
    assert runtime.ptz_status("cam1")["patrol"] is None
