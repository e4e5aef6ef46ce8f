"""A detector defined only in a test (``tests/tamper.py``), in a real Home Assistant: its binary
sensor, switch, number and select entities, its event type on the event entity and its device
triggers, all from its declarations, with no change to the integration; named by its declared
labels, since the integration has no translation for them."""

from __future__ import annotations

from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    async_get_device_automations,
    async_mock_service,
)

from custom_components.camera_runtime.const import DOMAIN
from tests.runtime_server import ServeFactory
from tests.tamper import TamperPlugin, tamper_channel

from .conftest import remote_entry, set_up_entry, wait_for_state

TAMPER = "binary_sensor.front_door_tamper"
SWITCH = "switch.front_door_tamper_detection"
NUMBER = "number.front_door_tamper_sensitivity"
SELECT = "select.front_door_tamper_method"


async def test_a_plugin_s_declarations_become_entities_and_triggers(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    data = {
        "device": {"name": "Test NVR"},
        "zeroconf": {"enabled": False},
        "channels": [tamper_channel()],
    }
    served = await serve(data, extra_plugins=[TamperPlugin()])
    await set_up_entry(hass, remote_entry(served))
    registry = er.async_get(hass)
    sensor = hass.states.get(TAMPER)
    assert sensor is not None and sensor.state == STATE_OFF
    assert sensor.attributes["device_class"] == "tamper"
    assert sensor.attributes["friendly_name"] == "Front door Tamper"  # the declared label
    number = hass.states.get(NUMBER)
    assert number is not None and float(number.state) == 0
    assert (number.attributes["min"], number.attributes["max"], number.attributes["step"]) == (
        0,
        100,
        1,
    )
    select = hass.states.get(SELECT)
    assert select is not None and select.state == "cover"
    assert select.attributes["options"] == ["cover", "defocus", "turn"]
    assert hass.states.get(SWITCH).state == STATE_ON
    assert registry.async_get(SWITCH).entity_category == "config"
    events = hass.states.get("event.front_door_events")
    assert events.attributes["event_types"] == ["tamper", "video_loss"]

    # Triggers from the declared event types.
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{served.runtime.device_id}_cam1")}
    )
    assert device is not None
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    assert {t["type"] for t in triggers if t["domain"] == DOMAIN} == {
        "tamper_started",
        "tamper_ended",
        "video_loss_started",
        "video_loss_ended",
    }
    calls: list[ServiceCall] = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "trigger": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": device.id,
                        "type": "tamper_started",
                    },
                    "action": {"service": "test.automation", "data": {"what": "tamper"}},
                }
            ]
        },
    )

    # The number starts the event (every picture is "tampered" at 100), the switch stops it.
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: NUMBER, "value": 100}, blocking=True
    )
    runtime = served.runtime
    assert runtime.channels["cam1"].detectors["tamper"].options["sensitivity"] == 100
    await wait_for_state(hass, TAMPER, lambda s: s == STATE_ON)
    await hass.async_block_till_done()
    assert [c.data["what"] for c in calls] == ["tamper"]
    await hass.services.async_call(
        "select", "select_option", {ATTR_ENTITY_ID: SELECT, "option": "turn"}, blocking=True
    )
    assert runtime.channels["cam1"].detectors["tamper"].options["method"] == "turn"
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await wait_for_state(hass, TAMPER, lambda s: s == STATE_OFF)
    assert runtime.channels["cam1"].detectors["tamper"].enabled is False

    # A channel removed from the runtime takes its entities with it.
    await runtime.remove_channel("cam1")
    await wait_for_state(hass, NUMBER, lambda s: s in (STATE_UNAVAILABLE, None))
