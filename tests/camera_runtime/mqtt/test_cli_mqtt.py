"""``camera-runtime demo --mqtt-host --mqtt-port``: the demo's events reach a real broker with
the ids of ``/api/events``, and Ctrl-C says offline."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import aiohttp

from tests.camera_runtime.test_cli import Cli, _reap  # noqa: F401 - _reap kills leftovers

from .conftest import Subscriber

PASSWORD = "Mqtt-Demo-Pass-1"


async def test_demo_publishes_its_events_to_the_broker(
    tmp_path: Path, subscriber: Subscriber
) -> None:
    broker = subscriber.broker
    env = {
        **os.environ,
        "CAMERA_RUNTIME_ADMIN_PASSWORD": PASSWORD,
        "CAMERA_RUNTIME_MQTT_PASSWORD": "",
    }
    demo = Cli(
        ["demo", "--port", "0", "--channels", "1", "--data-dir", str(tmp_path / "data"),
         "--no-zeroconf", "--mqtt-host", broker.host, "--mqtt-port", str(broker.port)],
        env,
    )  # fmt: skip
    url = demo.wait_for_line(r"web UI and API: (http://127\.0\.0\.1:\d+)")[1]

    def online_device() -> str | None:
        for m in subscriber.messages:
            parts = m.topic.split("/")
            if len(parts) == 3 and parts[2] == "availability" and m.payload == b"online":
                return parts[1]
        return None

    device_id = await subscriber.wait_for(online_device, within=30, what="the demo online")
    await subscriber.discovery(device_id, "cam1")
    new = await subscriber.wait_for(
        lambda: next(
            (m.json() for m in subscriber.on(f"camera_runtime/{device_id}/cam1/events")
             if m.json()["type"] == "new"),
            None,
        ),
        within=60,
        what="a motion event",
    )  # fmt: skip
    async with (
        aiohttp.ClientSession(auth=aiohttp.BasicAuth("admin", PASSWORD)) as session,
        session.get(f"{url}/api/events", params={"channel": "cam1"}) as response,
    ):
        events = (await response.json())["events"]
    assert new["id"] in [e["id"] for e in events]
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    await subscriber.wait_payload(f"camera_runtime/{device_id}/availability", "offline")
    assert "Traceback" not in "".join(demo.output)
    assert json.loads(subscriber.last(f"camera_runtime/{device_id}/info").payload)["channels"] == 1
