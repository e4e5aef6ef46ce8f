"""Fixtures for the integration's tests: a real runtime and API server on 127.0.0.1 (port 0),
activated, with an admin token, beside a real Home Assistant core (phcc).

The runtime fixtures do not depend on ``hass``: they are set up before it and torn down after
it unloaded its entries, so every runtime thread is gone before phcc checks for leftovers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TOKEN
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.camera_runtime  # noqa: F401 - lets Home Assistant find it
from custom_components.camera_runtime.const import CONF_MODE, CONF_TOKEN_ID, DOMAIN, MODE_REMOTE
from tests.camera_runtime.api.test_streams import make_ts
from tests.runtime_server import Served, ServeFactory, serving


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Every test may load custom integrations."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Sockets on (phcc disables them); phcc still allows connections to 127.0.0.1 only."""


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[ServeFactory]:
    """Start runtimes on demand: activated (unless told not to), with a token for tests."""
    async with serving(tmp_path) as start:
        yield start
    await wait_for_threads()


async def wait_for_threads(within: float = 10.0) -> None:
    """Live view encoders end on their own once the last viewer left: wait for them."""
    async with asyncio.timeout(within):
        while any(t.name.startswith("live-") for t in threading.enumerate()):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture
async def served(serve: ServeFactory) -> Served:
    return await serve()


@pytest.fixture(scope="session")
def h264_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short H.264 MPEG-TS file: a channel looping it has packets to record (a synthetic
    scene's stream is encoded only while someone watches)."""
    return make_ts(tmp_path_factory.mktemp("ha-clips") / "main.ts", (160, 120))


def recording_channel(clip: Path, channel_id: str, name: str) -> dict[str, Any]:
    """A channel that loops ``clip`` and records (on events and clips only)."""
    return {
        "id": channel_id,
        "name": name,
        "source": {"type": "file", "path": str(clip), "loop": True},
        "record": {"enabled": True, "record_type": "event"},
    }


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Home Assistant's config folder, in the test's own temporary folder."""
    folder = tmp_path / "config"
    folder.mkdir()
    hass.config.config_dir = str(folder)
    return folder


def remote_entry(served: Served, title: str = "Test NVR", **data: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=served.runtime.device_id,
        data={
            CONF_MODE: MODE_REMOTE,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: served.port,
            CONF_TOKEN: served.token,
            CONF_TOKEN_ID: None,
            **data,
        },
    )


async def set_up_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add ``entry`` to Home Assistant and set it up; it must load."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def loaded(hass: HomeAssistant, served: Served) -> MockConfigEntry:
    """A remote entry for ``served``, set up."""
    return await set_up_entry(hass, remote_entry(served))


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    predicate: Callable[[str | None], bool],
    within: float = 15.0,
) -> str | None:
    """Wait until ``predicate(state)`` holds for the entity's state (``None``: no state),
    woken by the state change events, not by polling."""
    from homeassistant.core import Event, EventStateChangedData, callback
    from homeassistant.helpers.event import async_track_state_change_event

    def current() -> str | None:
        state = hass.states.get(entity_id)
        return state.state if state is not None else None

    changed = asyncio.Event()

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        changed.set()

    unsubscribe = async_track_state_change_event(hass, [entity_id], on_change)
    try:
        async with asyncio.timeout(within):
            while not predicate(value := current()):
                changed.clear()
                await changed.wait()
            return value
    finally:
        unsubscribe()
