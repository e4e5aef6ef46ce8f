"""Several runtimes, one broker, one Home Assistant (a runtime per floor): two runtimes with
their own data folders and the same channel id on one Mosquitto, with Home Assistant's real
MQTT integration. Nothing is set for it: each runtime's device id keeps its topics, discovery
ids and MQTT client id apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.camera_runtime.mqtt.conftest import motion_channel
from tests.mosquitto import Mosquitto

from .conftest import Camera, entity_id, start_camera, until


def floor(name: str, broker: Mosquitto) -> dict[str, Any]:
    """One floor's runtime config: the same channel id and name on every floor."""
    return {
        "device": {"name": name},
        "channels": [{**motion_channel("cam1"), "name": "Hall"}],
        "mqtt": {"host": broker.host, "port": broker.port},
        "zeroconf": {"enabled": False},
    }


def node(camera: Camera) -> str:
    """The discovery id (and unique id prefix) of the camera's channel ``cam1``."""
    return f"camera_runtime_{camera.runtime.device_id}_cam1"


async def test_two_runtimes_share_one_broker_and_home_assistant(
    hass: HomeAssistant,
    ha_mqtt: MockConfigEntry,
    broker: Mosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstairs = await start_camera(floor("Upstairs", broker), tmp_path / "upstairs")
    downstairs = await start_camera(floor("Downstairs", broker), tmp_path / "downstairs")
    floors = (upstairs, downstairs)
    try:
        assert upstairs.runtime.device_id != downstairs.runtime.device_id
        topics = [camera.bridge.topics.base for camera in floors]
        assert topics[0] != topics[1]

        # Both runtimes' devices and entities appear, each channel under its own runtime.
        arming = {}
        motion = {}
        for camera in floors:
            uid = node(camera)
            arming[camera] = await until(
                hass, lambda uid=uid: entity_id(hass, "switch", f"{uid}_arming"), "arming"
            )
            motion[camera] = await until(
                hass, lambda uid=uid: entity_id(hass, "binary_sensor", f"{uid}_motion"), "motion"
            )
        for camera in floors:
            await until(
                hass, lambda e=arming[camera]: hass.states.get(e).state == STATE_ON, "available"
            )
        devices = dr.async_get(hass)
        for camera, name in ((upstairs, "Upstairs"), (downstairs, "Downstairs")):
            runtime_device = devices.async_get_device(
                {("mqtt", f"camera_runtime_{camera.runtime.device_id}")}
            )
            channel_device = devices.async_get_device({("mqtt", node(camera))})
            assert runtime_device is not None and runtime_device.name == name
            assert channel_device is not None and channel_device.name == "Hall"
            assert channel_device.via_device_id == runtime_device.id

        # No unique id clash: each runtime has the same set of entities, under its own ids.
        for camera in floors:
            uid = node(camera)
            await until(hass, lambda uid=uid: entity_id(hass, "camera", f"{uid}_snapshot"), "cam")
        entries = er.async_entries_for_config_entry(er.async_get(hass), ha_mqtt.entry_id)
        keys = {
            camera: {
                e.unique_id.removeprefix(f"camera_runtime_{camera.runtime.device_id}")
                for e in entries
                if e.unique_id.startswith(f"camera_runtime_{camera.runtime.device_id}")
            }
            for camera in floors
        }
        assert keys[upstairs] == keys[downstairs] and "_cam1_arming" in keys[upstairs]
        assert len(entries) == len(keys[upstairs]) + len(keys[downstairs])
        assert "does not generate unique IDs" not in caplog.text
        assert "already exists" not in caplog.text

        # A command reaches the runtime whose entity it is, and only that one.
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": arming[upstairs]}, blocking=True
        )
        await until(hass, lambda: hass.states.get(arming[upstairs]).state == STATE_OFF, "off")
        assert upstairs.runtime.channels["cam1"].armed is False
        assert downstairs.runtime.channels["cam1"].armed is True
        assert hass.states.get(arming[downstairs]).state == STATE_ON
        # And a change on one runtime shows on its own entity only.
        await downstairs.runtime.set_armed("cam1", False)
        await until(hass, lambda: hass.states.get(arming[downstairs]).state == STATE_OFF, "off")
        await upstairs.runtime.set_armed("cam1", True)
        await until(hass, lambda: hass.states.get(arming[upstairs]).state == STATE_ON, "on")
        assert downstairs.runtime.channels["cam1"].armed is False

        # Each bridge kept its own broker session: distinct client ids, never one
        # taking over the other's connection.
        assert upstairs.bridge.connected and downstairs.bridge.connected
        log = broker.log_path.read_text()
        for camera in floors:
            assert f"as camera_runtime-{camera.runtime.device_id}" in log
        assert "already connected" not in log

        # One runtime stops: only its entities become unavailable.
        await upstairs.stop()
        for entity in (arming[upstairs], motion[upstairs]):
            await until(
                hass, lambda e=entity: hass.states.get(e).state == STATE_UNAVAILABLE, "gone"
            )
        assert hass.states.get(arming[downstairs]).state == STATE_OFF
        assert hass.states.get(motion[downstairs]).state != STATE_UNAVAILABLE
        assert downstairs.bridge.connected
    finally:
        for camera in floors:
            await camera.stop()
