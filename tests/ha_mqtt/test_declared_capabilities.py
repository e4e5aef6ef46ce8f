"""Home Assistant's real MQTT integration accepts the discovery of a detector defined only in
a test (``tests/tamper.py``): its binary sensor, switch, number and select appear with their
declared names, device class and range, and the number drives the runtime."""

from __future__ import annotations

from pathlib import Path

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.mosquitto import Mosquitto
from tests.tamper import TamperPlugin, tamper_channel

from .conftest import entity_id, start_camera, until


async def test_a_plugin_s_entities_come_from_its_declarations(
    hass: HomeAssistant, ha_mqtt: MockConfigEntry, broker: Mosquitto, tmp_path: Path
) -> None:
    data = {
        "channels": [tamper_channel("yard", "Yard")],
        "mqtt": {"host": broker.host, "port": broker.port},
        "zeroconf": {"enabled": False},
    }
    camera = await start_camera(data, tmp_path / "data", (TamperPlugin(),))
    try:
        uid = f"camera_runtime_{camera.runtime.device_id}_yard"
        tamper = await until(
            hass, lambda: entity_id(hass, "binary_sensor", f"{uid}_tamper"), "the sensor"
        )
        number = await until(
            hass, lambda: entity_id(hass, "number", f"{uid}_tamper_sensitivity"), "the number"
        )
        select = entity_id(hass, "select", f"{uid}_tamper_method")
        switch = entity_id(hass, "switch", f"{uid}_tamper_detection")
        assert select is not None and switch is not None
        await until(hass, lambda: hass.states.get(tamper).state == STATE_OFF, "tamper off")
        state = hass.states.get(tamper)
        assert state.attributes["device_class"] == "tamper"
        assert state.attributes["friendly_name"] == "Yard Tamper"
        attributes = hass.states.get(number).attributes
        assert (attributes["min"], attributes["max"], attributes["step"]) == (0, 100, 1)
        assert hass.states.get(select).attributes["options"] == ["cover", "defocus", "turn"]
        await hass.services.async_call(
            "number", "set_value", {"entity_id": number, "value": 100}, blocking=True
        )
        await until(hass, lambda: hass.states.get(tamper).state == STATE_ON, "tamper on")
        await hass.services.async_call(
            "select", "select_option", {"entity_id": select, "option": "defocus"}, blocking=True
        )
        await until(hass, lambda: hass.states.get(select).state == "defocus", "the option")
        detector = camera.runtime.channels["yard"].detectors["tamper"]
        assert (detector.options["sensitivity"], detector.options["method"]) == (100, "defocus")
    finally:
        await camera.stop()
