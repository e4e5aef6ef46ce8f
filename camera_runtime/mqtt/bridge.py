"""The MQTT bridge: runtime events, channel states and commands on the topic tree, Home
Assistant discovery, and the outbox that makes event delivery survive broker outages.

Event messages go through the durable outbox (``outbox.py``): written before they are
published, QoS 1, deleted on PUBACK, published in sequence order; the pump hands at most
``WINDOW`` of them to paho at a time, so a long outage costs disk, not memory. Everything
else (availability, states, snapshots, discovery) is recomputed from the runtime and
republished on every (re)connect, so it needs no outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import CameraRuntimeError, ChannelStoppedError, NoFrameError
from ..interfaces import Service
from ..model import ChannelChange, ChannelStatus, ChannelUpdate, EventPhase, EventUpdate
from . import states
from .client import MqttClient, load_tls
from .commands import CommandError, Commands, safe_payload
from .config import MQTT_SCHEMA
from .outbox import Outbox
from .rule_states import RuleStates
from .topics import OFFLINE, ONLINE, Topics, segment

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from ..interfaces import RuntimeView

_LOGGER = logging.getLogger(__name__)

#: Event messages handed to paho and not yet acknowledged, at most.
WINDOW = 1000
#: How often the runtime's info (channel count, outbox size) is refreshed.
INFO_INTERVAL = 30.0
#: How long ``stop()`` waits for the broker to acknowledge the "offline" messages.
STOP_ACK_TIMEOUT = 2.0
OUTBOX_FILE = "mqtt-outbox.sqlite3"
#: The outbox as the runtime's storage watch names it.
OUTBOX_SOURCE = "MQTT outbox"


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


class MqttBridge(Service):
    """Connects one runtime to an MQTT broker: the runtime's ``mqtt`` service. ``start()``
    never waits for the broker; ``stop()`` returns within a few seconds even when the broker
    is down."""

    name = "mqtt"

    def __init__(self, runtime: RuntimeView, config: Mapping[str, Any]) -> None:
        self.runtime = runtime
        self.config: dict[str, Any] = MQTT_SCHEMA(dict(config))
        self.topics = Topics("", "", "")
        self.outbox = Outbox(
            runtime.data_dir / OUTBOX_FILE,
            self.config["outbox_max"],
            self._wake_pump,
            health=lambda error, pending, dropped: runtime.report_storage(
                OUTBOX_SOURCE, error, pending=pending, dropped=dropped
            ),
        )
        self._client: MqttClient | None = None
        self._commands = Commands(runtime, self._channel_levels, self._pressed)
        self._command_queue: asyncio.Queue[tuple[str, bytes, Callable[[], Awaitable[None]]]]
        self._command_queue = asyncio.Queue(maxsize=100)
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._wake = asyncio.Event()
        self._acked = asyncio.Event()  # set on every event message acknowledged
        self._inflight: dict[int, int] = {}  # mid -> outbox seq
        self._handed = 0  # highest seq handed to paho in this session
        self._ack_waiters: dict[int, asyncio.Future[None]] = {}
        self.retained: dict[str, bytes] = {}  # what was last published per state topic
        self.active: dict[tuple[str, str], set[str]] = {}  # (channel, type) -> event ids
        self.rules = RuleStates()  # the same per declared rule, with its last target
        self._snapshot_busy: set[str] = set()
        self._started = False
        #: Event messages published and acknowledged since ``start()``.
        self.delivered = 0

    @property
    def discovery_enabled(self) -> bool:
        return bool(self.config["discovery"])

    def describe(self) -> dict[str, Any]:
        """Home Assistant raises a repair when both MQTT discovery and its integration would
        create this device's entities: it reads ``discovery`` here."""
        return {"discovery": self.discovery_enabled}

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        runtime = self.runtime
        self.topics = Topics(
            self.config["topic_prefix"], runtime.device_id, self.config["discovery_prefix"]
        )
        # Subscribe before the first await: an event the channels raise meanwhile is not missed.
        self._unsubscribe += [
            runtime.subscribe_events(self._on_event),
            runtime.subscribe_channels(self._on_channel),
        ]
        try:
            ssl_context = await load_tls(self.config)  # file reads: off the event loop
            await self.outbox.open()
            self._client = MqttClient(
                self.config,
                client_id=self.config.get("client_id") or f"camera_runtime-{runtime.device_id}",
                will_topic=self.topics.availability,
                on_connect=self._on_connect,
                on_ack=self._on_ack,
                on_message=self._on_message,
                ssl_context=ssl_context,
            )
        except BaseException:
            # ``stop()`` does nothing for a bridge that did not start: undo it all here.
            for unsubscribe in self._unsubscribe:
                unsubscribe()
            self._unsubscribe.clear()
            await self.outbox.close()
            raise
        for name, coro in (
            ("pump", self._pump()),
            ("commands", self._run_commands()),
            ("info", self._refresh_info()),
        ):
            self._tasks.append(asyncio.create_task(coro, name=f"mqtt-{name}"))
        self._started = True
        self._client.start()
        _LOGGER.info(
            "MQTT bridge to %s started (%d event message(s) waiting in the outbox)",
            self._client.where,
            self.outbox.count,
        )

    async def stop(self) -> None:
        """Say offline, disconnect, and keep undelivered events in the outbox for next time."""
        if not self._started:
            return
        self._started = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drain(), STOP_ACK_TIMEOUT)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        assert self._client is not None
        if self._client.connected:
            waits = [
                self.publish_acked(self.topics.channel_availability(c), OFFLINE)
                for c in self.runtime.channel_ids()
            ]
            waits.append(self.publish_acked(self.topics.availability, OFFLINE))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), STOP_ACK_TIMEOUT)
        await self._client.stop()
        await self.outbox.close()
        _LOGGER.info("MQTT bridge stopped (%d event message(s) kept)", self.outbox.count)

    async def _drain(self) -> None:
        """Deliver what the outbox holds while connected (the channels' last ``end`` updates)."""
        await self.outbox.flush()
        while self.connected:
            if not self._inflight:
                if not await self.outbox.fetch(self._handed, 1):
                    return
                self._wake_pump()
            self._acked.clear()
            await self._acked.wait()

    def publish_acked(self, topic: str, payload: bytes | str) -> asyncio.Future[None]:
        assert self._client is not None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        mid = self._client.publish(topic, payload, qos=1, retain=True)
        if mid is None:
            future.set_result(None)
        else:
            self._ack_waiters[mid] = future
        return future

    # ------------------------------------------------------------------ connection

    def _on_connect(self, connected: bool) -> None:
        if not connected or self._client is None:
            return
        client = self._client
        client.subscribe(self.topics.command_filter)
        client.subscribe(self.topics.ha_status)
        self.retained.clear()
        self.publish(self.topics.availability, ONLINE, retain=True)
        self._publish_info()
        states.publish_device(self)
        if self.discovery_enabled:
            self._publish_discovery()
        for channel_id in self.runtime.channel_ids():
            self._publish_channel(channel_id)
        self.clear_stale()
        self._wake_pump()

    def _on_ack(self, mid: int) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is not None:
            self.outbox.ack(seq)
            self.delivered += 1
            self._acked.set()
            if len(self._inflight) < WINDOW // 2:
                self._wake_pump()
        waiter = self._ack_waiters.pop(mid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        retain: bool,
        force: bool = False,
        channel: str | None = None,
    ) -> None:
        """Publish a state (QoS 1) when connected and, unless ``force``, only when it changed.
        A retained topic of a ``channel`` is remembered on disk, to be cleared once the
        channel is gone (``clear_stale``)."""
        if not self.connected or self._client is None:
            return
        data = payload.encode() if isinstance(payload, str) else payload
        if retain and not force and self.retained.get(topic) == data:
            return
        if retain:
            self.retained[topic] = data
            if channel is not None and data:
                self.outbox.remember(topic, channel)
        self._client.publish(topic, data, qos=1, retain=retain)

    def clear_stale(self) -> None:
        states.clear_stale(self)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` as a task of the bridge (cancelled by ``stop()``)."""
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(asyncio.create_task(coro, name=name))

    # ------------------------------------------------------------------ events (outbox)

    def _wake_pump(self) -> None:
        self._wake.set()

    async def _pump(self) -> None:
        """Hand outbox rows to paho in sequence order, at most ``WINDOW`` unacknowledged."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self.connected and len(self._inflight) < WINDOW:
                rows = await self.outbox.fetch(self._handed, WINDOW - len(self._inflight))
                if not rows or self._client is None:
                    break
                for row in rows:
                    mid = self._client.publish(row.topic, row.payload, qos=1)
                    if mid is None:  # paho's queue refused it: try again on the next ack
                        break
                    self._inflight[mid] = row.seq
                    self._handed = row.seq
                else:
                    continue
                break

    def _is_exception(self, channel_id: str, event_type: str) -> bool:
        """Whether the channel (or the device, ``""``) declares ``event_type`` an exception
        (video loss, storage error): it has no picture worth sending."""
        try:
            declared = (
                self.runtime.channel_status(channel_id)["event_types"]
                if channel_id
                else self.runtime.device_info()["event_types"]
            )
        except CameraRuntimeError:
            return True
        return any(t["name"] == event_type and t.get("exception") for t in declared)

    def _on_event(self, update: EventUpdate) -> None:
        event = update.event
        channel = event.channel
        snapshot = self.config["snapshot_on_event"] and not self._is_exception(channel, event.type)
        body = {
            "type": update.phase.value,
            "id": event.id,
            "channel": channel,
            "event_type": event.type,
            "start": event.start,
            "end": event.end,
            "active": event.active,
            "data": event.data,
            "device_id": self.runtime.device_id,
            "snapshot": self.topics.snapshot(channel) if snapshot else None,
            "time": time.time(),
        }
        self.outbox.add(self.topics.events(channel), body)
        ids = self.active.setdefault((channel, event.type), set())
        if update.phase is EventPhase.END:
            ids.discard(event.id)
        else:
            ids.add(event.id)
        self.rules.observe(update.phase, event)
        if channel:
            self._publish_channel(channel)
        else:
            states.publish_device(self)
        if snapshot and update.phase is EventPhase.NEW:
            self._take_snapshot(channel)

    def _take_snapshot(self, channel_id: str) -> None:
        """Publish the channel's current picture (retained), encoded off the event loop."""
        if channel_id in self._snapshot_busy or not self.connected:
            return
        try:
            if not self.runtime.has_picture(channel_id):
                return
        except CameraRuntimeError:  # removed meanwhile
            return
        self._snapshot_busy.add(channel_id)

        async def run() -> None:
            try:
                data = await self.runtime.snapshot(channel_id)
                topic = self.topics.snapshot(channel_id)
                self.publish(topic, data, retain=True, force=True, channel=channel_id)
            except (
                NoFrameError,
                ChannelStoppedError,
            ):  # it lost its picture, or stopped, meanwhile
                pass
            except Exception:
                _LOGGER.exception("MQTT: snapshot of %s failed", channel_id)
            finally:
                self._snapshot_busy.discard(channel_id)

        self.spawn(run(), f"mqtt-snapshot-{channel_id}")

    # ------------------------------------------------------------------ channel states

    def _on_channel(self, update: ChannelUpdate) -> None:
        if update.change is ChannelChange.REMOVED:
            self._remove_channel(update.channel)
            return
        if update.change is ChannelChange.ADDED:
            self._publish_info()
        if self.discovery_enabled:
            # Only when its payload changed (capabilities, name): HA adds or removes the
            # entities that come or go.
            states.publish_channel_discovery(self, update.channel, update.status)
        self._publish_channel(update.channel, update.status)

    def _publish_channel(
        self, channel_id: str, status: ChannelStatus | None = None, *, force: bool = False
    ) -> None:
        states.publish_channel(self, channel_id, status, force=force)

    def _remove_channel(self, channel_id: str) -> None:
        states.remove_channel(self, channel_id)

    def _publish_discovery(self) -> None:
        states.publish_discovery(self)

    def _publish_info(self) -> None:
        states.publish_info(self)

    async def _refresh_info(self) -> None:
        while True:
            await asyncio.sleep(INFO_INTERVAL)
            self._publish_info()

    # ------------------------------------------------------------------ commands

    def _channel_levels(self) -> dict[str, str]:
        return {segment(channel_id): channel_id for channel_id in self.runtime.channel_ids()}

    def _on_message(self, topic: str, payload: bytes, retain: bool = False) -> None:
        if topic == self.topics.ha_status:
            if payload == b"online" and self.discovery_enabled:
                _LOGGER.info("Home Assistant is online: publishing discovery again")
                self._publish_discovery()
            return
        parsed = self.topics.parse_command(topic)
        if parsed is None:
            return
        level, feature = parsed
        if retain:
            # A retained command would be applied again on every reconnect, long after it
            # was meant: only live commands count.
            self._command_failed(
                topic, payload, "retained command refused: publish commands without retain"
            )
            return
        try:
            action = self._commands.prepare(level, feature, payload)
            self._command_queue.put_nowait((topic, payload, action))
        except CommandError as err:
            self._command_failed(topic, payload, str(err))
        except asyncio.QueueFull:
            self._command_failed(topic, payload, "too many commands waiting; try again")

    async def _run_commands(self) -> None:
        """Apply commands one at a time, in arrival order; echo the channel's states."""
        while True:
            topic, payload, action = await self._command_queue.get()
            try:
                await action()
            except CommandError as err:
                self._command_failed(topic, payload, str(err))
            except Exception:
                _LOGGER.exception("MQTT command on %s failed", topic)
                self._command_failed(topic, payload, "internal error; see the runtime's log")
            parsed = self.topics.parse_command(topic)
            if parsed is not None:
                self._publish_channel(self._channel_levels().get(parsed[0], ""), force=True)

    def _command_failed(self, topic: str, payload: bytes, error: str) -> None:
        shown = safe_payload(payload)
        safe_topic = safe_payload(topic.encode(), 256)
        _LOGGER.warning("MQTT command refused on %s (%r): %s", safe_topic, shown, error)
        body = {"topic": safe_topic, "payload": shown, "error": error, "time": time.time()}
        self.publish(self.topics.error, _json(body), retain=False)

    def _pressed(self, channel_id: str, key: str, result: dict[str, Any]) -> None:
        """A button's result (a capture's id and URL) on its state topic, not retained."""
        self.publish(self.topics.state(channel_id, key), _json(result), retain=False)


__all__ = ["OUTBOX_FILE", "MqttBridge"]
