"""A binary sensor per smart-event rule in a real Home Assistant: from the rules the detector declares, named after the rule, on while an event of that rule (``data.rule_id``) is active, and only then, with the rule's attributes and its newest target."""

from __future__ import annotations

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant

from camera_runtime.model import Event, EventPhase, EventUpdate
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]


async def test_each_rule_has_its_binary_sensor(hass: HomeAssistant, serve: ServeFactory) -> None:
    channel = {
        "id": "cam1",
        "name": "Front door",
        "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 20, "objects": []},
        "detectors": {
            "intrusion": {
                "rules": [
                    {"name": "porch", "region": REGION},
                    {"name": "gate", "region": REGION, "threshold": 5},
                ]
            },
            "motion": {},
        },
    }
    served = await serve({"zeroconf": {"enabled": False}, "channels": [channel]})
    await set_up_entry(hass, remote_entry(served))
    porch = hass.states.get("binary_sensor.front_door_intrusion_porch")
    gate = hass.states.get("binary_sensor.front_door_intrusion_gate")
    assert porch is not None and gate is not None
    assert porch.attributes["friendly_name"] == "Front door Intrusion porch"
    assert porch.attributes.get("device_class") == "occupancy"
    assert (porch.state, gate.state) == (STATE_OFF, STATE_OFF)
    # motion declares no rules: no sensor per rule for it
    assert not [s for s in hass.states.async_entity_ids("binary_sensor") if "motion_" in s]

    # an intrusion of the second rule: its sensor and the type's turn on, the first rule's not
    assert porch.attributes["rule"] == "porch" and porch.attributes["track_id"] is None
    box = {"x": 0.4, "y": 0.2, "w": 0.1, "h": 0.3}
    data = {"rule_id": 2, "rule": "gate", "track_id": 7, "box": box}
    event = Event("cam1", "intrusion", 1.0, data=data)
    served.runtime.bus.publish(EventUpdate(EventPhase.NEW, event))
    await wait_for_state(hass, "binary_sensor.front_door_intrusion_gate", lambda s: s == STATE_ON)
    attributes = hass.states.get("binary_sensor.front_door_intrusion_gate").attributes
    assert {k: attributes[k] for k in ("rule_id", "rule", "event_type", "track_id", "box")} == {
        "rule_id": 2,
        "rule": "gate",
        "event_type": "intrusion",
        "track_id": 7,
        "box": box,
    }
    assert attributes["direction"] is None
    assert hass.states.get("binary_sensor.front_door_intrusion").state == STATE_ON
    assert hass.states.get("binary_sensor.front_door_intrusion_porch").state == STATE_OFF
    event.end = 2.0
    served.runtime.bus.publish(EventUpdate(EventPhase.END, event))
    await wait_for_state(hass, "binary_sensor.front_door_intrusion_gate", lambda s: s == STATE_OFF)

    # each rule's switch, declared by the detector: off, the rule's ``enabled`` is false
    switch = hass.states.get("switch.front_door_intrusion_rule_gate")
    assert switch is not None and switch.state == STATE_ON
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.front_door_intrusion_rule_gate"}, blocking=True
    )
    await wait_for_state(hass, "switch.front_door_intrusion_rule_gate", lambda s: s == STATE_OFF)
    rules = served.runtime.channel("cam1").detectors["intrusion"].options["rules"]
    assert [(rule["name"], rule["enabled"]) for rule in rules] == [("porch", True), ("gate", False)]
