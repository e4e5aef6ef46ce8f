"""The config flow against real runtimes: user (remote and embedded), zeroconf, reauth,
reconfigure and options, with every error path."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from homeassistant import config_entries
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.selector import TextSelector, TextSelectorType
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_runtime.const import (
    CONF_CONFIG_PATH,
    CONF_FORWARD_UPDATES,
    CONF_MODE,
    CONF_TOKEN_ID,
    DOMAIN,
    MODE_EMBEDDED,
    MODE_REMOTE,
)
from tests.camera_runtime.client.helpers import PASSWORD, motion_config
from tests.ports import free_port

from .conftest import Served, ServeFactory, remote_entry


async def _remote_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [MODE_REMOTE, MODE_EMBEDDED]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": MODE_REMOTE}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == MODE_REMOTE
    return result


def _token_names(served: Served) -> list[str]:
    return [t.name for t in served.server.security.tokens()]


def _fields(result: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """A form's fields: name -> (validator, suggested value or None)."""
    fields = {}
    for marker, validator in result["data_schema"].schema.items():
        suggested = (marker.description or {}).get("suggested_value")
        fields[str(marker)] = (validator, suggested)
    return fields


def _assert_secrets_hidden(result: dict[str, Any], typed: str = "") -> None:
    """Password and token are password fields, and ``typed`` (a refused secret) is not
    suggested back in any field."""
    fields = _fields(result)
    for name in (CONF_PASSWORD, CONF_TOKEN):
        validator, suggested = fields[name]
        assert isinstance(validator, TextSelector), name
        assert validator.config["type"] == TextSelectorType.PASSWORD, name
        assert suggested in (None, ""), name
    if typed:
        assert all(typed != suggested for _, suggested in fields.values())


async def test_remote_with_password_mints_a_token(hass: HomeAssistant, served: Served) -> None:
    result = await _remote_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_PASSWORD: PASSWORD},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Test NVR"
    assert result["result"].unique_id == served.runtime.device_id
    data = result["data"]
    assert data[CONF_MODE] == MODE_REMOTE and CONF_PASSWORD not in data
    assert served.server.security.token_user(data[CONF_TOKEN]) is not None
    assert "Home Assistant (test home)" in _token_names(served)
    assert data[CONF_TOKEN_ID] in [t.id for t in served.server.security.tokens()]


async def test_remote_errors_then_success(hass: HomeAssistant, serve: ServeFactory) -> None:
    served = await serve()
    result = await _remote_form(hass)
    flow = result["flow_id"]
    target = {CONF_HOST: "127.0.0.1", CONF_PORT: served.port}
    cases: list[tuple[dict[str, Any], str]] = [
        (target, "missing_credentials"),
        ({**target, CONF_PASSWORD: "Wr0ng-pass!"}, "invalid_auth"),
        ({**target, CONF_TOKEN: "crt_wrong"}, "invalid_auth"),
        (
            {CONF_HOST: "127.0.0.1", CONF_PORT: free_port(), CONF_PASSWORD: PASSWORD},
            "cannot_connect",
        ),
    ]
    for user_input, error in cases:
        result = await hass.config_entries.flow.async_configure(flow, user_input)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}, user_input
    fresh = await serve(activate=False)
    result = await hass.config_entries.flow.async_configure(
        flow, {CONF_HOST: "127.0.0.1", CONF_PORT: fresh.port, CONF_PASSWORD: PASSWORD}
    )
    assert result["errors"] == {"base": "not_activated"}
    result = await hass.config_entries.flow.async_configure(
        flow, {**target, CONF_TOKEN: served.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_TOKEN] == served.token and result["data"][CONF_TOKEN_ID] is None


async def test_remote_login_locked(hass: HomeAssistant, serve: ServeFactory) -> None:
    config = motion_config()
    config["security"] = {"illegal_login_lock": {"attempts": 3}}
    served = await serve(config)
    result = await _remote_form(hass)
    wrong = {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_PASSWORD: "Wr0ng-pass!"}
    for _ in range(3):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], wrong)
        assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**wrong, CONF_PASSWORD: PASSWORD, CONF_USERNAME: "admin"}
    )
    assert result["errors"] == {"base": "login_locked"}


