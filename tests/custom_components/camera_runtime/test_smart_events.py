"""The smart-event detectors in a real Home Assistant: binary sensors, switches, event types and device triggers from their declarations, with the integration's names; the camera's motion detection stays the motion detector's switch though the smart detectors come first; a channel detecting in the detection process has a sensor of its skipped pictures."""

from __future__ import annotations

from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_get_device_automations

from custom_components.camera_runtime.const import DOMAIN
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry

REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]
KINDS = {
    "line_crossing": "Line crossing",
    "intrusion": "Intrusion",
    "region_entrance": "Region entrance",
    "region_exiting": "Region exiting",
}


async def test_smart_events_become_entities_and_triggers(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    channel = {
        "id": "cam1",
        "name": "Front door",
        "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 20},
        "detect": {"fps": 10},
        "detectors": {  # the smart detectors before motion: their switches come first
            "line_crossing": {"rules": [{"line": [[0.5, 0.0], [0.5, 1.0]]}]},
            "intrusion": {"rules": [{"region": REGION}]},
            "region_entrance": {"rules": [{"region": REGION}]},
            "region_exiting": {"rules": [{"region": REGION}]},
            "motion": {},
        },
    }
    served = await serve({"zeroconf": {"enabled": False}, "channels": [channel]})
    await set_up_entry(hass, remote_entry(served))
    for kind, label in KINDS.items():
        sensor = hass.states.get(f"binary_sensor.front_door_{kind}")
        assert sensor is not None and sensor.state in (STATE_OFF, STATE_ON)
        assert sensor.attributes["friendly_name"] == f"Front door {label}"
        assert sensor.attributes.get("device_class") == (
            "occupancy" if kind == "intrusion" else None
        )
        switch = hass.states.get(f"switch.front_door_{kind}_detection")
        assert switch is not None and switch.state == STATE_ON
        assert switch.attributes["friendly_name"] == f"Front door {label} detection"
    events = hass.states.get("event.front_door_events")
    assert set(KINDS) <= set(events.attributes["event_types"])

    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{served.runtime.device_id}_cam1")}
    )
    assert device is not None
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    types = {t["type"] for t in triggers if t["domain"] == DOMAIN}
    assert {f"{kind}_{end}" for kind in KINDS for end in ("started", "ended")} <= types

    # the camera's motion detection switches the motion detector, not the first smart one
    await hass.services.async_call(
        "camera", "disable_motion_detection", {ATTR_ENTITY_ID: "camera.front_door"}, blocking=True
    )
    detectors = served.runtime.channels["cam1"].detectors
    assert detectors["motion"].enabled is False
    assert all(detectors[kind].enabled for kind in KINDS)


async def test_a_detection_process_reading_becomes_a_diagnostic_sensor(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    """A channel whose detectors run in the detection process (``detect.process``) declares
    ``detections_skipped`` and ``detection_restarts``: diagnostic sensors of its device,
    counting up, with the integration's names; a channel detecting inline has none."""
    channels = [
        {
            "id": cid,
            "name": name,
            "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 20},
            "detect": {"fps": 10, "process": process},
            "detectors": {"intrusion": {"rules": [{"region": REGION}]}},
        }
        for cid, name, process in (("cam1", "Front door", True), ("cam2", "Garden", False))
    ]
    served = await serve({"zeroconf": {"enabled": False}, "channels": channels})
    await set_up_entry(hass, remote_entry(served))
    skipped = hass.states.get("sensor.front_door_detections_skipped")
    # a count: those before the detection process was up, if any
    assert skipped is not None and skipped.state.isdigit()
    assert skipped.attributes["friendly_name"] == "Front door Detections skipped"
    assert skipped.attributes["state_class"] == "total_increasing"
    assert skipped.attributes["unit_of_measurement"] == "pictures"
    entry = er.async_get(hass).async_get("sensor.front_door_detections_skipped")
    assert entry is not None and entry.entity_category is EntityCategory.DIAGNOSTIC
    assert hass.states.get("sensor.garden_detections_skipped") is None
    restarts = hass.states.get("sensor.front_door_detection_process_restarts")
    assert restarts is not None and restarts.state == "0"
    assert restarts.attributes["state_class"] == "total_increasing"
    assert hass.states.get("sensor.garden_detection_process_restarts") is None
