"""A stitched device in a real Home Assistant against a real runtime: the output mode select,
the best stitching distance number and the calibrate button come from the declarations; the
button shows the last calibration (state, error words, time) as attributes; choosing another
mode rebuilds the channels."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant

from tests.camera_runtime.stitching.test_stitching import sensor
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

SELECT = "select.yard_stitching_output_mode"
NUMBER = "number.yard_best_stitching_distance"
BUTTON = "button.yard_calibrate_stitching"


async def test_stitching_entities(hass: HomeAssistant, serve: ServeFactory) -> None:
    data = {
        "device": {"name": "Test NVR"},
        "zeroconf": {"enabled": False},
        "stitching": [
            {
                "id": "yard",
                "name": "Yard",
                "sensors": [sensor(i) for i in range(4)],
                "output_mode": "panorama",
            }
        ],
    }
    served = await serve(data)
    await set_up_entry(hass, remote_entry(served))
    await wait_for_state(hass, SELECT, lambda s: s == "panorama")
    assert hass.states.get(SELECT).attributes["options"] == [
        "panorama",
        "panorama_eptz",
        "original",
        "divided_panorama",
    ]
    assert hass.states.get(NUMBER).attributes["unit_of_measurement"] == "m"
    await wait_for_state(
        hass,
        BUTTON,
        lambda _s: hass.states.get(BUTTON).attributes.get("calibration") == "calibrated",
    )
    before = hass.states.get(BUTTON).attributes["calibrated_at"]
    assert hass.states.get(BUTTON).attributes["error"] == ""
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    await wait_for_state(
        hass, BUTTON, lambda _s: hass.states.get(BUTTON).attributes.get("calibrated_at") != before
    )
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: SELECT, "option": "divided_panorama"},
        blocking=True,
    )
    assert served.runtime.channel_ids() == [f"yard-view{i}" for i in range(1, 5)]
    assert served.runtime.config_file.data["stitching"][0]["output_mode"] == "divided_panorama"