async def test_remote_unexpected_answer(hass: HomeAssistant) -> None:
    """Something that says it is healthy but fails the device request: ``unknown``."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "activated": True})

    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "boom", "message": "broken"}, status=500)

    app = web.Application()
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/device", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        result = await _remote_form(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: runner.addresses[0][1], CONF_TOKEN: "crt_x"},
        )
        assert result["errors"] == {"base": "unknown"}
    finally:
        await runner.cleanup()


async def test_remote_already_configured_updates_the_address(
    hass: HomeAssistant, served: Served
) -> None:
    entry = remote_entry(served, **{CONF_HOST: "192.0.2.1"})
    entry.add_to_hass(hass)
    result = await _remote_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_TOKEN: served.token},
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.0.1"


async def test_remote_already_configured_mints_no_token(
    hass: HomeAssistant, served: Served
) -> None:
    """The duplicate is found with the password (digest) before a token is made: none is left
    behind on the runtime, and the existing entry keeps its own token."""
    entry = remote_entry(served, **{CONF_HOST: "192.0.2.1", CONF_TOKEN_ID: served.token_id})
    entry.add_to_hass(hass)
    before = _token_names(served)
    result = await _remote_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_PASSWORD: PASSWORD},
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"
    assert _token_names(served) == before
    assert entry.data[CONF_HOST] == "127.0.0.1"
    assert (entry.data[CONF_TOKEN], entry.data[CONF_TOKEN_ID]) == (served.token, served.token_id)


def _zeroconf(port: int, **properties: str) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address("127.0.0.1"),
        ip_addresses=[ip_address("127.0.0.1")],
        port=port,
        hostname="camera-runtime-abc.local.",
        type="_camera-runtime._tcp.local.",
        name="Test NVR abc._camera-runtime._tcp.local.",
        properties={"path": "/api", "version": "0.1.0", **properties},
    )


async def test_zeroconf_discovery_with_confirmation(hass: HomeAssistant, served: Served) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_ZEROCONF},
        data=_zeroconf(served.port, id=served.runtime.device_id, name="Test NVR"),
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "zeroconf_confirm"
    assert result["description_placeholders"]["name"] == "Test NVR"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "Wr0ng-pass!"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_HOST] == "127.0.0.1"
    assert result["data"][CONF_PORT] == served.port
    assert result["result"].unique_id == served.runtime.device_id


async def test_zeroconf_known_runtime_updates_host_and_port(
    hass: HomeAssistant, served: Served
) -> None:
    entry = remote_entry(served, **{CONF_HOST: "192.0.2.1", CONF_PORT: 1})
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_ZEROCONF},
        data=_zeroconf(served.port, id=served.runtime.device_id),
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"
    assert (entry.data[CONF_HOST], entry.data[CONF_PORT]) == ("127.0.0.1", served.port)


async def test_zeroconf_without_an_id(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=_zeroconf(8080)
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "not_camera_runtime"


async def test_reauth(hass: HomeAssistant, served: Served) -> None:
    """A new token replaces the entry's minted one, which is deleted on the runtime."""
    admin = served.server.security.user("admin")
    assert admin is not None
    old, old_secret = await served.server.security.create_token("Home Assistant (old)", admin)
    entry = remote_entry(served, **{CONF_TOKEN: old_secret, CONF_TOKEN_ID: old.id})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "Wr0ng-pass!"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reauth_successful"
    assert served.server.security.token_user(entry.data[CONF_TOKEN]) is not None
    assert entry.data[CONF_TOKEN_ID] not in (None, old.id)
    assert served.server.security.token_user(old_secret) is None
    assert "Home Assistant (old)" not in _token_names(served)
    await hass.async_block_till_done()


async def test_reauth_against_another_runtime(hass: HomeAssistant, served: Served) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="another-runtime",
        data={
            CONF_MODE: MODE_REMOTE,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: served.port,
            CONF_TOKEN: "x",
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOKEN: served.token}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "wrong_device"
    assert entry.data[CONF_TOKEN] == "x"


async def test_reconfigure_remote(
    hass: HomeAssistant, serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    served = await serve()
    entry = remote_entry(served, **{CONF_HOST: "192.0.2.1", CONF_TOKEN_ID: "old"})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: free_port()}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    # No credentials given: the entry's token is checked at the new address and kept.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: " 127.0.0.1 ", CONF_PORT: served.port}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HOST] == "127.0.0.1"
    assert (entry.data[CONF_TOKEN], entry.data[CONF_TOKEN_ID]) == (served.token, "old")
    await hass.async_block_till_done()

    # With a password: a new token replaces the old one.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_PASSWORD: PASSWORD}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_TOKEN] != served.token and entry.data[CONF_TOKEN_ID] != "old"
    # The replaced token id is deleted, best effort: "old" is unknown to the runtime.
    assert "Could not delete the replaced API token old" in caplog.text
    minted, minted_id = entry.data[CONF_TOKEN], entry.data[CONF_TOKEN_ID]
    await hass.async_block_till_done()

    # The same token pasted again: unchanged, so its id is kept.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_TOKEN: minted}
    )
    assert result["reason"] == "reconfigure_successful"
    assert (entry.data[CONF_TOKEN], entry.data[CONF_TOKEN_ID]) == (minted, minted_id)
    await hass.async_block_till_done()

    # Another token pasted: the minted one is deleted, the pasted one has no id to delete.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: served.port, CONF_TOKEN: served.token},
    )
    assert result["reason"] == "reconfigure_successful"
    assert (entry.data[CONF_TOKEN], entry.data[CONF_TOKEN_ID]) == (served.token, None)
    assert served.server.security.token_user(minted) is None
    await hass.async_block_till_done()

    # Another runtime at the new address: refused, and no token is made on it.
    other = await serve()
    before = _token_names(other)
    for credentials in ({CONF_TOKEN: other.token}, {CONF_PASSWORD: PASSWORD}):
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port, **credentials}
        )
        assert result["type"] is FlowResultType.ABORT and result["reason"] == "wrong_device"
    assert _token_names(other) == before
    assert entry.data[CONF_PORT] == served.port
    await hass.async_block_till_done()


