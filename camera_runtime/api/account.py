"""Account handlers: activation, browser login/logout, password change and API tokens.

Thin: parse, call ``Security``, serialise. The rules (strength, lock, one activation) live in
``camera_runtime.security``; cookies and origins are HTTP matters and live here and in ``auth``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from .. import __version__
from ..security.credentials import ADMIN
from ..security.login_lock import LoginFailedError
from .auth import HTTP_AUTH, SESSION_COOKIE, identity, same_origin
from .connections import mark_authenticated
from .errors import ApiError
from .keys import SECURITY
from .parsing import field, read_json_object


def set_session_cookie(request: web.Request, response: web.StreamResponse, value: str) -> None:
    """HttpOnly (no script reads it), SameSite=Strict, Secure whenever the request was HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=request.secure
    )


def _user_json(name: str, level: str, method: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"username": name, "level": level}
    if method is not None:
        out["auth"] = method
    return out


async def health(request: web.Request) -> web.Response:
    """Liveness and whether the device still needs activation (public)."""
    security = request.app[SECURITY]
    return web.json_response(
        {"status": "ok", "activated": security.activated, "version": __version__}
    )


async def activate(request: web.Request) -> web.Response:
    """Set the admin password on a fresh device (manual 2.2); only once."""
    security = request.app[SECURITY]
    body = await read_json_object(request, allowed={"password"})
    password = field(body, "password", str)  # a malformed request is 400 in any state
    if security.activated:
        raise ApiError(409, "already_activated", "the device is already activated")
    await security.activate(password)
    return web.json_response({"activated": True, "username": ADMIN})


async def login(request: web.Request) -> web.Response:
    """Browser sign-in: checks the password (lock, timing-safe) and sets the session cookie."""
    security = request.app[SECURITY]
    if request.headers.get("Origin") is not None and not same_origin(request):
        raise ApiError(403, "cross_origin", "request refused: its Origin is not this device")
    if not security.activated:
        raise ApiError(403, "not_activated", "the device is not activated")
    body = await read_json_object(request, allowed={"username", "password"})
    username, password = field(body, "username", str), field(body, "password", str)
    # A wrong password is the error middleware's 401 invalid_credentials, without a challenge
    # header: it is for the web UI's form, not the browser's dialog.
    user = await security.verify_password(username, password, request.remote or "")
    mark_authenticated(request)
    response = web.json_response(_user_json(user.name, user.level.value, "session"))
    set_session_cookie(request, response, security.create_session(user))
    return response


async def logout(request: web.Request) -> web.Response:
    """End the caller's browser session (other auth methods have nothing to end)."""
    caller = identity(request)
    if caller.session is not None:
        request.app[SECURITY].end_session(caller.session)
    response = web.json_response({"logged_out": True})
    clear_session_cookie(request, response)
    return response


async def session(request: web.Request) -> web.Response:
    """Who the caller is: lets the web UI know whether its cookie still works."""
    caller = identity(request)
    return web.json_response(_user_json(caller.user.name, caller.user.level.value, caller.method))


async def change_password(request: web.Request) -> web.Response:
    """Manual 9.16.1: the old password is required; every session of the user ends."""
    username = request.match_info["username"]
    security = request.app[SECURITY]
    caller = identity(request)
    if security.user(username) is None:
        raise ApiError(404, "user_not_found", "no such user")
    if caller.user.name != username and caller.user.level.value != "administrator":
        raise ApiError(403, "forbidden", "only administrators change other users' passwords")
    body = await read_json_object(request, allowed={"old_password", "new_password"})
    old, new = field(body, "old_password", str), field(body, "new_password", str)
    try:
        await security.change_password(username, old, new, request.remote or "")
    except LoginFailedError as err:
        message = "the old password is wrong" + err.lock_note
        raise ApiError(403, "wrong_password", message, attempts_left=err.attempts_left) from None
    response = web.json_response({"changed": True})
    if caller.session is not None:
        clear_session_cookie(request, response)
    return response


async def create_token(request: web.Request) -> web.Response:
    """A new API token; the secret is in this response only."""
    body = await read_json_object(request, allowed={"name"})
    token, secret = await request.app[SECURITY].create_token(
        field(body, "name", str), identity(request).user
    )
    return web.json_response({**token.public(), "token": secret}, status=201)


async def list_tokens(request: web.Request) -> web.Response:
    """The API tokens, without their secrets."""
    return web.json_response({"tokens": [t.public() for t in request.app[SECURITY].tokens()]})


async def delete_token(request: web.Request) -> web.Response:
    caller = identity(request)
    await request.app[SECURITY].delete_token(
        request.match_info["token_id"], by=f"{caller.user.name!r} ({caller.method})"
    )
    return web.Response(status=204)


async def security_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: load the credential store off the loop; release its hash threads at the end."""
    security = app[SECURITY]
    await asyncio.get_running_loop().run_in_executor(None, security.load)
    app[HTTP_AUTH].digest.realm = security.realm
    yield
    security.close()


__all__ = [
    "activate",
    "change_password",
    "clear_session_cookie",
    "create_token",
    "delete_token",
    "health",
    "list_tokens",
    "login",
    "logout",
    "security_ctx",
    "session",
    "set_session_cookie",
]
