"""A real runtime served by a real ``ApiServer`` on 127.0.0.1, activated, with an admin API
token: shared by the client tests and the Home Assistant integration tests (which run in their
own pytest process, so this is a plain module, not a conftest)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camera_runtime.api import ApiServer
from camera_runtime.host import compose, runtime_from_data
from camera_runtime.runtime import Runtime
from tests.camera_runtime.client.helpers import PASSWORD, motion_config


@dataclass
class Served:
    """A running runtime and its API, with the admin token minted for the tests. ``port`` is
    kept apart from the server so a test can restart a stopped runtime on the same port."""

    runtime: Runtime
    server: ApiServer
    data_dir: Path
    port: int
    token: str = ""
    token_id: str = ""
    stopped: bool = False

    async def stop(self) -> None:
        """Stop the API and the runtime (before the test ends: to test a runtime going away)."""
        if not self.stopped:
            self.stopped = True
            await self.server.stop()  # a test may have replaced the composed one (a restart)
            await self.runtime.stop()


ServeFactory = Callable[..., Awaitable[Served]]


@contextlib.asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[ServeFactory]:
    """Start runtimes on demand (``data`` defaults to the motion scene; ``port``/``data_dir``
    restart one where a stopped one was; ``activate=False`` leaves it without an admin;
    ``extra_plugins`` are plugin objects only the test defines);
    everything still running is stopped on exit."""
    running: list[Served] = []

    async def start(
        data: dict[str, Any] | None = None,
        *,
        port: int = 0,
        data_dir: Path | None = None,
        activate: bool = True,
        extra_plugins: Sequence[object] = (),
    ) -> Served:
        folder = data_dir or tmp_path / f"runtime{len(running)}"
        runtime = runtime_from_data(
            data or motion_config(), data_dir=folder, extra_plugins=extra_plugins
        )
        # The faces ``camera-runtime run`` would compose (MQTT too, when configured).
        server = compose(runtime, host="127.0.0.1", port=port, zeroconf=False).api
        assert server is not None
        await runtime.start()
        served = Served(runtime, server, folder, server.port)
        running.append(served)
        if activate:
            if not server.security.activated:
                await server.security.activate(PASSWORD)
            user = server.security.user("admin")
            assert user is not None
            token, served.token = await server.security.create_token("tests", user)
            served.token_id = token.id
        return served

    try:
        yield start
    finally:
        for served in reversed(running):
            await served.stop()