def write_config(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


async def test_embedded(hass: HomeAssistant, config_dir: Path, tmp_path: Path) -> None:
    write_config(config_dir, "camera_runtime.yaml", motion_config())
    bad = motion_config()
    bad["channels"][0]["detectors"]["motion"]["sensitivity"] = 500
    write_config(config_dir, "bad.yaml", bad)
    write_config(tmp_path, "outside.yaml", motion_config())

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": MODE_EMBEDDED}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == MODE_EMBEDDED
    flow = result["flow_id"]
    for path, error in [
        ("../outside.yaml", "outside_config_dir"),
        ("missing.yaml", "config_not_found"),
        ("bad.yaml", "invalid_config"),
    ]:
        result = await hass.config_entries.flow.async_configure(flow, {CONF_CONFIG_PATH: path})
        assert result["errors"] == {CONF_CONFIG_PATH: error}
    assert "sensitivity" in result["description_placeholders"]["details"]
    result = await hass.config_entries.flow.async_configure(
        flow, {CONF_CONFIG_PATH: "camera_runtime.yaml"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "camera_runtime.yaml"}
    assert result["title"] == "Test NVR"  # the runtime's device.name, as a remote entry's
    await hass.async_block_till_done()

    # The same file again: one entry per file.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": MODE_EMBEDDED}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONFIG_PATH: "./camera_runtime.yaml"}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"


async def test_reconfigure_embedded(hass: HomeAssistant, config_dir: Path) -> None:
    for name in ("one.yaml", "two.yaml", "three.yaml"):
        write_config(config_dir, name, {"zeroconf": {"enabled": False}, "channels": []})
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="embedded:one.yaml",
        data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "one.yaml"},
    )
    entry.add_to_hass(hass)
    MockConfigEntry(
        domain=DOMAIN,
        unique_id="embedded:three.yaml",
        data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "three.yaml"},
    ).add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure_embedded"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONFIG_PATH: "nope.yaml"}
    )
    assert result["errors"] == {CONF_CONFIG_PATH: "config_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONFIG_PATH: "one.yaml"}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONFIG_PATH: "two.yaml"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == "embedded:two.yaml" and entry.data[CONF_CONFIG_PATH] == "two.yaml"
    await hass.async_block_till_done()

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CONFIG_PATH: "three.yaml"}
    )
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"
    await hass.async_block_till_done()


async def test_options(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(loaded.entry_id)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FORWARD_UPDATES: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded.options == {CONF_FORWARD_UPDATES: True}
    await hass.async_block_till_done()
    assert loaded.state is config_entries.ConfigEntryState.LOADED


async def test_secrets_are_password_fields_never_shown_back(
    hass: HomeAssistant, served: Served
) -> None:
    """Every step that asks for a password or token (user, zeroconf, reauth, reconfigure)
    hides them, and after a refused attempt shows the form again without them (host and
    port stay, so only the password needs typing again)."""
    wrong = "Wr0ng-pass!"
    target = {CONF_HOST: "127.0.0.1", CONF_PORT: served.port}

    result = await _remote_form(hass)
    _assert_secrets_hidden(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**target, CONF_PASSWORD: wrong}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    _assert_secrets_hidden(result, wrong)
    assert _fields(result)[CONF_HOST][1] == "127.0.0.1"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**target, CONF_TOKEN: "crt_wrong"}
    )
    _assert_secrets_hidden(result, "crt_wrong")

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_ZEROCONF},
        data=_zeroconf(served.port, id=served.runtime.device_id, name="Test NVR"),
    )
    _assert_secrets_hidden(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: "admin", CONF_PASSWORD: wrong}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    _assert_secrets_hidden(result, wrong)
    assert _fields(result)[CONF_USERNAME][1] == "admin"
    hass.config_entries.flow.async_abort(result["flow_id"])

    entry = remote_entry(served)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    _assert_secrets_hidden(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: wrong}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    _assert_secrets_hidden(result, wrong)
    hass.config_entries.flow.async_abort(result["flow_id"])

    result = await entry.start_reconfigure_flow(hass)
    _assert_secrets_hidden(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**target, CONF_PASSWORD: wrong}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    _assert_secrets_hidden(result, wrong)
    assert _fields(result)[CONF_PORT][1] == served.port
