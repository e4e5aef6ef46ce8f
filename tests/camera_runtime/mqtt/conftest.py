"""Fixtures: a real Mosquitto broker, real runtimes with the MQTT bridge, a paho subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from camera_runtime.history import EventHistory
from camera_runtime.host import compose, runtime_from_data
from camera_runtime.model import Event, EventUpdate
from camera_runtime.mqtt import MqttBridge
from camera_runtime.runtime import Runtime
from tests.mosquitto import Mosquitto, broker_fixture

from .plugins import GATES, MqttTestPlugins


def discovery_topic(device_id: str, channel_id: str = "") -> str:
    """The topic of a device's Home Assistant discovery (``channel_id``: of that channel's
    device), as Home Assistant's device-based discovery names it."""
    device = f"camera_runtime_{device_id}" + (f"_{channel_id}" if channel_id else "")
    return f"homeassistant/device/{device}/config"


@dataclass
class Message:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Subscriber:
    """A paho client on its own thread; messages are collected on the test's event loop."""

    broker: Mosquitto
    loop: asyncio.AbstractEventLoop
    messages: list[Message] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    #: A fixed id with a persistent session: the broker keeps the subscription and queues
    #: messages for it while the subscriber is away (e.g. across a broker restart).
    client_id: str = ""

    def __post_init__(self) -> None:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=not self.client_id,
        )
        client.reconnect_delay_set(0.1, 1)
        client.on_message = self._message
        client.on_connect = self._connect
        self.client = client

    def _connect(self, *args: Any) -> None:
        self.loop.call_soon_threadsafe(self._connected.set)

    def _message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        message = Message(msg.topic, bytes(msg.payload), bool(msg.retain))
        self.loop.call_soon_threadsafe(self._add, message)

    def _add(self, message: Message) -> None:
        self.messages.append(message)
        self._arrived.set()

    async def start(self, topic: str = "#") -> None:
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        await asyncio.wait_for(self._connected.wait(), 10)
        done = asyncio.Event()
        self.client.on_subscribe = lambda *a: self.loop.call_soon_threadsafe(done.set)
        self.client.subscribe(topic, qos=1)
        await asyncio.wait_for(done.wait(), 10)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain)

    def on(self, topic: str) -> list[Message]:
        return [m for m in self.messages if m.topic == topic]

    def last(self, topic: str) -> Message | None:
        found = self.on(topic)
        return found[-1] if found else None

    async def wait_for(
        self, predicate: Callable[[], Any], within: float = 15, what: str = "a condition"
    ) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every message); returns it."""
        deadline = self.loop.time() + within
        while True:
            self._arrived.clear()
            result = predicate()
            if result:
                return result
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                topics = sorted({m.topic for m in self.messages})
                pytest.fail(f"timed out waiting for {what}; topics seen: {topics}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def discovery(self, device_id: str, channel_id: str = "") -> Message:
        """The latest Home Assistant discovery of a device (``channel_id``: of that channel's
        device), once one was published."""
        topic = discovery_topic(device_id, channel_id)
        message: Message = await self.wait_for(
            lambda: self.last(topic), what=f"discovery on {topic}"
        )
        return message

    async def components(self, device_id: str, channel_id: str = "") -> dict[str, Any]:
        """The components of a device's Home Assistant discovery, once published."""
        components: dict[str, Any] = (await self.discovery(device_id, channel_id)).json()["cmps"]
        return components

    def mark(self) -> int:
        """A position in the message list: ``wait_payload(..., after=mark)`` looks past it."""
        return len(self.messages)

    async def wait_payload(
        self, topic: str, payload: bytes | str, within: float = 15, after: int = 0
    ) -> Message:
        data = payload.encode() if isinstance(payload, str) else payload
        return await self.wait_for(
            lambda: next(
                (m for m in self.messages[after:] if m.topic == topic and m.payload == data), None
            ),
            within,
            f"{data!r} on {topic}",
        )


def tick_channel(
    channel_id: str, *, fps: float = 25, detect_fps: float = 5, gate: str = ""
) -> dict[str, Any]:
    return {
        "id": channel_id,
        "source": {"type": "tick", "fps": fps, "gate": gate},
        "detect": {"fps": detect_fps},
        "detectors": {"pulse": {}},
    }


def motion_channel(channel_id: str) -> dict[str, Any]:
    """A synthetic camera with a box crossing every 3 s: real motion events."""
    return {
        "id": channel_id,
        "source": {
            "type": "synthetic",
            "width": 320,
            "height": 180,
            "fps": 15,
            "noise": 0,
            "objects": [
                {
                    "size": [0.2, 0.4],
                    "period": 3,
                    "path": [{"t": 0, "x": 0.1, "y": 0.5}, {"t": 1.5, "x": 0.9, "y": 0.5}],
                }
            ],
        },
        "detectors": {"motion": {"sensitivity": 60, "hold_time": 0.5}},
    }


Started = tuple[Runtime, MqttBridge]


class Runtimes:
    """Starts runtimes with their bridge; whatever the test did not stop is stopped at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[Started] = []

    async def start(
        self,
        channels: list[dict[str, Any]],
        mqtt: dict[str, Any],
        *,
        data_dir: Path | None = None,
        plugins: tuple[object, ...] = (),
    ) -> Started:
        data = {"channels": channels, "mqtt": mqtt, "zeroconf": {"enabled": False}}
        runtime = runtime_from_data(
            data,
            data_dir=data_dir or self.tmp_path / "data",
            extra_plugins=[MqttTestPlugins(), *plugins],
        )
        bridge = compose(runtime, api=False).mqtt
        assert isinstance(bridge, MqttBridge)
        await runtime.start()
        self.running.append((runtime, bridge))
        return runtime, bridge

    async def stop(self, started: Started) -> None:
        """The runtime stops its channels first, then the bridge: the channels' last ``end``
        updates go out too."""
        self.running.remove(started)
        runtime, _ = started
        await runtime.stop()


@pytest.fixture
async def runtimes(tmp_path: Path, broker: Mosquitto) -> AsyncIterator[Runtimes]:
    """Depends on ``broker`` so that the broker outlives the runtimes at teardown."""
    harness = Runtimes(tmp_path)
    yield harness
    for started in reversed(list(harness.running)):
        await harness.stop(started)
    for event in GATES.values():
        event.set()


broker = broker_fixture()


@pytest.fixture
async def subscriber(broker: Mosquitto) -> AsyncIterator[Subscriber]:
    """Subscribed to every topic before the test starts anything."""
    sub = Subscriber(broker, asyncio.get_running_loop())
    await sub.start()
    yield sub
    sub.stop()


def mqtt_block(broker: Mosquitto, **extra: Any) -> dict[str, Any]:
    return {"host": broker.host, "port": broker.port, **extra}


async def stored_events(runtime: Runtime) -> list[Event]:
    """The event history of a (stopped) runtime, read from its file."""
    history = EventHistory(runtime.data_dir / "events.sqlite3")
    await history.open()
    try:
        return await history.query(limit=1000)
    finally:
        await history.close()


async def count_events(runtime: Runtime, n: int, within: float = 30) -> None:
    """Wait until the runtime raised ``n`` more event updates."""
    done = asyncio.get_running_loop().create_future()
    seen = 0

    def on_update(update: EventUpdate) -> None:
        nonlocal seen
        seen += 1
        if seen >= n and not done.done():
            done.set_result(None)

    unsubscribe = runtime.bus.subscribe(on_update)
    try:
        await asyncio.wait_for(done, within)
    finally:
        unsubscribe()
