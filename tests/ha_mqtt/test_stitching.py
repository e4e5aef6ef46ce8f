"""Home Assistant's real MQTT integration gets a stitched device's controls from their
declarations: the output mode select (choosing one rebuilds the device's channels, which
discovery follows), the best stitching distance number, and the calibrate button with the
last calibration's state, error words and time as its attributes."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.camera_runtime.stitching.test_stitching import sensor
from tests.mosquitto import Mosquitto

from .conftest import entity_id, start_camera, until


async def test_stitching_entities_come_from_the_declarations(
    hass: HomeAssistant, ha_mqtt: MockConfigEntry, broker: Mosquitto, tmp_path: Path
) -> None:
    data = {
        "stitching": [
            {"id": "yard", "sensors": [sensor(i) for i in range(4)], "output_mode": "panorama"}
        ],
        "mqtt": {"host": broker.host, "port": broker.port},
        "zeroconf": {"enabled": False},
    }
    camera = await start_camera(data, tmp_path / "data")
    try:
        uid = f"camera_runtime_{camera.runtime.device_id}"
        select = await until(
            hass, lambda: entity_id(hass, "select", f"{uid}_yard_stitching_output_mode"), "mode"
        )
        number = await until(
            hass, lambda: entity_id(hass, "number", f"{uid}_yard_stitching_distance"), "distance"
        )
        button = await until(
            hass, lambda: entity_id(hass, "button", f"{uid}_yard_stitching_calibrate"), "button"
        )
        await until(hass, lambda: hass.states.get(select).state == "panorama", "the mode")
        assert hass.states.get(select).attributes["options"] == [
            "panorama",
            "panorama_eptz",
            "original",
            "divided_panorama",
        ]
        attributes = hass.states.get(number).attributes
        assert (attributes["min"], attributes["max"], attributes["unit_of_measurement"]) == (
            1,
            100,
            "m",
        )
        calibrated = await until(
            hass,
            lambda: (
                hass.states.get(button).attributes.get("calibration") == "calibrated"
                and hass.states.get(button).attributes
            ),
            "the calibration state",
        )
        assert calibrated["error"] == "" and calibrated["calibrated_at"]
        # The button calibrates again: a later time on the entity.
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
        await until(
            hass,
            lambda: (
                hass.states.get(button).attributes.get("calibrated_at")
                not in (None, calibrated["calibrated_at"])
            ),
            "a new calibration time",
        )
        # The distance reaches the device.
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 30}, blocking=True
        )
        await until(
            hass,
            lambda: (
                camera.runtime.config_file.data["stitching"][0].get("best_stitching_distance") == 30
            ),
            "the distance",
        )
        # The device's channels were rebuilt with it: the entities come back.
        await until(
            hass,
            lambda: (state := hass.states.get(select)) is not None and state.state == "panorama",
            "the select back",
        )
        # Choosing the original mode rebuilds the channels: the select moves to the first
        # sensor's channel, which discovery announces.
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": select, "option": "original"},
            blocking=True,
        )
        moved = await until(
            hass,
            lambda: entity_id(hass, "select", f"{uid}_yard-sensor1_stitching_output_mode"),
            "the select on the first sensor's channel",
        )
        await until(hass, lambda: hass.states.get(moved).state == "original", "original mode")
        assert camera.runtime.channel_ids() == [f"yard-sensor{i}" for i in range(1, 5)]
    finally:
        await camera.stop()
