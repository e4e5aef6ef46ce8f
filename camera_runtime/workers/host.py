"""A channel worker process: runs channels (``Channel``) for the runtime, off its process.

Why: one Python process runs out of GIL, not of CPU. Every decode, demux, OpenCV call and lock
wait gives the GIL up and takes it back, and with ~100 busy threads each take-back waits: 48
cameras (1080p passed through, 360p decoded with motion) were 48.5 % late in one process and
0.00 % late in two, on less CPU; 64 were 0.01 % late in four processes of 16
(``bench/capacity.py --gil-procs``). A worker holds a share of the channels, whole: feeds,
image stages, detectors, live slot, served streams. The runtime keeps a ``RemoteChannel`` for
each (``remote.py``), fed by what the worker pushes over its ``Link``:

- ``("status", channel_id, ChannelSnapshot)`` whenever the channel says it changed (coalesced:
  several changes in a row make one snapshot) and every ``STATS_INTERVAL``, for the frame rate;
- ``("event", EventUpdate)`` for each event update, in order, from the same thread as the
  snapshots (never a feed's: a write to a full pipe waits).

The runtime calls ``open`` (a channel from its config, not started), ``start``, ``stop``,
``close``, ``set`` (a switch: ``armed``, ``display_info``) and ``invoke`` (a channel method
allowed in ``INVOKABLE``). Calls run on a small pool, so a channel's blocking ``stop`` does not
hold up the others'.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from ..capabilities import EventTypeInfo
from ..channel import BoundControl, Channel, ChannelState
from ..config import ChannelConfig, DetectorConfig, StageConfig
from ..exceptions import ConfigError, NotFoundError
from ..imaging import one_opencv_thread
from ..model import ChannelStatus, EventUpdate, StreamInfo
from ..registry import PluginRegistry, collect_registry, create_plugin_manager
from . import live_relay, packet_relay, stream_relay
from .link import CALL_TIMEOUT, Link

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

#: A running channel's status (its frame rate, frame count) is pushed at least this often
#: (s): what the runtime shows of them is at most this old.
STATS_INTERVAL = 2.0
#: Channel methods the runtime may invoke on a worker's channel (their arguments are data).
INVOKABLE = frozenset({"set_detector", "set_stage", "set_target_cropping", "preview", "join"})
#: Channel switches the runtime may set.
SETTABLE = frozenset({"armed", "display_info"})
#: Threads answering the runtime's calls.
CALL_THREADS = 4
#: How long stopping waits for the status thread to send what it holds (s).
STOP_TIMEOUT = 5.0
#: Numbers the snapshots in the order they were taken (``ChannelSnapshot.seq``).
_TAKEN = itertools.count(1)


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """Everything the runtime reads of a worker's channel without asking: its status as the
    channel builds it, and the parts the runtime's own code reads one by one."""

    status: ChannelStatus
    state: ChannelState
    armed: bool
    display_info: bool
    last_error: str
    stream: StreamInfo | None
    frames: int
    detections: int
    detections_skipped: int
    detection_restarts: int
    fps: float
    has_picture: bool
    image_active: bool
    controls: dict[str, BoundControl]
    event_types: list[tuple[str | None, EventTypeInfo]]
    detectors: dict[str, DetectorConfig]
    stages: dict[str, StageConfig]
    target_cropping: dict[str, Any]
    #: Taken after every other field, so a higher number was read later: a call's reply
    #: reaches the runtime's cache after the reader thread took newer pushes (the caller
    #: stores it on its own thread), and must not overwrite them (``WorkerProcess._keep``).
    seq: int

    @classmethod
    def of(cls, channel: Channel) -> ChannelSnapshot:
        return cls(
            status=channel.status(),
            state=channel.state,
            armed=channel.armed,
            display_info=channel.display_info,
            last_error=channel.last_error,
            stream=channel.stream,
            frames=channel.frames,
            detections=channel.detections,
            detections_skipped=channel.detections_skipped,
            detection_restarts=channel.detection_restarts,
            fps=channel.fps,
            has_picture=channel.has_picture,
            image_active=channel.image.active,
            controls=channel.controls(),
            event_types=channel.event_types(),
            detectors=dict(channel.detectors),
            stages=dict(channel.stages),
            target_cropping=dict(channel.target_cropping),
            seq=next(_TAKEN),
        )


class _Pusher:
    """Sends the event updates and the snapshots of the channels that changed, from one
    thread: a feed only queues an event and marks its channel, so pickling and writing them
    to the pipe never runs on a feed's thread (a write waits while the pipe is full: behind a
    stream's chunk, until the runtime reads), and a burst of changes makes one snapshot.
    Events go first, in the order they came; once stopped, an event is sent at once (the
    channels' last events, as they stop)."""

    def __init__(self, host: WorkerHost) -> None:
        self._host = host
        self._pending: set[str] = set()
        self._events: deque[EventUpdate] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._inline = False  # stopped and drained: events are sent by whoever emits them
        self._thread = threading.Thread(target=self._run, name="worker-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def changed(self, channel_id: str) -> None:
        with self._lock:
            self._pending.add(channel_id)
        self._wake.set()

    def event(self, update: EventUpdate) -> None:
        with self._lock:
            if not self._inline:
                self._events.append(update)
                self._wake.set()
                return
        self._send([update])

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)
        with self._lock:
            self._inline = True
            events = list(self._events)
            self._events.clear()
        self._send(events)

    def _send(self, events: list[EventUpdate]) -> None:
        for update in events:
            self._host.push("event", update)

    def _run(self) -> None:
        while not self._stopped:
            woke = self._wake.wait(STATS_INTERVAL)
            self._wake.clear()
            with self._lock:
                events = list(self._events)
                self._events.clear()
                pending, self._pending = self._pending, set()
            self._send(events)
            if not woke:  # the periodic push: every running channel, for its frame rate
                pending = set(self._host.running())
            for channel_id in sorted(pending):
                self._host.push_status(channel_id)


