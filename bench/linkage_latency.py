"""Benchmark: linkage latency, from an event on the bus to its linkage action done.

A runtime in this process with two synthetic 320x180 channels and a real Mosquitto on
127.0.0.1 (``tests/mosquitto.py``). Two rules on a doorbell source (raised through the
engine's HTTP-input path, ``linkage.receive``): one captures a picture on a camera channel
(the runtime's own action: a JPEG encoded and written), one opens a door over MQTT (publish,
QoS 1, acknowledged by the broker). For each of ``n`` presses: latency = the action's outcome
in the ``linkage_fired`` record's end - the triggering event's publication on the bus
(``time.monotonic()`` in a bus subscriber), per action from the outcome's own duration.

Target (issue #16): p99 < 250 ms in the runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import environment, finish, markdown_table, percentile, print_header, verdict

from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventUpdate
from tests.mosquitto import Mosquitto

NAME = "linkage_latency"
TARGET_P99_MS = 250.0


async def measure(broker: Mosquitto, presses: int, folder: Path) -> dict[str, list[float]]:
    mqtt = {"host": broker.host, "port": broker.port}
    source = {"type": "synthetic", "width": 320, "height": 180, "fps": 10}
    data = {
        "zeroconf": {"enabled": False},
        "channels": [{"id": "cam1", "source": source}, {"id": "cam2", "source": source}],
        "linkage": {
            "resources": [
                {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]},
                {"id": "front", "type": "door", "mqtt": {**mqtt, "topic": "bench/front/set"}},
            ],
            "rules": [
                {"id": "camera", "source": "bell", "event": "doorbell_ring",
                 "actions": [{"resource": "cam1", "action": "capture_picture"}]},
                {"id": "mqtt", "source": "bell", "event": "doorbell_ring",
                 "actions": [{"resource": "front", "action": "open_door"}]},
            ],
        },
    }  # fmt: skip
    runtime = runtime_from_data(data, data_dir=folder)
    published: dict[str, float] = {}
    done: dict[str, list[float]] = {"camera": [], "mqtt": []}
    waiting: asyncio.Queue[None] = asyncio.Queue()

    def watch(update: EventUpdate) -> None:
        event = update.event
        if event.type == "doorbell_ring" and update.phase.value == "new":
            published[event.id] = time.monotonic()
        elif event.type == "linkage_fired" and update.phase.value == "end":
            start = published[event.data["trigger"]["id"]]
            done[event.data["rule"]].append((time.monotonic() - start) * 1000)
            waiting.put_nowait(None)

    await runtime.start()
    try:
        runtime.subscribe_events(watch)
        resource = runtime.linkage._resources["front"]
        async with asyncio.timeout(10):
            await resource.transport.wait_connected()  # type: ignore[attr-defined]
        while not runtime.has_picture("cam1"):  # noqa: ASYNC110 - no awaitable for it
            await asyncio.sleep(0.01)
        for _ in range(presses):
            await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
            for _ in range(2):
                async with asyncio.timeout(10):
                    await waiting.get()
    finally:
        await runtime.stop()
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="50 presses instead of 500")
    args = parser.parse_args()
    presses = 50 if args.quick else 500
    env = environment()
    print_header("Linkage: event -> action latency", env, args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "broker", persistence=False)
        broker.start()
        try:
            done = asyncio.run(measure(broker, presses, Path(tmp) / "data"))
        finally:
            broker.stop()
    rows: list[list[Any]] = []
    results: dict[str, Any] = {}
    for name, label in (
        ("camera", "camera channel: capture picture"),
        ("mqtt", "door over MQTT: open door"),
    ):
        values = done[name]
        p50, p99 = percentile(values, 50), percentile(values, 99)
        rows.append([label, len(values), p50, p99, max(values), verdict(p99 < TARGET_P99_MS)])
        results[name] = {"n": len(values), "p50_ms": p50, "p99_ms": p99, "max_ms": max(values)}
    print(
        markdown_table(
            ["action", "n", "p50 ms", "p99 ms", "max ms", f"p99 < {TARGET_P99_MS:.0f} ms"], rows
        )
    )
    finish(NAME, args.quick, env, {"results": results, "target_p99_ms": TARGET_P99_MS})


if __name__ == "__main__":
    main()
