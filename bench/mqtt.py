"""Benchmark: the MQTT bridge: events per second to a subscriber, and detection -> subscriber
latency with 4 live 25 fps channels.

A real Mosquitto on 127.0.0.1 (``tests/mosquitto.py``), the bridge in this process, and a paho
subscriber on its own thread that stamps ``time.monotonic()`` on receipt.

1. **Throughput**: N event updates put on the runtime's event bus as fast as the loop takes
   them (no channel: the bridge's cost alone, event history included), until the subscriber
   has all N. Reference in the same run: a bare paho client publishing the same N payloads
   with QoS 1 (no outbox) to the same subscriber. Reported: events/s of both and their ratio.
2. **Latency**: 4 live-paced ``blink1080`` channels (1080p25, ``file`` source, ``loop``,
   ``realtime``), motion at 5 fps with ``hold_time: 0`` (an event starts and ends every 2 s on
   each channel). An in-process bus subscriber records each update's bus time and its frame's
   ``demux_time``; latency = subscriber receipt - demux time (frame -> detection -> outbox
   fsync -> broker -> subscriber), and its part bus -> subscriber. Target: p99 < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as paho
from _common import (
    clip,
    environment,
    file_channel,
    finish,
    markdown_table,
    percentile,
    print_header,
    runtime_config,
    verdict,
    wait_quiet,
)
from paho.mqtt.enums import CallbackAPIVersion

from camera_runtime.host import runtime_from_data
from camera_runtime.model import Event, EventPhase, EventUpdate
from tests.mosquitto import Mosquitto

NAME = "mqtt"
TARGET_P99_MS = 150.0


class Receiver:
    """A paho subscriber; ``received[key] = monotonic time`` per message, key from the payload."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.received: dict[tuple[str, str], float] = {}
        self.count = 0
        self._lock = threading.Condition()
        client = paho.Client(CallbackAPIVersion.VERSION2)
        client.on_message = self._message
        client.connect(broker.host, broker.port)
        subscribed = threading.Event()
        client.on_subscribe = lambda *a: subscribed.set()
        client.subscribe(topic, qos=1)
        client.loop_start()
        subscribed.wait(10)
        self.client = client

    def _message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        now = time.monotonic()
        body = json.loads(msg.payload)
        with self._lock:
            self.received.setdefault((body["id"], body["type"]), now)
            self.count += 1
            self._lock.notify_all()

    def wait_count(self, n: int, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.received) >= n, timeout)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def reference_rate(broker: Mosquitto, n: int) -> float:
    """Bare paho, QoS 1, the same payload size: events/s to the subscriber."""
    receiver = Receiver(broker, "ref/#")
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(100)
    client.connect(broker.host, broker.port)
    client.loop_start()
    payload = {"type": "new", "channel": "cam1", "event_type": "motion", "data": {"areas": ["a"]}}
    start = time.monotonic()
    for i in range(n):
        client.publish("ref/cam1/events", json.dumps({**payload, "id": str(i)}), qos=1)
    ok = receiver.wait_count(n, 120)
    elapsed = time.monotonic() - start
    client.disconnect()
    client.loop_stop()
    receiver.stop()
    return n / elapsed if ok else float("nan")


async def bridge_rate(broker: Mosquitto, n: int, folder: Path) -> tuple[float, int]:
    runtime = runtime_from_data(
        {"zeroconf": {"enabled": False}, "mqtt": {"host": broker.host, "port": broker.port}},
        data_dir=folder,
    )
    await runtime.start()
    bridge = runtime.mqtt
    assert bridge is not None
    while not bridge.connected:  # noqa: ASYNC110 - the bridge exposes a flag, not an event
        await asyncio.sleep(0.01)
    receiver = Receiver(broker, "camera_runtime/+/+/events")
    start = time.monotonic()
    for i in range(n):
        event = Event("cam1", "motion", time.time(), data={"areas": ["a"]})
        runtime.bus.publish(EventUpdate(EventPhase.NEW, event))
        if i % 200 == 0:
            await asyncio.sleep(0)  # let the bridge's pump and acks run, as live traffic would
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, receiver.wait_count, n, 300)
    elapsed = time.monotonic() - start
    receiver.stop()
    duplicates = receiver.count - len(receiver.received)
    await bridge.stop()
    await runtime.stop()
    return (n / elapsed if ok else float("nan")), duplicates


