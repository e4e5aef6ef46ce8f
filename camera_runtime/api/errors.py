"""One place where every API error becomes a JSON body, and every response gets security headers.

Handlers raise (``ApiError``, a ``CameraRuntimeError``, or aiohttp's own ``HTTPException``);
the error middleware turns each into ``{"error": code, "message": text}`` with the right 4xx.
Bad input is never a 500, and an error body never echoes HTML or the request's path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..exceptions import (
    AuthError,
    CameraRuntimeError,
    ChannelStoppedError,
    ConfigError,
    NoFrameError,
    NotActivatedError,
    NotFoundError,
    NotRecordingError,
    StorageError,
    StreamUnavailableError,
)
from ..logsafe import escape
from ..security import AlreadyActivatedError
from ..security.credentials import WeakPasswordError
from ..security.login_lock import LoginFailedError, LoginLockedError

_LOGGER = logging.getLogger(__name__)

#: The web UI loads only its own files; MJPEG and snapshots may become blob:/data: URLs, and
#: the live video plays from a Media Source's blob: URL.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: The ``Server`` header of every answer: no library name or version.
SERVER_NAME = "camera-runtime"
#: Request body limit (``client_max_size``): config documents and JSON commands are small.
MAX_BODY = 1 << 20
#: Headers of an aiohttp ``HTTPException`` worth keeping on the JSON error.
_KEPT_HEADERS = (hdrs.ALLOW, hdrs.WWW_AUTHENTICATE, hdrs.RETRY_AFTER)


class ApiError(Exception):
    """An error answered as JSON: ``status``, a stable ``code`` for programs, a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = list(headers.items()) if isinstance(headers, Mapping) else headers or []
        self.extra = extra


def json_error(
    status: int,
    code: str,
    message: str,
    headers: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> web.Response:
    response = web.json_response({"error": code, "message": message, **extra}, status=status)
    for name, value in headers or []:
        response.headers.add(name, value)
    return response


#: Stable ``error`` codes for aiohttp's own exceptions (not Python's phrases, which change).
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    431: "headers_too_large",
}


def _code(status: int) -> str:
    return _CODES.get(status, "client_error" if status < 500 else "server_error")


def _from_runtime_error(err: CameraRuntimeError) -> web.Response:
    if isinstance(err, LoginLockedError):
        return json_error(
            403, "login_locked", err.message, [(hdrs.RETRY_AFTER, str(err.retry_after))]
        )
    if isinstance(err, NotActivatedError):
        return json_error(
            403,
            "not_activated",
            "the device is not activated: set the admin password with POST /api/activate",
        )
    if isinstance(err, LoginFailedError):
        return json_error(401, err.translation_key, err.message, attempts_left=err.attempts_left)
    if isinstance(err, AuthError):
        return json_error(401, err.translation_key, err.message)
    if isinstance(err, NotFoundError):
        return json_error(404, err.translation_key, err.message)
    if isinstance(err, WeakPasswordError):
        return json_error(400, "weak_password", err.message)
    if isinstance(err, AlreadyActivatedError):
        return json_error(409, "already_activated", err.message)
    if isinstance(err, ConfigError):
        return json_error(422, "invalid_config", err.message, errors=err.errors)
    if isinstance(err, ChannelStoppedError):
        return json_error(409, "channel_stopped", err.message)
    if isinstance(err, StreamUnavailableError):
        return json_error(409, "stream_unavailable", err.message)
    if isinstance(err, NotRecordingError):
        return json_error(409, "not_recording", err.message)
    if isinstance(err, NoFrameError):
        return json_error(503, "no_frame", err.message, [(hdrs.RETRY_AFTER, "1")])
    if isinstance(err, StorageError):
        return json_error(507, "storage_error", err.message)
    return json_error(400, err.translation_key, err.message)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost middleware: whatever went wrong below becomes a JSON error response."""
    try:
        return await handler(request)
    except ApiError as err:
        return json_error(err.status, err.code, err.message, err.headers, **err.extra)
    except CameraRuntimeError as err:
        return _from_runtime_error(err)
    except web.HTTPException as err:
        if err.status < 400:
            raise  # redirects and the like pass as they are
        headers = [(k, v) for k, v in err.headers.items() if k in _KEPT_HEADERS]
        if err.status == 404:
            message = "no such resource"  # never echo the path back
        elif err.status == 413:
            message = f"the request body is too large (limit {MAX_BODY} bytes)"
        else:
            message = HTTPStatus(err.status).description or HTTPStatus(err.status).phrase
        return json_error(err.status, _code(err.status), message, headers)
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:
        _LOGGER.exception(
            "internal error on %s %s", escape(request.method, 32), escape(request.path)
        )
        return json_error(500, "internal_error", "internal error; see the server log")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` signal: runs for every response of the app, streams and static
    files included, so no handler can forget the headers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers[hdrs.SERVER] = SERVER_NAME  # not aiohttp's version string
    if request.path.startswith("/api/"):
        response.headers.setdefault(hdrs.CACHE_CONTROL, "no-store")


def setup_errors(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)  # type: ignore[arg-type]  # aiosignal


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "MAX_BODY",
    "SECURITY_HEADERS",
    "SERVER_NAME",
    "ApiError",
    "error_middleware",
    "json_error",
    "setup_errors",
]
