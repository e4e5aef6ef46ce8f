"""Turns the runtime's and the client's errors into Home Assistant's, with translations, in one
place (services, switches, buttons and numbers all go through ``runtime_call``), and starts
the reauthentication when the runtime refuses the entry's token."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from camera_runtime.client import CameraRuntimeError, InvalidAuthError, RequestError
from camera_runtime.exceptions import AuthError, ChannelStoppedError, ConfigError, NotFoundError

from .const import DOMAIN

if TYPE_CHECKING:
    from .data import CameraRuntimeData

#: Error codes that have their own message in translations/en.json (``exceptions``).
TRANSLATED: Final = frozenset(
    {
        "cannot_connect",
        "invalid_auth",
        "forbidden",
        "not_activated",
        "login_locked",
        "no_frame",
        "channel_stopped",
        "channel_not_found",
        "detector_not_found",
        "control_not_found",
        "invalid_config",
        "too_many_viewers",
        "storage_error",
        "not_recording",
    }
)


def translate_error(err: CameraRuntimeError) -> HomeAssistantError:
    """``ServiceValidationError`` when the request was wrong (unknown channel, bad value),
    ``HomeAssistantError`` when the runtime could not do it; the runtime's text as placeholder."""
    key = err.translation_key if err.translation_key in TRANSLATED else "command_failed"
    caller_fault = isinstance(err, NotFoundError | ConfigError | ChannelStoppedError) or (
        isinstance(err, RequestError) and err.is_client_error and err.status not in (401, 403)
    )
    if isinstance(err, AuthError):
        caller_fault = False
    cls = ServiceValidationError if caller_fault else HomeAssistantError
    message = err.message
    if isinstance(err, ConfigError) and err.errors:  # embedded: each problem with its key
        message = f"{message}: {'; '.join(err.errors)}"
    return cls(
        message,
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"message": message},
    )


async def runtime_call[T](data: CameraRuntimeData, call: Awaitable[T]) -> T:
    """Await a client call of ``data``'s entry, raising its failure as a translated Home
    Assistant error. A refused token (deleted on the runtime, or its password changed) also
    starts the reauthentication at once: the push link may still be up, and every command
    would keep failing until the user gives new credentials."""
    try:
        return await call
    except CameraRuntimeError as err:
        if isinstance(err, InvalidAuthError):
            data.start_reauth()
        raise translate_error(err) from err
