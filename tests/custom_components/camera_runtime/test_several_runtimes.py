"""Several runtimes in one Home Assistant (a runtime per floor): two remote entries whose
runtimes have the same channel id. Devices, entities, commands, events and availability stay
with their own runtime: everything is keyed by the runtime's device id."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.camera_runtime.const import DOMAIN, EVENT_CAMERA_RUNTIME
from tests.camera_runtime.client.helpers import motion_config

from .conftest import Served, ServeFactory, remote_entry, set_up_entry, wait_for_state

#: The floors' runtimes, by device name.
FLOORS = ("Upstairs", "Downstairs")


def floor(name: str) -> dict[str, Any]:
    """A runtime config: the same channel (``cam1``, "Front door") on every floor."""
    config = motion_config()
    config["device"]["name"] = name
    return config


async def test_two_runtimes_in_one_home_assistant(hass: HomeAssistant, serve: ServeFactory) -> None:
    floors: dict[str, Served] = {name: await serve(floor(name)) for name in FLOORS}
    upstairs, downstairs = FLOORS
    assert floors[upstairs].runtime.device_id != floors[downstairs].runtime.device_id
    entries = {
        name: await set_up_entry(hass, remote_entry(served, title=name))
        for name, served in floors.items()
    }
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries.values())

    # Each runtime has its device, with its channel device under it, linking its own page.
    devices = dr.async_get(hass)
    channel_devices = {}
    for name, served in floors.items():
        device_id = served.runtime.device_id
        runtime_device = devices.async_get_device(identifiers={(DOMAIN, device_id)})
        channel = devices.async_get_device(identifiers={(DOMAIN, f"{device_id}_cam1")})
        assert runtime_device is not None and channel is not None
        assert runtime_device.name == name and channel.name == "Front door"
        assert channel.via_device_id == runtime_device.id
        assert channel.configuration_url == f"http://127.0.0.1:{served.port}/"
        assert channel.config_entries == {entries[name].entry_id}
        channel_devices[name] = channel.id

    # The same entities for each runtime, under unique ids of its own.
    registry = er.async_get(hass)
    keys = {}
    for name, served in floors.items():
        own = er.async_entries_for_config_entry(registry, entries[name].entry_id)
        prefix = served.runtime.device_id
        assert all(e.unique_id.startswith(prefix) for e in own)
        keys[name] = {e.unique_id.removeprefix(prefix) for e in own}
    assert keys[upstairs] == keys[downstairs] and "_cam1_arming" in keys[upstairs]

    def entity(name: str, platform: str, key: str) -> str:
        unique_id = f"{floors[name].runtime.device_id}{key}"
        found = registry.async_get_entity_id(platform, DOMAIN, unique_id)
        assert found is not None
        return found

    arming = {name: entity(name, "switch", "_cam1_arming") for name in floors}
    camera = {name: entity(name, "camera", "_cam1_camera") for name in floors}
    assert len(set(arming.values())) == len(set(camera.values())) == 2

    # Commands go to the entity's own runtime, and pushed changes come back to its entity.
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": arming[upstairs]}, blocking=True
    )
    assert floors[upstairs].runtime.channel("cam1").armed is False
    assert floors[downstairs].runtime.channel("cam1").armed is True
    assert hass.states.get(arming[downstairs]).state == STATE_ON
    await floors[downstairs].runtime.set_armed("cam1", False)
    await wait_for_state(hass, arming[downstairs], lambda s: s == STATE_OFF)
    # One action may target channels of both runtimes.
    await hass.services.async_call(
        DOMAIN, "arm", {ATTR_DEVICE_ID: list(channel_devices.values())}, blocking=True
    )
    assert all(served.runtime.channel("cam1").armed for served in floors.values())

    # Events name their runtime and their own channel device.
    seen: dict[str, str | None] = {}
    both = asyncio.Event()

    @callback
    def on_event(event: Event) -> None:
        if event.data["type"] == "motion" and event.data["phase"] == "new":
            seen[event.data["runtime_id"]] = event.data["device_id"]
            if len(seen) == 2:
                both.set()

    unsubscribe = hass.bus.async_listen(EVENT_CAMERA_RUNTIME, on_event)
    async with asyncio.timeout(15):
        await both.wait()
    unsubscribe()
    assert seen == {s.runtime.device_id: channel_devices[n] for n, s in floors.items()}

    # One runtime stops: only its entities become unavailable.
    await floors[upstairs].stop()
    await wait_for_state(hass, camera[upstairs], lambda s: s == STATE_UNAVAILABLE)
    assert hass.states.get(arming[upstairs]).state == STATE_UNAVAILABLE
    assert hass.states.get(camera[downstairs]).state != STATE_UNAVAILABLE
    assert hass.states.get(arming[downstairs]).state == STATE_ON
    assert entries[downstairs].runtime_data.client.connected
