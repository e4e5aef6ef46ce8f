"""The entry's life against a real runtime: offline at start (retry, then recovery), refused
credentials (reauth), the runtime restarting (unavailable, then back), channels added and
removed on the runtime (dynamic and stale devices), removal of the entry, embedded mode."""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from aiohttp import web
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_TOKEN,
    EVENT_HOMEASSISTANT_STOP,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from camera_runtime.client import InvalidAuthError, RemoteClient
from custom_components.camera_runtime import async_remove_config_entry_device
from custom_components.camera_runtime.const import (
    CONF_CONFIG_PATH,
    CONF_MODE,
    CONF_TOKEN_ID,
    DOMAIN,
    ISSUE_MQTT_DUPLICATE,
    MODE_EMBEDDED,
)
from tests.camera_runtime.client.helpers import motion_channel, motion_config
from tests.ports import free_port

from .conftest import Served, ServeFactory, remote_entry, set_up_entry, wait_for_state


def _channel_device(hass: HomeAssistant, served: Served, channel: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{served.runtime.device_id}_{channel}")}
    )


async def test_devices_link_the_runtime_web_page(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    """configuration_url: the runtime's web page on its device and on its channels' (the page
    has no address per channel yet)."""
    runtime_device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, served.runtime.device_id)}
    )
    channel_device = _channel_device(hass, served, "cam1")
    assert runtime_device is not None and channel_device is not None
    page = f"http://127.0.0.1:{served.port}/"
    assert runtime_device.configuration_url == page
    assert channel_device.configuration_url == page


async def test_offline_at_start_then_recovers(
    hass: HomeAssistant, serve: ServeFactory, tmp_path: Path
) -> None:
    """Test plan E6: SETUP_RETRY, then loaded without a restart once the runtime is up."""
    first = await serve()
    port, folder, token = first.port, first.data_dir, first.token
    await first.stop()
    entry = remote_entry(first)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    again = await serve(port=port, data_dir=folder)
    assert again.runtime.device_id == first.runtime.device_id
    assert again.server.security.token_user(token) is not None
    loaded = asyncio.Event()
    entry.async_on_state_change(
        lambda: loaded.set() if entry.state is ConfigEntryState.LOADED else None
    )
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    async with asyncio.timeout(15):
        await loaded.wait()
    await wait_for_state(hass, "camera.front_door", lambda s: s not in (None, STATE_UNAVAILABLE))


