"""The Camera Runtime integration: a camera runtime (remote over its API, or embedded in Home
Assistant's process) mapped to devices, entities, services, device triggers and bus events.

The integration holds no video logic: the ``camera_runtime.client`` library does the I/O and
keeps the runtime's state current from pushed updates; this package maps that state to Home
Assistant and back.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_TOKEN,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from camera_runtime.client import (
    CameraRuntimeError,
    CannotConnectError,
    InvalidAuthError,
    NotActivatedError,
    RemoteClient,
    RequestError,
    RuntimeClient,
)
from camera_runtime.exceptions import AuthError, ConfigError

from .const import (
    CONF_CONFIG_PATH,
    CONF_MODE,
    CONF_TOKEN_ID,
    DOMAIN,
    EMBEDDED_STORAGE,
    EVENT_CAMERA_RUNTIME,
    ISSUE_MQTT_DUPLICATE,
    MODE_EMBEDDED,
)
from .data import (
    CameraRuntimeConfigEntry,
    CameraRuntimeData,
    channel_identifier,
    forward_updates,
    runtime_identifier,
    split_channel_identifier,
)
from .services import async_setup_services
from .stream_view import register_stream_view

_LOGGER = logging.getLogger(__name__)

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Services are registered once, whatever entries load (quality rule action-setup), and so
    is the view that serves embedded runtimes' streams."""
    async_setup_services(hass)
    register_stream_view(hass)
    return True


def _embedded_client(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> RuntimeClient:
    """Build (not start) the runtime of an embedded entry and its client. Blocking, so run in
    the executor: the first import loads the video stack (the runtime, OpenCV, numpy, the
    plugins, paho), and building reads the YAML and loads the plugins."""
    from camera_runtime.client.local import LocalClient

    config_path = Path(hass.config.path(entry.data[CONF_CONFIG_PATH]))
    return LocalClient.from_file(config_path, data_dir=_embedded_data_dir(hass, entry))


def _embedded_data_dir(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> Path:
    """Where an embedded runtime keeps its state (ids, history, captures), one per entry."""
    return Path(hass.config.path(*EMBEDDED_STORAGE, entry.entry_id))


async def _create_client(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> RuntimeClient:
    if entry.data.get(CONF_MODE) == MODE_EMBEDDED:
        try:
            return await hass.async_add_executor_job(_embedded_client, hass, entry)
        except (ConfigError, OSError) as err:
            message = "; ".join(err.errors) if isinstance(err, ConfigError) else str(err)
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key="invalid_config",
                translation_placeholders={"message": message},
            ) from err
    return RemoteClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        token=entry.data[CONF_TOKEN],
    )


async def _start(client: RuntimeClient) -> dict[str, Any]:
    """Start the client; the runtime's refusals become setup retry, reauth or a setup error."""
    try:
        await client.start()
        return await client.device_info()
    except (CannotConnectError, NotActivatedError) as err:
        await client.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders={"message": err.message},
        ) from err
    except AuthError as err:
        await client.close()
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"message": err.message},
        ) from err
    except RequestError as err:
        await client.close()
        if err.status >= 500:  # e.g. 503 while the runtime starts: temporary, retry
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="runtime_unavailable",
                translation_placeholders={"message": err.message},
            ) from err
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="setup_failed",
            translation_placeholders={"message": err.message},
        ) from err
    except CameraRuntimeError as err:
        await client.close()
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="setup_failed",
            translation_placeholders={"message": err.message},
        ) from err


async def async_setup_entry(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> bool:
    client = await _create_client(hass, entry)
    device = await _start(client)
    data = CameraRuntimeData(client, device, start_reauth=lambda: entry.async_start_reauth(hass))
    entry.runtime_data = data
    # Registered first, so it runs last: after every listener below was removed. Embedded:
    # this stops the runtime and its channel threads.
    entry.async_on_unload(client.close)
    entry.async_on_unload(_stop_on_shutdown(hass, entry))

    registry = dr.async_get(hass)
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={runtime_identifier(data.device_id)},
        # The runtime's web page; an embedded runtime serves none (no HTTP server runs in
        # Home Assistant's process), so its device links nowhere.
        configuration_url=client.web_url,
        manufacturer="camera_runtime",
        model=device.get("model"),
        name=device.get("device_name"),
        serial_number=device.get("serial_no"),
        sw_version=device.get("firmware_version"),
    )
    _remove_stale_channel_devices(hass, entry, data)
    _check_mqtt_duplicates(hass, entry, data)

    entry.async_on_unload(client.subscribe_events(_event_forwarder(hass, entry, data)))
    entry.async_on_unload(client.subscribe_channels(_channel_remover(hass, entry, data)))
    entry.async_on_unload(client.subscribe_connection(_connection_logger(entry)))
    if isinstance(client, RemoteClient):
        entry.async_on_unload(client.subscribe_errors(_reauth_starter(hass, entry)))
    entry.async_on_unload(entry.add_update_listener(_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> None:
    """Removing the integration deletes what it made: an embedded runtime's data folder (its
    history and captures; the entry is unloaded, so the runtime is stopped), or the API token
    it made on a remote runtime (best effort: a runtime that is offline keeps it; its admin
    can delete it in the token list)."""
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_MQTT_DUPLICATE}_{entry.entry_id}")
    if entry.data.get(CONF_MODE) == MODE_EMBEDDED:
        folder = _embedded_data_dir(hass, entry)
        try:
            await hass.async_add_executor_job(shutil.rmtree, folder)
        except FileNotFoundError:
            pass
        except OSError as err:
            _LOGGER.warning("Could not delete the runtime's data folder %s: %s", folder, err)
        return
    token_id = entry.data.get(CONF_TOKEN_ID)
    if not token_id:
        return
    client = RemoteClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data[CONF_PORT],
        token=entry.data[CONF_TOKEN],
    )
    try:
        await client.delete_token(token_id)
    except CameraRuntimeError as err:
        _LOGGER.warning(
            "Could not delete the API token %s on %s: %s", token_id, client.base_url, err
        )


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: CameraRuntimeConfigEntry, device: DeviceEntry
) -> bool:
    """A channel device may be removed by hand once its channel is gone from the runtime."""
    data = entry.runtime_data
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        parsed = split_channel_identifier(identifier)
        if parsed is None:
            return False  # the runtime itself: remove the integration entry instead
        if parsed[1] in data.client.channels:
            return False
    return True


