"""Fixtures: a real Runtime (synthetic camera) and its API served on 127.0.0.1, port 0."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from camera_runtime.api import ApiServer
from camera_runtime.api.connections import Limits
from camera_runtime.host import runtime_from_data
from camera_runtime.runtime import Runtime
from camera_runtime.security import Security

from .helpers import PASSWORD, client, runtime_config

ServerFactory = Callable[..., Awaitable[ApiServer]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start runtimes and API servers on demand; everything is stopped at the end."""
    started: list[tuple[Runtime, ApiServer]] = []

    async def make(
        *,
        security: Security | None = None,
        data: dict[str, Any] | None = None,
        extra_plugins: tuple[object, ...] = (),
        ssl_context: ssl.SSLContext | None = None,
        limits: Limits | None = None,
        **api: Any,
    ) -> ApiServer:
        folder = tmp_path / f"data{len(started)}"
        runtime = runtime_from_data(
            data or runtime_config(**api), data_dir=folder, extra_plugins=extra_plugins
        )
        await runtime.start()
        server = ApiServer(
            runtime, "127.0.0.1", 0, security=security, ssl_context=ssl_context, limits=limits
        )
        try:
            await server.start()
        except BaseException:
            await runtime.stop()
            raise
        started.append((runtime, server))
        return server

    yield make
    for runtime, server in reversed(started):
        await server.stop()
        await runtime.stop()


@pytest.fixture
async def server(make_server: ServerFactory) -> ApiServer:
    """A fresh (not activated) device."""
    return await make_server()


@pytest.fixture
async def activated(server: ApiServer) -> ApiServer:
    await server.security.activate(PASSWORD)
    return server


@pytest.fixture
async def anon(server: ApiServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with client(server) as session:
        yield session


@pytest.fixture
async def admin(activated: ApiServer) -> AsyncIterator[aiohttp.ClientSession]:
    """An authenticated client (basic over loopback, the simplest for route tests)."""
    async with client(activated, auth="basic") as session:
        yield session