async def test_refused_token_starts_reauth(hass: HomeAssistant, served: Served) -> None:
    """Test plan E6: bad credentials -> ConfigEntryAuthFailed -> a reauth flow."""
    entry = remote_entry(served, **{CONF_TOKEN: "crt_revoked"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_not_activated_runtime_is_retried(hass: HomeAssistant, serve: ServeFactory) -> None:
    served = await serve(activate=False)
    entry = remote_entry(served, **{CONF_TOKEN: "crt_x"})
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_runtime_restart_unavailable_then_back(
    hass: HomeAssistant, serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    served = await serve()
    await set_up_entry(hass, remote_entry(served))
    camera = "camera.front_door"
    await served.stop()
    await wait_for_state(hass, camera, lambda s: s == STATE_UNAVAILABLE)
    assert hass.states.get("binary_sensor.test_nvr_connectivity").state == "off"
    assert hass.states.get("switch.front_door_arming").state == STATE_UNAVAILABLE
    await serve(port=served.port, data_dir=served.data_dir)
    await wait_for_state(hass, camera, lambda s: s not in (None, STATE_UNAVAILABLE))
    assert hass.states.get("binary_sensor.test_nvr_connectivity").state == STATE_ON
    assert hass.states.get("switch.front_door_arming").state == STATE_ON
    assert caplog.text.count("Test NVR is unavailable") == 1
    assert caplog.text.count("Test NVR is back online") == 1


async def test_deleted_token_starts_reauth_while_running(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    served = await serve()
    await set_up_entry(hass, remote_entry(served))
    await served.server.security.delete_token(served.token_id)
    await served.stop()
    await wait_for_state(hass, "camera.front_door", lambda s: s == STATE_UNAVAILABLE)
    await serve(port=served.port, data_dir=served.data_dir)
    async with asyncio.timeout(15):
        while not hass.config_entries.flow.async_progress_by_handler(DOMAIN):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flows[0]["context"]["source"] == SOURCE_REAUTH


async def test_deleted_token_unavailable_and_reauth_at_once(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    """The token is deleted on the runtime while Home Assistant is connected: the runtime
    closes the push socket (4401), the client tries again at once and is refused, so the
    entities go unavailable and a reauth flow starts without waiting for a backoff."""
    client = loaded.runtime_data.client
    assert isinstance(client, RemoteClient)
    client._backoff_start = 60.0  # a reauth that waited for the backoff would time out
    errors: asyncio.Queue[Exception] = asyncio.Queue()
    client.subscribe_errors(errors.put_nowait)
    await served.server.security.delete_token(served.token_id)
    await wait_for_state(hass, "camera.front_door", lambda s: s == STATE_UNAVAILABLE, within=5)
    async with asyncio.timeout(5):
        assert isinstance(await errors.get(), InvalidAuthError)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == loaded.entry_id
    assert hass.states.get("switch.front_door_arming").state == STATE_UNAVAILABLE


async def test_refused_command_starts_reauth(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    """A command refused with invalid auth starts the reauth at once, even while the push
    link is still up (e.g. a runtime that does not close a revoked token's socket): here the
    client's token for requests is replaced by one the runtime never issued."""
    client = loaded.runtime_data.client
    assert isinstance(client, RemoteClient)
    client.api.token = "crt_never-issued"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.front_door_arming"}, blocking=True
        )
    assert err.value.translation_key == "invalid_auth"
    assert served.runtime.channel("cam1").armed is True
    await hass.async_block_till_done()
    assert client.connected  # the push link was not what failed
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_channels_added_and_removed_on_the_runtime(
    hass: HomeAssistant, served: Served, loaded: MockConfigEntry
) -> None:
    """dynamic-devices and stale-devices, without a reload."""
    await served.runtime.add_channel(motion_channel("cam2", "Garden"))
    await wait_for_state(hass, "camera.garden", lambda s: s not in (None, STATE_UNAVAILABLE))
    device = _channel_device(hass, served, "cam2")
    assert device is not None and device.name == "Garden"
    assert hass.states.get("switch.garden_arming").state == STATE_ON
    # While the channel exists its device cannot be removed by hand.
    assert not await async_remove_config_entry_device(hass, loaded, device)
    await served.runtime.remove_channel("cam2")
    await wait_for_state(hass, "camera.garden", lambda s: s is None)
    await hass.async_block_till_done()
    assert _channel_device(hass, served, "cam2") is None
    assert await async_remove_config_entry_device(hass, loaded, device)
    runtime_device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, served.runtime.device_id)}
    )
    assert runtime_device is not None
    assert not await async_remove_config_entry_device(hass, loaded, runtime_device)


async def test_stale_channel_devices_are_removed_at_setup(
    hass: HomeAssistant, served: Served
) -> None:
    entry = remote_entry(served)
    entry.add_to_hass(hass)
    stale = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{served.runtime.device_id}_gone")},
        name="Gone",
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert dr.async_get(hass).async_get(stale.id) is None
    assert _channel_device(hass, served, "cam1") is not None


async def test_removing_the_entry_deletes_its_token(hass: HomeAssistant, served: Served) -> None:
    user = served.server.security.user("admin")
    assert user is not None
    token, secret = await served.server.security.create_token("Home Assistant (x)", user)
    entry = await set_up_entry(
        hass, remote_entry(served, **{CONF_TOKEN: secret, CONF_TOKEN_ID: token.id})
    )
    await hass.config_entries.async_remove(entry.entry_id)
    assert served.server.security.token_user(secret) is None


async def test_removing_an_entry_of_an_offline_runtime(
    hass: HomeAssistant, served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    entry = remote_entry(served, **{CONF_PORT: free_port(), CONF_TOKEN_ID: "abc"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_remove(entry.entry_id)
    assert "Could not delete the API token abc" in caplog.text


class _ImportWitness(importlib.abc.MetaPathFinder):
    """Notes the thread that imports ``name`` (then lets the normal finders load it)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.threads: list[int] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == self.name:
            self.threads.append(threading.get_ident())
        return None


async def test_embedded_end_to_end(
    hass: HomeAssistant, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The embedded stack is imported in the executor, never on the event loop. This process
    # imported the runtime already (the test fixtures need it), so the witness watches the
    # module that the setup itself imports first: the local client.
    import camera_runtime.client

    monkeypatch.delitem(sys.modules, "camera_runtime.client.local", raising=False)
    monkeypatch.delattr(camera_runtime.client, "local", raising=False)
    witness = _ImportWitness("camera_runtime.client.local")
    monkeypatch.setattr(sys, "meta_path", [witness, *sys.meta_path])
    (config_dir / "camera_runtime.yaml").write_text(yaml.safe_dump(motion_config()))
    entry = await set_up_entry(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            unique_id="embedded:camera_runtime.yaml",
            data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "camera_runtime.yaml"},
        ),
    )
    assert witness.threads and hass.loop_thread_id not in witness.threads
    client = entry.runtime_data.client
    runtime = client.runtime  # type: ignore[attr-defined]
    assert runtime.data_dir == config_dir / ".storage" / "camera_runtime" / entry.entry_id
    motion = "binary_sensor.front_door_motion"
    await wait_for_state(hass, motion, lambda s: s == STATE_ON)
    await wait_for_state(hass, motion, lambda s: s == "off")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.front_door_arming"}, blocking=True
    )
    assert runtime.channel("cam1").armed is False
    from homeassistant.components.camera import async_get_image

    image = await async_get_image(hass, "camera.front_door")
    assert image.content[:2] == b"\xff\xd8"
    # No web page runs in Home Assistant's process: the devices link nowhere.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 2
    assert all(device.configuration_url is None for device in devices)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert all(c.state == "stopped" for c in runtime.channels.values())


async def _embedded_entry(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    (config_dir / "camera_runtime.yaml").write_text(yaml.safe_dump(motion_config()))
    return await set_up_entry(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Test NVR",
            unique_id="embedded:camera_runtime.yaml",
            data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "camera_runtime.yaml"},
        ),
    )


async def test_embedded_runtime_stops_with_home_assistant(
    hass: HomeAssistant, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Home Assistant does not unload entries when it stops: the embedded runtime stops on
    EVENT_HOMEASSISTANT_STOP itself; a later unload closes nothing twice."""
    entry = await _embedded_entry(hass, config_dir)
    runtime = entry.runtime_data.client.runtime  # type: ignore[attr-defined]
    assert all(c.state != "stopped" for c in runtime.channels.values())
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert all(c.state == "stopped" for c in runtime.channels.values())
    assert not entry.runtime_data.client.connected
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert "Unable to remove unknown job listener" not in caplog.text
    assert "Camera runtime Test NVR stopped with Home Assistant" in caplog.text
    assert "unavailable" not in caplog.text


@pytest.mark.parametrize("mode", ["embedded", "remote"])
async def test_home_assistant_stop_logs_a_stop_not_an_outage(
    hass: HomeAssistant,
    config_dir: Path,
    serve: ServeFactory,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    """A real stop of Home Assistant: the embedded runtime stops, a remote one's push link
    ends without trying to reconnect; the log says that once, and no "unavailable;
    reconnecting" (the runtime is not unavailable, Home Assistant goes)."""
    if mode == "embedded":
        entry = await _embedded_entry(hass, config_dir)
        expected = "Camera runtime Test NVR stopped with Home Assistant"
    else:
        entry = await set_up_entry(hass, remote_entry(await serve()))
        expected = "Disconnected from camera runtime Test NVR: Home Assistant stops"
    client = entry.runtime_data.client
    caplog.clear()
    await hass.async_stop()
    assert not client.connected
    assert caplog.text.count(expected) == 1
    assert "unavailable" not in caplog.text and "reconnecting" not in caplog.text
    if mode == "embedded":
        runtime = client.runtime  # type: ignore[attr-defined]
        assert all(c.state == "stopped" for c in runtime.channels.values())
    else:
        assert isinstance(client, RemoteClient) and client._task is None  # no reconnecting


async def test_removing_an_embedded_entry_deletes_its_data(
    hass: HomeAssistant, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    never_loaded = MockConfigEntry(
        domain=DOMAIN, data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "missing.yaml"}
    )
    never_loaded.add_to_hass(hass)
    await hass.config_entries.async_remove(never_loaded.entry_id)  # no folder: nothing to do
    assert "Could not delete" not in caplog.text
    entry = await _embedded_entry(hass, config_dir)
    folder = config_dir / ".storage" / "camera_runtime" / entry.entry_id
    assert folder.is_dir() and any(folder.iterdir())
    other = config_dir / ".storage" / "camera_runtime" / "another-entry"
    other.mkdir()
    await hass.config_entries.async_remove(entry.entry_id)
    assert not folder.exists()
    assert other.is_dir()  # only the removed entry's folder
    assert (config_dir / "camera_runtime.yaml").is_file()  # the user's config stays


async def test_embedded_invalid_config(hass: HomeAssistant, config_dir: Path) -> None:
    bad = motion_config()
    bad["channels"][0]["source"]["fps"] = 0
    (config_dir / "bad.yaml").write_text(yaml.safe_dump(bad))
    entry = MockConfigEntry(
        domain=DOMAIN, data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "bad.yaml"}
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "fps" in (entry.reason or "")


@pytest.mark.parametrize(
    ("status", "state"),
    [(503, ConfigEntryState.SETUP_RETRY), (400, ConfigEntryState.SETUP_ERROR)],
)
async def test_runtime_error_answers_at_setup(
    hass: HomeAssistant, status: int, state: ConfigEntryState
) -> None:
    """A runtime that answers 5xx (e.g. 503 while it starts) is retried; a 4xx is an error."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "activated": True})

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "starting", "message": "not ready"}, status=status)

    app = web.Application()
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/events/ws", refuse)
    app.router.add_get("/api/device", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            data={
                CONF_MODE: "remote",
                CONF_HOST: "127.0.0.1",
                CONF_PORT: runner.addresses[0][1],
                CONF_TOKEN: "crt_x",
            },
        )
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is state
        assert "not ready" in (entry.reason or "")
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await runner.cleanup()


async def test_runtime_with_mqtt_discovery_raises_a_repair(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    """The runtime's MQTT bridge (no broker listening: it keeps trying in the background)
    with discovery on by default would duplicate every entity: a repair issue says so."""
    config = motion_config()
    config["mqtt"] = {"host": "127.0.0.1", "port": free_port()}
    served = await serve(config)
    assert served.runtime.device_info()["services"]["mqtt"] == {"discovery": True}
    entry = await set_up_entry(hass, remote_entry(served))
    issue_id = f"{ISSUE_MQTT_DUPLICATE}_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.translation_key == ISSUE_MQTT_DUPLICATE
    assert issue.translation_placeholders == {"name": "Test NVR"}
    await hass.config_entries.async_remove(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None


def test_issue_registry_is_clean(hass: HomeAssistant) -> None:
    assert not ir.async_get(hass).issues
