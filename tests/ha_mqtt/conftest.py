"""Fixtures for the Home Assistant MQTT test: a real Mosquitto, a real runtime with its MQTT
bridge, and Home Assistant's own MQTT integration (a real config entry) on the same broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from camera_runtime.host import compose, runtime_from_data
from camera_runtime.mqtt import MqttBridge
from camera_runtime.runtime import Runtime
from tests.camera_runtime.mqtt.conftest import motion_channel
from tests.mosquitto import Mosquitto, broker_fixture


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Sockets on (phcc disables them); phcc still allows connections to 127.0.0.1 only."""


broker = broker_fixture()


class Camera:
    """The runtime with its bridge; ``stop()`` (the runtime stops its channels first, then the
    bridge) is idempotent."""

    def __init__(self, runtime: Runtime, bridge: MqttBridge) -> None:
        self.runtime = runtime
        self.bridge = bridge
        self.stopped = False

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        await self.runtime.stop()


async def start_camera(
    data: dict[str, Any], data_dir: Path, plugins: tuple[object, ...] = ()
) -> Camera:
    """A runtime composed with its faces (MQTT only here), started."""
    runtime = runtime_from_data(data, data_dir=data_dir, extra_plugins=plugins)
    bridge = compose(runtime, api=False).mqtt
    assert isinstance(bridge, MqttBridge)
    await runtime.start()
    return Camera(runtime, bridge)


@pytest.fixture
async def camera(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Camera]:
    data = {
        "channels": [motion_channel("yard")],
        "mqtt": {"host": broker.host, "port": broker.port},
        "zeroconf": {"enabled": False},
    }
    started = await start_camera(data, tmp_path / "data")
    yield started
    await started.stop()


@pytest.fixture
async def ha_mqtt(
    hass: HomeAssistant, broker: Mosquitto, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's MQTT integration, connected to the real broker, discovery on.
    (``mock_hass_config``: an empty configuration.yaml, which the MQTT setup reads.)"""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={mqtt.CONF_BROKER: broker.host, "port": broker.port},
        # No birth message: on a reconnect to a restarted broker, HA 2025.4 may publish it
        # before paho reports the connection (NO_CONN), and phcc fails the test on that
        # unretrieved task. The bridge's reaction to the birth message is tested on its own.
        options={"birth_message": {}},
        version=mqtt.CONFIG_ENTRY_VERSION,
        minor_version=mqtt.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def until(
    hass: HomeAssistant, predicate: Callable[[], Any], what: str, within: float = 30
) -> Any:
    """Wait for a Home Assistant state the test cannot subscribe to more simply."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await hass.async_block_till_done()
        result = predicate()
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(platform, mqtt.DOMAIN, unique_id)
