"""Fixtures for the linkage tests: a real runtime with synthetic channels, a real Mosquitto
broker, a real HTTP receiver (the alarm server / a door's endpoint) and a real SMTP server,
all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventUpdate
from camera_runtime.runtime import Runtime
from tests.mosquitto import broker_fixture

broker = broker_fixture()

SYNTHETIC = {"type": "synthetic", "width": 160, "height": 120, "fps": 10}


def channel(channel_id: str) -> dict[str, Any]:
    return {"id": channel_id, "source": SYNTHETIC, "detectors": {"motion": {}}}


def config(linkage: dict[str, Any], *channel_ids: str, **extra: Any) -> dict[str, Any]:
    ids = channel_ids or ("cam1", "cam2")
    return {
        "zeroconf": {"enabled": False},
        "channels": [channel(c) for c in ids],
        "linkage": {"retry": {"attempts": 2, "backoff": 0.05}, **linkage},
        **extra,
    }


@dataclass
class Watch:
    """Every event update the runtime publishes, with a wait on a condition over them."""

    updates: list[EventUpdate] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, update: EventUpdate) -> None:
        self.updates.append(update)
        self.changed.set()

    async def wait(self, predicate: Callable[[list[EventUpdate]], Any], within: float = 20) -> Any:
        async with asyncio.timeout(within):
            while not (found := predicate(self.updates)):
                self.changed.clear()
                await self.changed.wait()
        return found

    async def fired(self, rule: str, within: float = 20) -> dict[str, Any]:
        """The data of the ended ``linkage_fired`` record of ``rule`` (all outcomes in)."""

        def ended(updates: list[EventUpdate]) -> dict[str, Any] | None:
            for u in updates:
                e = u.event
                if e.type == "linkage_fired" and u.phase.value == "end" and e.data["rule"] == rule:
                    return e.data
            return None

        return await self.wait(ended, within)  # type: ignore[no-any-return]


StartRuntime = Callable[[dict[str, Any]], Awaitable[tuple[Runtime, Watch]]]


@pytest.fixture
async def start_runtime(tmp_path: Path) -> AsyncIterator[StartRuntime]:
    started: list[Runtime] = []

    async def start(data: dict[str, Any]) -> tuple[Runtime, Watch]:
        runtime = runtime_from_data(data, data_dir=tmp_path / f"data{len(started)}")
        watch = Watch()
        await runtime.start()
        started.append(runtime)
        runtime.subscribe_events(watch.add)
        return runtime, watch

    yield start
    for runtime in reversed(started):
        await runtime.stop()


@dataclass
class Receiver:
    """A real HTTP server: records each request's JSON (or text) body; ``fail`` answers 500."""

    port: int = 0
    scheme: str = "http"
    bodies: list[Any] = field(default_factory=list)
    fail: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/alarm"

    async def handle(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            self.bodies.append(json.loads(text))
        except ValueError:
            self.bodies.append(text)
        self.arrived.set()
        if self.fail:
            self.fail -= 1
            return web.Response(status=500)
        return web.json_response({"ok": True})

    async def wait(self, count: int = 1, within: float = 10) -> list[Any]:
        async with asyncio.timeout(within):
            while len(self.bodies) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.bodies


@contextlib.asynccontextmanager
async def receiving(tls: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
    """A ``Receiver`` served on 127.0.0.1 (over HTTPS with ``tls``) until the block ends."""
    found = Receiver(scheme="https" if tls else "http")
    app = web.Application()
    app.router.add_post("/alarm", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    found.port = runner.addresses[0][1]
    try:
        yield found
    finally:
        await runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """A CA and a server certificate for 127.0.0.1 with the extensions Python's default (strict)
    verification asks for: (ca, cert, key)."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    cert, key, csr = folder / "server.crt", folder / "server.key", folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1\nauthorityKeyIdentifier=keyid\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=camera_runtime mail CA", "-keyout", str(ca_key), "-out", str(ca),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    yield ca, cert, key