async def latency(broker: Mosquitto, seconds: float, folder: Path) -> dict[str, Any]:
    path = clip("blink1080")
    channels = [
        file_channel(f"cam{i + 1}", path, realtime=True, loop=True, motion={"hold_time": 0})
        for i in range(4)
    ]
    data = {**runtime_config(channels), "mqtt": {"host": broker.host, "port": broker.port}}
    data["mqtt"]["snapshot_on_event"] = True
    runtime = runtime_from_data(data, data_dir=folder)
    await runtime.start()
    bridge = runtime.mqtt
    assert bridge is not None
    receiver = Receiver(broker, "camera_runtime/+/+/events")
    sent: dict[tuple[str, str], tuple[float | None, float]] = {}

    def on_update(update: EventUpdate) -> None:
        sent[(update.event.id, update.phase.value)] = (update.demux_time, time.monotonic())

    runtime.bus.subscribe(on_update)
    await asyncio.sleep(seconds)  # the measurement window: the channels run live meanwhile
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, receiver.wait_count, len(sent), 10)
    receiver.stop()
    await asyncio.gather(*(loop.run_in_executor(None, c.stop) for c in runtime.channels.values()))
    await bridge.stop()
    await runtime.stop()
    total, bus_part = [], []
    for key, (demux, bus) in sent.items():
        got = receiver.received.get(key)
        if got is None:
            continue
        bus_part.append((got - bus) * 1000)
        if demux is not None:
            total.append((got - demux) * 1000)
    return {
        "updates": len(sent),
        "received": len(receiver.received),
        "total": total,
        "bus": bus_part,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="5,000 events, 20 s of latency")
    parser.add_argument("--events", type=int, help="events for the throughput run (20000)")
    parser.add_argument("--seconds", type=float, help="latency window in seconds (60)")
    args = parser.parse_args()
    n = args.events or (5000 if args.quick else 20000)
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    env = environment()
    print_header("MQTT bridge: throughput and latency", env, args.quick)
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp) / "broker", persistence=False)
        broker.start()
        try:
            busy = wait_quiet()
            print(f"  throughput: {n} events (machine {busy:.0f}% busy before)...", flush=True)
            ref = reference_rate(broker, n)
            rate, dups = asyncio.run(bridge_rate(broker, n, Path(tmp) / "t"))
            busy = wait_quiet()
            print(f"  latency: 4 x 1080p25 for {seconds:.0f} s ({busy:.0f}% busy)...", flush=True)
            lat = asyncio.run(latency(broker, seconds, Path(tmp) / "l"))
        finally:
            broker.stop()
    print()
    print(
        markdown_table(
            ["measure", "events/s", "reference (bare paho QoS 1)", "ratio", "duplicates"],
            [["bridge throughput", rate, ref, rate / ref, dups]],
        )
    )
    p99 = percentile(lat["total"], 99)
    rows = []
    for title, values in (("demux -> subscriber", lat["total"]), ("bus -> subscriber", lat["bus"])):
        rows.append(
            [title, len(values), percentile(values, 50), percentile(values, 95),
             percentile(values, 99), max(values, default=float("nan"))]
        )  # fmt: skip
    print()
    print(markdown_table(["latency (ms)", "n", "p50", "p95", "p99", "max"], rows))
    ok = bool(lat["total"]) and p99 < TARGET_P99_MS and lat["received"] == lat["updates"]
    print(
        f"\nupdates {lat['updates']}, received {lat['received']}; "
        f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict(ok)}"
    )
    finish(
        NAME,
        args.quick,
        env,
        {
            "throughput": {
                "events": n,
                "bridge_per_s": rate,
                "reference_per_s": ref,
                "duplicates": dups,
            },
            "latency_ms": {
                "updates": lat["updates"],
                "received": lat["received"],
                "p50": percentile(lat["total"], 50),
                "p95": percentile(lat["total"], 95),
                "p99": p99,
                "bus_p99": percentile(lat["bus"], 99),
            },
            "pass": ok,
        },
    )


if __name__ == "__main__":
    main()
