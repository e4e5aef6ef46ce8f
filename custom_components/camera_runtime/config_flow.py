"""Config flow: a remote runtime (entered by hand or discovered with zeroconf) or an embedded
one (a runtime config file in Home Assistant's config folder); reauth, reconfigure, options.

A remote runtime is checked before the entry is made: the user's password (HTTP digest) is used
once, to read the device id and mint an API token named after this Home Assistant; the entry
keeps the token, never the password. The entry's unique id is the runtime's device id.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo

from camera_runtime.client import (
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    AuthError,
    CameraRuntimeError,
    CannotConnectError,
    NotActivatedError,
    RemoteClient,
)

from .const import (
    CONF_CONFIG_PATH,
    CONF_FORWARD_UPDATES,
    CONF_MODE,
    CONF_TOKEN_ID,
    DEFAULT_OPTIONS,
    DOMAIN,
    MODE_EMBEDDED,
    MODE_REMOTE,
)

_LOGGER = logging.getLogger(__name__)

#: Password and token are typed into hidden fields, and never shown back (``_suggested``).
SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
SECRETS = frozenset({CONF_PASSWORD, CONF_TOKEN})
CREDENTIALS: dict[Any, Any] = {
    vol.Optional(CONF_USERNAME, default=DEFAULT_USERNAME): str,
    vol.Optional(CONF_PASSWORD): SECRET,
    vol.Optional(CONF_TOKEN): SECRET,
}
CREDENTIALS_SCHEMA = vol.Schema(CREDENTIALS)
REMOTE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): str,
        vol.Required(CONF_PORT, default=DEFAULT_PORT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=65535)
        ),
        **CREDENTIALS,
    }
)
EMBEDDED_SCHEMA = vol.Schema({vol.Required(CONF_CONFIG_PATH, default="camera_runtime.yaml"): str})
OPTIONS_SCHEMA = vol.Schema({vol.Required(CONF_FORWARD_UPDATES): bool})


def _suggested(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a form shows again after a failed attempt: everything but the secrets, so a wrong
    password is neither echoed back nor sent again by a second click."""
    return {k: v for k, v in (user_input or {}).items() if k not in SECRETS}


class ConfigFileCheck(NamedTuple):
    """``error`` is empty when the file is good, and then ``path`` is its path relative to
    Home Assistant's config folder and ``device_name`` the runtime's name in it."""

    error: str
    details: str = ""
    path: str = ""
    device_name: str = ""


def check_config_file(config_dir: str, path: str) -> ConfigFileCheck:
    """Check an embedded runtime's config file (blocking: run it in the executor)."""
    from camera_runtime.client.local import validate_file
    from camera_runtime.exceptions import ConfigError

    root = os.path.realpath(config_dir)
    full = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, full]) != root:
        return ConfigFileCheck("outside_config_dir")
    if not os.path.isfile(full):
        return ConfigFileCheck("config_not_found")
    try:
        described = validate_file(full)
    except ConfigError as err:
        return ConfigFileCheck("invalid_config", "; ".join(err.errors[:5]))
    return ConfigFileCheck("", "", os.path.relpath(full, root), str(described["device_name"]))


class CameraRuntimeConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1

    def __init__(self) -> None:
        self._host = ""
        self._port = DEFAULT_PORT
        self._name = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Any) -> OptionsFlow:
        return CameraRuntimeOptionsFlow()

    # ------------------------------------------------------------------ checking a runtime

    async def _validate(
        self,
        host: str,
        port: int,
        user_input: Mapping[str, Any],
        errors: dict[str, str],
        check_device: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> tuple[dict[str, Any], str, str | None] | None:
        """``(device info, token, token id or None)``, or ``None`` with ``errors`` filled.

        ``check_device`` sees the runtime's device info before anything is made on it and may
        abort the flow (a runtime configured already, another runtime): a token is minted
        only once the flow is sure to keep it.
        """
        session = async_get_clientsession(self.hass)
        token, password = user_input.get(CONF_TOKEN), user_input.get(CONF_PASSWORD)
        try:
            if token:
                client = RemoteClient(session, host, port, token=token)
                await client.health()
                info = await client.device_info()
                await check_device(info)
                return info, token, None
            if password:
                client = RemoteClient(
                    session,
                    host,
                    port,
                    username=user_input.get(CONF_USERNAME) or DEFAULT_USERNAME,
                    password=password,
                )
                await client.health()
                info = await client.device_info()  # digest-authenticated: nothing made yet
                await check_device(info)
                name = f"Home Assistant ({self.hass.config.location_name})"[:64]
                created = await client.create_token(name)
                return info, str(created["token"]), str(created["id"])
            errors["base"] = "missing_credentials"
        except NotActivatedError:
            errors["base"] = "not_activated"
        except AuthError as err:
            errors["base"] = (
                "login_locked" if err.translation_key == "login_locked" else "invalid_auth"
            )
        except CannotConnectError:
            errors["base"] = "cannot_connect"
        except CameraRuntimeError:
            _LOGGER.exception("Unexpected answer from the runtime at %s:%s", host, port)
            errors["base"] = "unknown"
        return None

    async def _remote_entry(
        self, host: str, port: int, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult | None:
        async def new_device(info: dict[str, Any]) -> None:
            # A runtime configured already: its entry learns the address, keeps its token.
            await self.async_set_unique_id(str(info["device_id"]), raise_on_progress=False)
            self._abort_if_unique_id_configured(updates={CONF_HOST: host, CONF_PORT: port})

        validated = await self._validate(host, port, user_input, errors, new_device)
        if validated is None:
            return None
        info, token, token_id = validated
        data = {CONF_HOST: host, CONF_PORT: port, CONF_TOKEN: token, CONF_TOKEN_ID: token_id}
        return self.async_create_entry(
            title=str(info.get("device_name") or host), data={CONF_MODE: MODE_REMOTE, **data}
        )

    async def _same_device(self, info: dict[str, Any]) -> None:
        """Reauth and reconfigure: the runtime must be the entry's own."""
        await self.async_set_unique_id(str(info["device_id"]))
        self._abort_if_unique_id_mismatch(reason="wrong_device")

    async def _update_token(
        self,
        entry: ConfigEntry,
        updates: dict[str, Any],
        validated: tuple[dict[str, Any], str, str | None],
    ) -> ConfigFlowResult:
        """Store the checked token (with ``updates``) and reload; a token that replaced the
        one the integration had minted is followed by deleting that one (best effort), so no
        valid token is left behind. An unchanged token keeps its id."""
        _, token, token_id = validated
        old_id = entry.data.get(CONF_TOKEN_ID)
        replaced = token != entry.data.get(CONF_TOKEN)
        if replaced:
            updates = {**updates, CONF_TOKEN: token, CONF_TOKEN_ID: token_id}
        result = self.async_update_reload_and_abort(entry, data_updates=updates)
        if replaced and old_id:
            host = updates.get(CONF_HOST, entry.data[CONF_HOST])
            port = updates.get(CONF_PORT, entry.data[CONF_PORT])
            client = RemoteClient(async_get_clientsession(self.hass), host, port, token=token)
            try:
                await client.delete_token(old_id)
            except CameraRuntimeError as err:
                _LOGGER.warning(
                    "Could not delete the replaced API token %s on %s: %s",
                    old_id,
                    client.base_url,
                    err,
                )
        return result

    # ------------------------------------------------------------------ user steps

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_show_menu(step_id="user", menu_options=[MODE_REMOTE, MODE_EMBEDDED])

    async def async_step_remote(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), user_input[CONF_PORT]
            if result := await self._remote_entry(host, port, user_input, errors):
                return result
        return self.async_show_form(
            step_id=MODE_REMOTE,
            data_schema=self.add_suggested_values_to_schema(REMOTE_SCHEMA, _suggested(user_input)),
            errors=errors,
        )

    async def async_step_embedded(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        details = ""
        if user_input is not None:
            checked = await self._check_config_path(user_input, errors)
            details = checked.details
            if path := checked.path:
                await self.async_set_unique_id(f"{MODE_EMBEDDED}:{path}")
                self._abort_if_unique_id_configured()
                # Named like a remote entry: after the runtime's device name.
                return self.async_create_entry(
                    title=checked.device_name or path,
                    data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: path},
                )
        return self._embedded_form(MODE_EMBEDDED, user_input, errors, details)

    async def _check_config_path(
        self, user_input: dict[str, Any], errors: dict[str, str]
    ) -> ConfigFileCheck:
        """Check the config file named in the form (in the executor: it reads and validates
        the YAML). When the file is not usable the error is also put in ``errors`` for the
        form to show."""
        checked = await self.hass.async_add_executor_job(
            check_config_file, self.hass.config.config_dir, user_input[CONF_CONFIG_PATH]
        )
        if checked.error:
            errors[CONF_CONFIG_PATH] = checked.error
        return checked

    def _embedded_form(
        self,
        step_id: str,
        suggested: Mapping[str, Any] | None,
        errors: dict[str, str],
        details: str,
    ) -> ConfigFlowResult:
        """The config file form, for a new entry and for reconfiguring one."""
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(EMBEDDED_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"details": details},
        )

    # ------------------------------------------------------------------ discovery

    async def async_step_zeroconf(self, discovery_info: ZeroconfServiceInfo) -> ConfigFlowResult:
        device_id = discovery_info.properties.get("id")
        if not device_id:
            return self.async_abort(reason="not_camera_runtime")
        self._host = discovery_info.host
        self._port = discovery_info.port or DEFAULT_PORT
        await self.async_set_unique_id(device_id)
        self._abort_if_unique_id_configured(updates={CONF_HOST: self._host, CONF_PORT: self._port})
        self._name = discovery_info.properties.get("name") or self._host
        self.context["title_placeholders"] = {"name": self._name}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None and (
            result := await self._remote_entry(self._host, self._port, user_input, errors)
        ):
            return result
        return self.async_show_form(
            step_id="zeroconf_confirm",
            data_schema=self.add_suggested_values_to_schema(
                CREDENTIALS_SCHEMA, _suggested(user_input)
            ),
            errors=errors,
            description_placeholders={
                "name": self._name,
                "host": self._host,
                "port": str(self._port),
            },
        )

    # ------------------------------------------------------------------ reauth, reconfigure

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = entry.data[CONF_HOST], entry.data[CONF_PORT]
            validated = await self._validate(host, port, user_input, errors, self._same_device)
            if validated is not None:
                return await self._update_token(entry, {}, validated)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                CREDENTIALS_SCHEMA, _suggested(user_input)
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        if entry.data[CONF_MODE] == MODE_EMBEDDED:
            return await self.async_step_reconfigure_embedded()
        errors: dict[str, str] = {}
        if user_input is not None:
            host, port = user_input[CONF_HOST].strip(), user_input[CONF_PORT]
            fresh = bool(user_input.get(CONF_TOKEN) or user_input.get(CONF_PASSWORD))
            credentials = user_input if fresh else {CONF_TOKEN: entry.data[CONF_TOKEN]}
            validated = await self._validate(host, port, credentials, errors, self._same_device)
            if validated is not None:
                return await self._update_token(
                    entry, {CONF_HOST: host, CONF_PORT: port}, validated
                )
        suggested = _suggested(user_input) or {
            CONF_HOST: entry.data[CONF_HOST],
            CONF_PORT: entry.data[CONF_PORT],
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(REMOTE_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_reconfigure_embedded(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        details = ""
        if user_input is not None:
            checked = await self._check_config_path(user_input, errors)
            details = checked.details
            if path := checked.path:
                unique_id = f"{MODE_EMBEDDED}:{path}"
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(
                    entry, unique_id=unique_id, data_updates={CONF_CONFIG_PATH: path}
                )
        suggested = user_input or {CONF_CONFIG_PATH: entry.data[CONF_CONFIG_PATH]}
        return self._embedded_form("reconfigure_embedded", suggested, errors, details)


class CameraRuntimeOptionsFlow(OptionsFlow):
    """What the integration passes on: ``update`` phases of events (off by default)."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        current = {**DEFAULT_OPTIONS, **self.config_entry.options}
        return self.async_show_form(
            step_id="init", data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, current)
        )
