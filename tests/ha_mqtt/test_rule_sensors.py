"""Home Assistant's real MQTT integration shows a binary sensor per smart event rule, from the
runtime's discovery: on while the rule's event lasts, with the rule's attributes, removed when
the rule is deleted and back when one is added, while the runtime runs."""

from __future__ import annotations

from pathlib import Path

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.camera_runtime.mqtt.conftest import motion_channel
from tests.mosquitto import Mosquitto

from .conftest import entity_id, start_camera, until

REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]
MIDDLE = {"name": "middle", "line": [[0.5, 0.02], [0.5, 0.98]]}
GATE = {"name": "gate", "line": [[0.2, 0.02], [0.2, 0.98]]}


async def test_a_rule_s_sensor_follows_its_events_and_the_rule(
    hass: HomeAssistant, ha_mqtt: MockConfigEntry, broker: Mosquitto, tmp_path: Path
) -> None:
    channel = {**motion_channel("yard"), "name": "Yard", "detect": {"fps": 15}}
    channel["detectors"] = {
        "intrusion": {"rules": [{"name": "lawn", "region": REGION}]},
        "line_crossing": {"rules": [MIDDLE, GATE]},
    }
    data = {
        "channels": [channel],
        "mqtt": {"host": broker.host, "port": broker.port},
        "zeroconf": {"enabled": False},
    }
    camera = await start_camera(data, tmp_path / "data")
    try:
        uid = f"camera_runtime_{camera.runtime.device_id}_yard"
        lawn = await until(
            hass, lambda: entity_id(hass, "binary_sensor", f"{uid}_intrusion_rule_1"), "lawn"
        )
        gate = entity_id(hass, "binary_sensor", f"{uid}_line_crossing_rule_2")
        assert gate is not None
        state = await until(
            hass, lambda: (s := hass.states.get(lawn)) and "rule_id" in s.attributes and s, "attrs"
        )
        assert state.attributes["friendly_name"] == "Yard Intrusion lawn"
        assert state.attributes["device_class"] == "occupancy"
        assert (state.attributes["rule_id"], state.attributes["rule"]) == (1, "lawn")
        assert state.attributes["event_type"] == "intrusion"

        # the box walks into the region and out again
        await until(hass, lambda: hass.states.get(lawn).state == STATE_ON, "the lawn sensor on")
        target = hass.states.get(lawn).attributes
        assert isinstance(target["track_id"], int) and set(target["box"]) == {"x", "y", "w", "h"}
        await until(hass, lambda: hass.states.get(lawn).state == STATE_OFF, "the lawn sensor off")

        # the gate rule deleted at run time: its entity goes; added again: it comes back
        await camera.runtime.set_detector("yard", "line_crossing", options={"rules": [MIDDLE]})
        await until(
            hass,
            lambda: entity_id(hass, "binary_sensor", f"{uid}_line_crossing_rule_2") is None,
            "the gate sensor to be removed",
        )
        assert entity_id(hass, "binary_sensor", f"{uid}_line_crossing_rule_1") is not None
        await camera.runtime.set_detector(
            "yard", "line_crossing", options={"rules": [MIDDLE, GATE]}
        )
        await until(
            hass,
            lambda: entity_id(hass, "binary_sensor", f"{uid}_line_crossing_rule_2"),
            "the gate sensor back",
        )
    finally:
        await camera.stop()
