"""Linkage in Home Assistant through the capability declarations alone: an alarm input of
the runtime (issue #15 item 5) is a binary sensor on the runtime's device, on while its
alarm is, and a fired linkage rule reaches HA's event bus with its outcomes."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from custom_components.camera_runtime.const import EVENT_CAMERA_RUNTIME
from tests.camera_runtime.client.helpers import motion_config
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

SENSOR = "binary_sensor.test_nvr_alarm_input"


async def test_an_alarm_input_is_a_binary_sensor_and_fired_rules_are_events(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    data = motion_config()
    data["linkage"] = {
        "resources": [{"id": "garage", "type": "alarm_input", "device_class": "door"}],
        "rules": [
            {"id": "garage", "source": "garage", "event": "alarm_input",
             "actions": [{"resource": "cam1", "action": "capture_picture"}]},
        ],
    }  # fmt: skip
    served = await serve(data)
    await set_up_entry(hass, remote_entry(served))
    assert hass.states.get(SENSOR).state == STATE_OFF
    assert hass.states.get(SENSOR).attributes["device_class"] == "door"
    fired: list[dict[str, Any]] = []
    rule_done = asyncio.Event()

    @callback
    def on_bus(event: Event) -> None:
        fired.append(dict(event.data))
        if event.data["type"] == "linkage_fired" and event.data["phase"] == "end":
            rule_done.set()

    hass.bus.async_listen(EVENT_CAMERA_RUNTIME, on_bus)

    await served.runtime.linkage.receive("garage", {"state": "closed"})  # normally open
    await wait_for_state(hass, SENSOR, lambda s: s == STATE_ON)
    await served.runtime.linkage.receive("garage", {"state": "open"})
    await wait_for_state(hass, SENSOR, lambda s: s == STATE_OFF)
    await hass.async_block_till_done()
    ours = [e for e in fired if e["type"] == "alarm_input"]
    assert [e["phase"] for e in ours] == ["new", "end"]
    assert ours[0]["data"]["source"] == "garage" and ours[0]["channel"] == ""
    device = er.async_get(hass).async_get(SENSOR).device_id
    assert ours[0]["device_id"] == device
    async with asyncio.timeout(15):
        await rule_done.wait()
    (linkage,) = [e for e in fired if e["type"] == "linkage_fired" and e["phase"] == "end"]
    assert linkage["data"]["actions"][0]["outcome"] == "ok"
    assert linkage["data"]["trigger"]["source"] == "garage"
