"""A detector removed from a channel's configuration between two runs of the runtime: Home
Assistant's real MQTT integration removes its entity (the bridge remembers, in its outbox
file, what it announced), while the channel's other entities stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.camera_runtime.mqtt.conftest import motion_channel
from tests.mosquitto import Mosquitto

from .conftest import Camera, entity_id, start_camera, until


async def start(broker: Mosquitto, channel: dict[str, Any], data_dir: Path) -> Camera:
    data = {
        "channels": [channel],
        "mqtt": {"host": broker.host, "port": broker.port},
        "zeroconf": {"enabled": False},
    }
    return await start_camera(data, data_dir)


async def test_removed_detector_entity_disappears_after_restart(
    hass: HomeAssistant, ha_mqtt: MockConfigEntry, broker: Mosquitto, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = await start(broker, motion_channel("yard"), data_dir)
    try:
        uid = f"camera_runtime_{first.runtime.device_id}_yard"
        await until(
            hass, lambda: entity_id(hass, "binary_sensor", f"{uid}_motion"), "the motion sensor"
        )
    finally:
        await first.stop()

    second = await start(broker, {**motion_channel("yard"), "detectors": {}}, data_dir)
    try:
        assert second.runtime.device_id == first.runtime.device_id
        await until(
            hass,
            lambda: entity_id(hass, "binary_sensor", f"{uid}_motion") is None,
            "the motion sensor to be removed",
        )
        assert entity_id(hass, "switch", f"{uid}_motion_detection") is None
        assert entity_id(hass, "binary_sensor", f"{uid}_video_loss") is not None
        assert entity_id(hass, "switch", f"{uid}_arming") is not None
    finally:
        await second.stop()
