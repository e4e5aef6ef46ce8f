"""Fixtures for the web UI tests: a real runtime and API server on loopback, headless Chromium.

The browser runs on the test's own event loop (Playwright's async API), so the server keeps
serving while the test waits on the page.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright

from camera_runtime.api import ApiServer
from camera_runtime.host import runtime_from_data
from camera_runtime.runtime import Runtime

from ..users import write_users

CHROMIUM = os.environ.get("CAMERA_RUNTIME_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists()
# Loopback only: nothing in the browser may reach for the network (updates, sync, QUIC...).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = "admin"
PASSWORD = "Cam3ra-Runtime!"


def synthetic_channel(channel_id: str, name: str, *, seed: int = 0) -> dict[str, Any]:
    """A 640x360 synthetic channel with motion detection (its default scene moves every 20 s)."""
    return {
        "id": channel_id,
        "name": name,
        "source": {"type": "synthetic", "width": 640, "height": 360, "fps": 10, "seed": seed},
        "detectors": {"motion": {"sensitivity": 80, "hold_time": 1}},
    }


@dataclass
class Served:
    """A started runtime and the API server in front of it."""

    runtime: Runtime
    server: ApiServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/"


MakeServer = Callable[..., Awaitable[Served]]


async def activate(base_url: str, password: str = PASSWORD) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}api/activate", json={"password": password}) as resp,
    ):
        assert resp.status < 300, await resp.text()


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[MakeServer]:
    """``await make_server(channels, activated=True, extra_plugins=(), users={}, config={})``:
    a real runtime (with ``extra_plugins`` registered like any plugin, ``config``'s other
    top-level keys beside ``channels``) and API on 127.0.0.1:0.
    ``users`` (name -> level) are added beside ``admin``, all with ``PASSWORD``.

    A test may replace ``served.server`` (a restart); the one in place at the end is stopped.
    """
    runtimes: list[Runtime] = []
    served_list: list[Served] = []

    async def make(
        channels: list[dict[str, Any]],
        *,
        activated: bool = True,
        extra_plugins: Iterable[object] = (),
        users: Mapping[str, str] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Served:
        data_dir = tmp_path / f"runtime{len(runtimes)}"
        if users:
            assert activated, "users live in an activated credential store"
            write_users(data_dir, users, PASSWORD)
        runtime = runtime_from_data(
            {"channels": channels, **(config or {})},
            data_dir=data_dir,
            extra_plugins=list(extra_plugins),
        )
        await runtime.start()
        runtimes.append(runtime)
        server = ApiServer(runtime, "127.0.0.1", 0)
        await server.start()
        served = Served(runtime, server)
        served_list.append(served)
        if activated and not users:
            await activate(served.url)
        return served

    yield make
    for served in reversed(served_list):
        await served.server.stop()
    for runtime in reversed(runtimes):
        await runtime.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@dataclass
class PageLog:
    """What the page did that a test may want to assert on."""

    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]

    @property
    def foreign_requests(self) -> list[str]:
        local = ("http://127.0.0.1:", "ws://127.0.0.1:")
        return [u for u in self.requests if not u.startswith(local)]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
async def page(browser: Browser, page_log: PageLog) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies, no storage) at a desktop size."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(15_000)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page_log.console_errors.append(message.text)

    def on_request(request: Request) -> None:
        page_log.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    page.on("request", on_request)
    yield page
    await context.close()
