"""Setting up and unloading a remote entry against a real runtime."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_runtime.const import DOMAIN

from .conftest import Served


async def test_setup_and_unload(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    assert loaded.state is ConfigEntryState.LOADED
    devices = dr.async_get(hass)
    runtime_device = devices.async_get_device(identifiers={(DOMAIN, served.runtime.device_id)})
    assert runtime_device is not None and runtime_device.name == "Test NVR"
    channel = devices.async_get_device(identifiers={(DOMAIN, f"{served.runtime.device_id}_cam1")})
    assert channel is not None and channel.via_device_id == runtime_device.id
    assert channel.name == "Front door"
    entities = er.async_get(hass)
    found = {e.entity_id for e in er.async_entries_for_config_entry(entities, loaded.entry_id)}
    print(sorted(found))
    assert await hass.config_entries.async_unload(loaded.entry_id)
    assert loaded.state is ConfigEntryState.NOT_LOADED