async def _options_updated(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)


@callback
def _remove_stale_channel_devices(
    hass: HomeAssistant, entry: CameraRuntimeConfigEntry, data: CameraRuntimeData
) -> None:
    """Channels removed from the runtime while Home Assistant was not looking (stale-devices)."""
    registry = dr.async_get(hass)
    current = {channel_identifier(data.device_id, c) for c in data.client.channels}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        ours = {i for i in device.identifiers if i[0] == DOMAIN}
        if not ours or runtime_identifier(data.device_id) in ours or ours & current:
            continue
        registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


@callback
def _channel_remover(
    hass: HomeAssistant, entry: CameraRuntimeConfigEntry, data: CameraRuntimeData
) -> Any:
    @callback
    def on_channel(update: dict[str, Any]) -> None:
        if update.get("change") != "removed":
            return
        registry = dr.async_get(hass)
        device = registry.async_get_device(
            identifiers={channel_identifier(data.device_id, update["channel"])}
        )
        if device is not None:
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)

    return on_channel


@callback
def _event_forwarder(
    hass: HomeAssistant, entry: CameraRuntimeConfigEntry, data: CameraRuntimeData
) -> Any:
    """``camera_runtime_event`` on Home Assistant's bus for every event start and end (and
    update, with the option), which device triggers and automations listen to."""
    updates = forward_updates(entry)

    @callback
    def on_event(update: dict[str, Any]) -> None:
        phase, event = update.get("phase"), update["event"]
        if phase == "update" and not updates:
            return
        channel = event["channel"]
        device = dr.async_get(hass).async_get_device(
            identifiers={
                channel_identifier(data.device_id, channel)
                if channel
                else runtime_identifier(data.device_id)  # the runtime's own (storage error)
            }
        )
        hass.bus.async_fire(
            EVENT_CAMERA_RUNTIME,
            {
                "device_id": device.id if device is not None else None,
                "runtime_id": data.device_id,
                "channel": event["channel"],
                "type": event["type"],
                "phase": phase,
                "event_id": event["id"],
                "start": event.get("start"),
                "end": event.get("end"),
                "data": event.get("data", {}),
            },
        )

    return on_event


@callback
def _stop_on_shutdown(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> CALLBACK_TYPE:
    """Close the client when Home Assistant stops, which does not unload entries: an embedded
    runtime's channel threads, history and MQTT bridge must end cleanly, and a remote
    runtime's push link must not try to reconnect over a session Home Assistant closes. The
    log says so once, rather than that the runtime became unavailable. Returns what stops
    listening (for the unload; harmless once the stop came)."""
    remove: CALLBACK_TYPE | None = None
    data = entry.runtime_data

    async def on_stop(event: Event) -> None:
        nonlocal remove
        remove = None  # a one-time listener is gone once it fired
        data.stopping = True
        await data.client.close()
        if entry.data.get(CONF_MODE) == MODE_EMBEDDED:
            _LOGGER.info("Camera runtime %s stopped with Home Assistant", entry.title)
        else:
            _LOGGER.info("Disconnected from camera runtime %s: Home Assistant stops", entry.title)

    remove = hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, on_stop)

    @callback
    def stop_listening() -> None:
        if remove is not None:
            remove()

    return stop_listening


@callback
def _connection_logger(entry: CameraRuntimeConfigEntry) -> Any:
    """Once when the runtime goes, once when it is back (quality rule log-when-unavailable);
    nothing when the link ends because Home Assistant stops."""

    @callback
    def on_connection(connected: bool) -> None:
        if entry.runtime_data.stopping:
            return
        if connected:
            _LOGGER.info("Camera runtime %s is back online", entry.title)
        else:
            _LOGGER.info("Camera runtime %s is unavailable; reconnecting", entry.title)

    return on_connection


@callback
def _reauth_starter(hass: HomeAssistant, entry: CameraRuntimeConfigEntry) -> Any:
    """A token refused while reconnecting (deleted on the runtime): ask the user again."""

    @callback
    def on_error(err: CameraRuntimeError) -> None:
        if isinstance(err, InvalidAuthError):
            entry.async_start_reauth(hass)

    return on_error


@callback
def _check_mqtt_duplicates(
    hass: HomeAssistant, entry: CameraRuntimeConfigEntry, data: CameraRuntimeData
) -> None:
    """A runtime that also publishes MQTT discovery shows every camera twice: say how to fix."""
    issue_id = f"{ISSUE_MQTT_DUPLICATE}_{entry.entry_id}"
    mqtt = (data.device.get("services") or {}).get("mqtt") or {}
    if mqtt.get("discovery"):
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_MQTT_DUPLICATE,
            translation_placeholders={"name": entry.title},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
