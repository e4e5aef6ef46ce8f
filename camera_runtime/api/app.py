"""Builds the aiohttp application for one runtime: middlewares, routes and their policies,
security headers, live streams, WebSocket, OpenAPI, and what needs a teardown."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from ..capabilities import EventTypeInfo
from ..interfaces import RuntimeView
from ..model import DEVICE, Event, EventPhase, EventUpdate
from ..security import IllegalLogin, Security
from .account import security_ctx
from .auth import HTTP_AUTH, ROUTE_POLICIES, add_route, auth_middleware, setup_auth
from .config import API_SCHEMA
from .errors import MAX_BODY, error_middleware, setup_errors
from .keys import RUNTIME, SECURITY
from .mjpeg import MAX_VIEWERS, STREAMS, setup_mjpeg
from .openapi import setup_openapi
from .routes import setup_routes
from .ws import SOCKETS, setup_ws

#: The manual's "illegal login" exception (6.1.2): an incorrect user name or password was
#: entered. One event per checked failure, started and ended at once; the login lock bounds
#: how many an address can cause.
ILLEGAL_LOGIN = EventTypeInfo(
    "illegal_login", "Illegal login", device_class="problem", exception=True
)


async def illegal_login_events(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: every failed password check raises the device's ``illegal_login`` event,
    with the client's address, the user name it tried, the attempts it has left and whether
    this failure locked it out."""
    runtime = app[RUNTIME]

    def raised(failure: IllegalLogin) -> None:
        now = time.time()
        data = {
            "client": failure.client,
            "user": failure.user,
            "attempts_left": failure.attempts_left,
            "locked": failure.locked,
        }
        event = Event(DEVICE, ILLEGAL_LOGIN.name, now, end=now, data=data)
        runtime.publish_event(EventUpdate(EventPhase.NEW, event))
        runtime.publish_event(EventUpdate(EventPhase.END, event))

    unsubscribe = app[SECURITY].illegal_logins.subscribe(raised)
    yield
    unsubscribe()


def api_settings(runtime: RuntimeView) -> Mapping[str, Any]:
    """The runtime's ``api:`` section, with its defaults when the host validated without it."""
    section = runtime.config.section("api")
    return section if section is not None else API_SCHEMA({})


def create_app(
    runtime: RuntimeView, *, security: Security | None = None, max_viewers: int = MAX_VIEWERS
) -> web.Application:
    """The API of ``runtime``. ``security`` defaults to the store in ``runtime.data_dir``; a test
    may pass its own (say, with a fake clock). The store is loaded when the app starts."""
    if security is None:
        security = Security.from_config(runtime.data_dir, runtime.config.security)
    app = web.Application(
        # Order matters, outermost first:
        # 1. error_middleware turns whatever happens below (auth refusals included) into JSON;
        # 2. auth_middleware checks the route's policy and the caller before any handler runs.
        middlewares=[error_middleware, auth_middleware],
        # Bodies are small JSON commands and config documents: 413 beyond this.
        client_max_size=MAX_BODY,
    )
    app[RUNTIME] = runtime
    app[SECURITY] = security
    setup_errors(app)  # security headers on every response (on_response_prepare)
    setup_auth(app, security, api_settings(runtime))
    setup_routes(app)
    setup_mjpeg(app, max_viewers)
    setup_ws(app)
    setup_openapi(app)
    app.cleanup_ctx.append(security_ctx)
    app.cleanup_ctx.append(illegal_login_events)
    # Plugins add their routes last; without a declared policy they need an administrator.
    runtime.hook.extend_api(app=app, runtime=runtime)
    return app


__all__ = [
    "HTTP_AUTH",
    "ILLEGAL_LOGIN",
    "ROUTE_POLICIES",
    "RUNTIME",
    "SECURITY",
    "SOCKETS",
    "STREAMS",
    "add_route",
    "create_app",
]
