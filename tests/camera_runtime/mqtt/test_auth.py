"""A broker with a password file: the bridge logs in with its credentials; wrong ones never
connect, are logged once, and do not block the runtime."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.polling import eventually

from .conftest import Runtimes, Subscriber, tick_channel


async def test_credentials(
    runtimes: Runtimes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secured = Mosquitto(tmp_path / "secured", users={"cam": "Right-Pass-1", "watch": "W-Pass-22"})
    secured.start()
    try:
        mqtt = {"host": secured.host, "port": secured.port, "username": "cam"}
        good, bad = tmp_path / "good", tmp_path / "bad"
        runtime, bridge = await runtimes.start(
            [tick_channel("cam1")], {**mqtt, "password": "Right-Pass-1"}, data_dir=good
        )
        await eventually(lambda: bridge.connected, what="the bridge to log in")
        watcher = Subscriber(secured, asyncio.get_running_loop())
        watcher.client.username_pw_set("watch", "W-Pass-22")
        await watcher.start()
        try:
            await watcher.wait_payload(f"camera_runtime/{runtime.device_id}/availability", "online")
        finally:
            watcher.stop()
        _, refused = await runtimes.start(
            [tick_channel("cam1")], {**mqtt, "password": "wrong"}, data_dir=bad
        )
        await eventually(lambda: "refused the connection" in caplog.text, what="the refusal")
        assert not refused.connected
        assert caplog.text.count("refused the connection") == 1
    finally:
        for started in list(runtimes.running):
            await runtimes.stop(started)
        secured.stop()
