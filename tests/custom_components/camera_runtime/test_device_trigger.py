"""Device triggers firing a real automation from real motion events."""

from __future__ import annotations

from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)

from custom_components.camera_runtime.const import DOMAIN

from .conftest import Served, wait_for_state


async def test_triggers_listed_for_channels_only(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    devices = dr.async_get(hass)
    channel = devices.async_get_device(identifiers={(DOMAIN, f"{served.runtime.device_id}_cam1")})
    runtime = devices.async_get_device(identifiers={(DOMAIN, served.runtime.device_id)})
    assert channel is not None and runtime is not None
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, channel.id)
    ours = {t["type"] for t in triggers if t["domain"] == DOMAIN}
    assert ours == {"motion_started", "motion_ended", "video_loss_started", "video_loss_ended"}
    runtime_triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, runtime.id
    )
    assert not [t for t in runtime_triggers if t["domain"] == DOMAIN]


async def test_motion_started_runs_an_automation(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "automation")
    channel = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{served.runtime.device_id}_cam1")}
    )
    assert channel is not None
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "trigger": {
                        "platform": "device",
                        "domain": DOMAIN,
                        "device_id": channel.id,
                        "type": trigger,
                    },
                    "action": {
                        "service": "test.automation",
                        "data_template": {
                            "what": trigger,
                            "event": "{{ trigger.event.data.event_id }}",
                        },
                    },
                }
                for trigger in ("motion_started", "motion_ended")
            ]
        },
    )
    motion = "binary_sensor.front_door_motion"
    await wait_for_state(hass, motion, lambda s: s == "off")
    await wait_for_state(hass, motion, lambda s: s == "on")
    await wait_for_state(hass, motion, lambda s: s == "off")
    await hass.async_block_till_done()
    started = [c.data for c in calls if c.data["what"] == "motion_started"]
    ended = [c.data for c in calls if c.data["what"] == "motion_ended"]
    assert started and started[0]["event"] in [e["event"] for e in ended]
