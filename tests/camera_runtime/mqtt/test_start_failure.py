"""A bridge whose start fails leaves nothing behind, and its certificates are read off the
event loop (Home Assistant, which may embed the runtime, forbids blocking calls there)."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.mqtt import MqttBridge
from camera_runtime.mqtt.bridge import OUTBOX_FILE
from camera_runtime.runtime import Runtime
from tests.ports import free_port

from .conftest import count_events, tick_channel
from .plugins import MqttTestPlugins
from .test_tls import make_certificates


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A started runtime without an ``mqtt:`` block: the tests start bridges themselves."""
    data = {"channels": [tick_channel("cam1", detect_fps=20)], "zeroconf": {"enabled": False}}
    started = runtime_from_data(data, data_dir=tmp_path / "data", extra_plugins=[MqttTestPlugins()])
    await started.start()
    yield started
    await started.stop()


def outbox_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("mqtt-outbox")}


def open_files() -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return found


async def test_failed_start_leaves_no_thread_file_or_subscription(
    runtime: Runtime, tmp_path: Path
) -> None:
    before = outbox_threads()
    missing = str(tmp_path / "nope.crt")
    bridge = MqttBridge(
        runtime, {"host": "127.0.0.1", "port": free_port(), "tls": {"ca_certs": missing}}
    )
    with pytest.raises(ConfigError, match=r"mqtt\.tls: cannot load the certificates"):
        await bridge.start()
    # Events raised afterwards must not reach the failed bridge (it would start its thread).
    await count_events(runtime, 3)
    assert outbox_threads() - before == set()
    outbox = str(runtime.data_dir / OUTBOX_FILE)
    assert not {f for f in open_files() if f.startswith(outbox)}
    await bridge.stop()  # harmless


def open_writer(fifo: Path, within: float) -> int:
    """Open the pipe for writing as soon as a reader has it open (``ENXIO`` until then)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as err:
            if err.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
        time.sleep(0.005)  # polling a condition nothing can notify


async def test_certificates_are_read_off_the_event_loop(runtime: Runtime, tmp_path: Path) -> None:
    ca, _, _ = make_certificates(tmp_path / "pki")
    fifo = tmp_path / "ca.pipe"
    os.mkfifo(fifo)
    loop = asyncio.get_running_loop()
    result: dict[str, bool] = {}

    def writer() -> None:
        """While the bridge is reading the CA file (a pipe: the read waits for us), ask the
        event loop for a sign of life; it cannot give one when the read runs on it."""
        fd = open_writer(fifo, 15)
        alive = threading.Event()
        loop.call_soon_threadsafe(alive.set)
        result["loop_alive"] = alive.wait(3)
        os.write(fd, ca.read_bytes())
        os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    bridge = MqttBridge(
        runtime, {"host": "127.0.0.1", "port": free_port(), "tls": {"ca_certs": str(fifo)}}
    )
    try:
        await asyncio.wait_for(bridge.start(), 20)
    finally:
        await loop.run_in_executor(None, thread.join, 20)
        await bridge.stop()
    assert result["loop_alive"], "the certificates were read on the event loop"