class WorkerHost:
    """The channels of one worker process and the answers to the runtime's calls."""

    def __init__(self, registry: PluginRegistry, link: Link) -> None:
        self._registry = registry
        self._link = link
        self._channels: dict[str, Channel] = {}
        self._lock = threading.Lock()
        self._pusher = _Pusher(self)
        #: The calls the relays add (``handle``), by name: each gets the channel and the
        #: call's other arguments.
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The worker's event loop for the relays (live views, served streams: what a
        channel offers as coroutines), its thread started on first use; one for every relay."""
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="worker-loop", daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on ``loop()`` and wait for it (from a call's thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop()).result(CALL_TIMEOUT)

    def handle(self, name: str, handler: Callable[..., Any]) -> None:
        """Answer the runtime's call ``name`` with ``handler(channel, *args)`` (a relay's)."""
        self._handlers[name] = handler

    def push(self, *message: Any) -> bool:
        """Send a message to the runtime (a relay's: a picture, a chunk, packets)."""
        return self._link.push(*message)

    def start(self) -> None:
        self._pusher.start()

    def running(self) -> list[str]:
        with self._lock:
            channels = list(self._channels.values())
        return [c.id for c in channels if c.state is not ChannelState.STOPPED]

    def push_status(self, channel_id: str) -> None:
        with self._lock:
            channel = self._channels.get(channel_id)
        if channel is not None:
            self._link.push("status", channel_id, ChannelSnapshot.of(channel))

    def emit(self, update: EventUpdate) -> None:
        """The channels' event callback (on their feeds' threads): queued for the status
        thread, so a feed never waits on the pipe."""
        self._pusher.event(update)

    def _channel(self, channel_id: str) -> Channel:
        with self._lock:
            channel = self._channels.get(channel_id)
        if channel is None:
            raise NotFoundError(f"no channel {channel_id!r} in this worker", "channel_not_found")
        return channel

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        """One call of the runtime (``Link.on_call``)."""
        if name == "open":
            (config,) = args
            return self._open(config)
        channel = self._channel(args[0])
        handler = self._handlers.get(name)
        if handler is not None:
            return handler(channel, *args[1:])
        if name == "start":
            channel.start()
        elif name == "stop":
            channel.stop(*args[1:])
        elif name == "close":
            channel.stop()
            with self._lock:
                self._channels.pop(channel.id, None)
            return None
        elif name == "set":
            _, attribute, value = args
            if attribute not in SETTABLE:
                raise NotFoundError(f"no switch {attribute!r}", "not_found")
            setattr(channel, attribute, value)
        elif name == "invoke":
            _, method, positional, keywords = args
            if method not in INVOKABLE:
                raise NotFoundError(f"no channel method {method!r}", "not_found")
            value = getattr(channel, method)(*positional, **keywords)
            return value, ChannelSnapshot.of(channel)
        else:
            raise NotFoundError(f"no worker call {name!r}", "not_found")
        return ChannelSnapshot.of(channel)

    def _open(self, config: ChannelConfig) -> ChannelSnapshot:
        with self._lock:
            if config.id in self._channels:
                message = f"channel.id: a channel {config.id!r} already exists"
                raise ConfigError(message, [message])
        channel = Channel(config, self._registry, self.emit, self._pusher.changed)
        with self._lock:
            self._channels[config.id] = channel
        return ChannelSnapshot.of(channel)

    def shutdown(self) -> None:
        """Stop every channel (the runtime is stopping, or the link is gone)."""
        self._pusher.stop()
        with self._lock:
            channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            channel.stop()


def _submit(pool: ThreadPoolExecutor, job: Callable[[], None]) -> None:
    pool.submit(job)


def serve(conn: Connection, plugins: Iterable[str], name: str) -> None:
    """The worker process's main: register the runtime's plugin modules (``plugins``: their
    importable names, already filtered by its ``plugins.disabled``), then answer calls until
    the runtime closes the link or goes away (then stop every channel and exit)."""
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s"
    )
    one_opencv_thread()
    pm = create_plugin_manager(extra_plugins=list(plugins), load_entry_points=False)
    registry = collect_registry(pm)
    gone = threading.Event()
    pool = ThreadPoolExecutor(CALL_THREADS, thread_name_prefix=f"{name}-call")
    host: WorkerHost | None = None

    def on_call(call: str, args: tuple[Any, ...]) -> Any:
        assert host is not None
        return host.call(call, args)

    link = Link(
        conn,
        name,
        on_message=lambda message: None,
        on_call=on_call,
        on_closed=gone.set,
        run_call=lambda job: _submit(pool, job),
    )
    host = WorkerHost(registry, link)
    live_relay.install(host)
    packet_relay.install(host)
    stream_relay.install(host)
    host.start()
    link.start()
    link.push("ready")
    gone.wait()
    host.shutdown()
    pool.shutdown(wait=True, cancel_futures=True)
