"""Serves a runtime's API on a TCP port with ``AppRunner`` + ``TCPSite`` (no ``run_app``: the
host owns the event loop and the signals), as the runtime's ``api`` service."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from ..capabilities import EventTypeInfo
from ..exceptions import CameraRuntimeError
from ..interfaces import RuntimeView, Service
from ..logsafe import escape
from ..security import Security
from .app import ILLEGAL_LOGIN, api_settings, create_app
from .connections import ConnectionGuard, GuardedSite, Limits

_ACCESS = logging.getLogger("camera_runtime.api.access")


class AccessLogger(AbstractAccessLogger):
    """One line per request, with the path but never the query string: a client that puts
    credentials in a URL (they are ignored) must not get them written to the log either. What
    the client sent is escaped: ``GET /x%0aFAKE`` cannot start a line of its own."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            escape(request.remote),
            escape(request.method, 32),
            escape(request.path),
            response.status,
            time,
        )


class ApiServer(Service):
    """``await start()`` serves ``create_app(runtime)`` on ``host:port`` (port 0: any free one,
    then read ``.port``); ``await stop()`` closes streams and sockets and stops. Host and port
    default to the ``api:`` section.

    ``security`` is the runtime's credential store, loaded by ``start()``; the host may call
    ``security.set_admin_password()`` after that (the CLI's demo does). ``limits`` are the
    connection limits (header deadline and size, idle timeout, unauthenticated connections per
    address: ``connections.Limits``).
    """

    name = "api"

    def __init__(
        self,
        runtime: RuntimeView,
        host: str | None = None,
        port: int | None = None,
        *,
        security: Security | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.runtime = runtime
        settings = api_settings(runtime)
        self.host = host if host is not None else str(settings["host"])
        self._requested_port = port if port is not None else int(settings["port"])
        self.security = security or Security.from_config(runtime.data_dir, runtime.config.security)
        self._ssl = ssl_context
        self.limits = limits or Limits()
        self.guard = ConnectionGuard(self.limits)
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    async def start(self) -> None:
        self.app = create_app(self.runtime, security=self.security)
        handler_kwargs = {
            "access_log_class": AccessLogger,
            "access_log": _ACCESS,
            **self.limits.handler_kwargs(),
        }
        runner = web.AppRunner(self.app, handle_signals=False)
        await runner.setup()
        try:
            site = GuardedSite(
                runner,
                self.host,
                self._requested_port,
                guard=self.guard,
                handler_kwargs=handler_kwargs,
                ssl_context=self._ssl,
            )
            await site.start()
        except OSError as err:
            await runner.cleanup()
            raise CameraRuntimeError(
                f"cannot listen on {self.host}:{self._requested_port}: {err.strerror or err}"
            ) from err
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    def event_types(self) -> tuple[EventTypeInfo, ...]:
        return (ILLEGAL_LOGIN,)

    def settings(self) -> dict[str, Any]:
        """Where it listens, as bound (``--host``/``--port`` win over the file)."""
        return {"host": self.host, "port": self.port} if self._runner is not None else {}

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the API server is not running")
        return int(self._runner.addresses[0][1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> ApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


__all__ = ["AccessLogger", "ApiServer"]
