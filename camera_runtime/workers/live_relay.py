"""The live view of a worker's channel, in the runtime: snapshots and MJPEG frames.

Why this shape: the worker's ``LiveView`` already encodes each picture once for all its
viewers and only while someone watches, so the worker keeps encoding and the runtime only
fans the JPEGs out. The runtime holds one worker subscription per channel while at least one
of its viewers watches (``RemoteLive.stream``); the worker watches its ``LiveView`` like any
viewer and pushes each new JPEG once, ``("live.jpeg", channel_id, subscription, jpeg)``; the
runtime hands it to each of its viewers, which always get the newest (a slow one skips
pictures: nothing queues but the newest JPEG per channel). The last viewer to leave ends the
subscription, and the worker's ``LiveView`` stops encoding.

A stream ends as a local one does when the channel stops in the worker (``("live.ended",
channel_id, subscription, reason, failed)``), with ``StreamUnavailableError`` when the
worker's relay failed, and with ``WorkerGoneError`` when the worker dies. A snapshot is one call
(``live.snapshot``), answered by the worker's ``LiveView.snapshot``: the same sizes, the same
errors (``NoFrameError`` before the first picture, ``InvalidValueError`` for a size it
refuses).

Worker side: ``install(host)`` registers the calls; one thread runs an event loop for the
worker's live views (their streams and snapshots are coroutines), and sends the JPEGs from it:
a busy pipe holds that loop, and each ``LiveView`` stream then skips to its newest picture.

Cost (measured 2026-12-05, one 1280x720 channel at 25 fps, JPEGs of ~98 kB, a loaded
2-core machine): the worker spends ~3.1 ms of CPU per watched picture, of which the encode
any live view pays is ~2.6 ms, so the relay adds ~0.5 ms (watching starts ~9 context
switches per picture there, the encoder's own wakes included); the runtime spends ~0.25-0.3
ms and ~3 context switches per picture, one or two viewers alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import CameraRuntimeError, StreamUnavailableError, WorkerGoneError
from ..live import JPEG_QUALITY
from .link import ErrorInfo

if TYPE_CHECKING:  # host.py installs this module: no import back at run time
    from ..channel import Channel
    from .host import WorkerHost
    from .process import WorkerProcess

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")

JPEG = "live.jpeg"
ENDED = "live.ended"
SNAPSHOT = "live.snapshot"
SUBSCRIBE = "live.subscribe"
UNSUBSCRIBE = "live.unsubscribe"


# --------------------------------------------------------------------------- worker side


class _WorkerLive:
    """The worker's live relay: one watching task per subscribed channel, on the worker's
    relay loop (``WorkerHost.loop``)."""

    def __init__(self, host: WorkerHost) -> None:
        self._host = host
        #: The watching task of each subscribed channel, with its subscription id (touched
        #: on the loop's thread only).
        self._watching: dict[str, tuple[int, asyncio.Task[None]]] = {}

    def snapshot(
        self, channel: Channel, width: int | None, height: int | None, quality: int
    ) -> bytes:
        return self._host.run(channel.live.snapshot(width, height, quality))

    def subscribe(self, channel: Channel, subscription: int) -> None:
        self._host.run(self._subscribe(channel, subscription))

    def unsubscribe(self, channel: Channel, subscription: int) -> None:
        self._host.run(self._unsubscribe(channel.id, subscription))

    async def _subscribe(self, channel: Channel, subscription: int) -> None:
        """Watch ``channel``'s live view for the runtime's ``subscription`` (one per channel:
        a newer subscription replaces an older one)."""
        replaced = self._watching.get(channel.id)
        await self._unsubscribe(channel.id, None)
        if replaced is not None:  # its viewers end: they belong to an older RemoteLive
            self._host.push(ENDED, channel.id, replaced[0], "a newer subscription", False)
        task = asyncio.create_task(self._watch(channel, subscription))
        self._watching[channel.id] = (subscription, task)

    async def _unsubscribe(self, channel_id: str, subscription: int | None) -> None:
        """Stop watching ``channel_id`` (only for ``subscription`` when given: an older
        subscription's late goodbye leaves a newer one alone)."""
        found = self._watching.get(channel_id)
        if found is None or (subscription is not None and found[0] != subscription):
            return
        del self._watching[channel_id]
        task = found[1]
        task.cancel()
        await asyncio.wait({task})

    async def _watch(self, channel: Channel, subscription: int) -> None:
        """Push each new JPEG of ``channel`` until unsubscribed, or until its live view ends
        (the channel stopped: then the runtime's viewers end too). The status is pushed when
        the worker's viewer comes and goes, so the runtime reads its count at once."""
        reason, failed = "the channel stopped", False
        first = True
        try:
            async with contextlib.aclosing(channel.live.stream()) as frames:
                async for jpeg in frames:
                    if not self._host.push(JPEG, channel.id, subscription, jpeg):
                        reason = ""
                        return  # the runtime is gone
                    if first:
                        first = False
                        self._host.push_status(channel.id)
        except asyncio.CancelledError:
            reason = ""
            raise
        except Exception as err:
            _LOGGER.exception("%s: live view relay failed", channel.id)
            reason, failed = f"live view relay failed: {err}", True
        finally:
            found = self._watching.get(channel.id)
            if found is not None and found[0] == subscription:
                del self._watching[channel.id]
            if reason:
                self._host.push(ENDED, channel.id, subscription, reason, failed)
            self._host.push_status(channel.id)


def install(host: WorkerHost) -> None:
    """Register the live relay's calls with a worker's ``host``."""
    relay = _WorkerLive(host)
    host.handle(SNAPSHOT, relay.snapshot)
    host.handle(SUBSCRIBE, relay.subscribe)
    host.handle(UNSUBSCRIBE, relay.unsubscribe)


# --------------------------------------------------------------------------- runtime side


#: A viewer's stream ended because the channel stopped (not an error: as a local live view).
_STOPPED = "stopped"


@dataclass(eq=False)
class _Viewer:
    """One runtime-side viewer: the loop it reads on, woken for each new JPEG."""

    loop: asyncio.AbstractEventLoop
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    #: Why its stream ends: ``_STOPPED``, or the error it ends with.
    end: ErrorInfo | str | None = None


class _Dispatch:
    """A worker's live messages, handed to the ``RemoteLive`` that subscribed (``worker.on``
    keys by kind only, and a worker hosts many channels): registered once per worker.
    Subscription ids are the worker's, so what an older ``RemoteLive`` of a channel made
    again subscribed to still reaches that one, not its successor."""

    def __init__(self, worker: WorkerProcess) -> None:
        self._lives: weakref.WeakSet[RemoteLive] = weakref.WeakSet()
        self._subscriptions: dict[int, RemoteLive] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        worker.on(JPEG, self._jpeg)
        worker.on(ENDED, self._ended)
        worker.on_exit(self._exit)

    def add(self, live: RemoteLive) -> None:
        with self._lock:
            self._lives.add(live)

    def subscription(self, live: RemoteLive) -> int:
        """A new subscription id for ``live``."""
        with self._lock:
            subscription = next(self._ids)
            self._subscriptions[subscription] = live
            return subscription

    def drop(self, subscription: int) -> None:
        with self._lock:
            self._subscriptions.pop(subscription, None)

    def _live(self, subscription: int) -> RemoteLive | None:
        with self._lock:
            return self._subscriptions.get(subscription)

    def _jpeg(self, message: tuple[Any, ...]) -> None:
        _, _channel_id, subscription, jpeg = message
        live = self._live(subscription)
        if live is not None:
            live.deliver(subscription, jpeg)

    def _ended(self, message: tuple[Any, ...]) -> None:
        _, _channel_id, subscription, reason, failed = message
        live = self._live(subscription)
        if live is not None:
            live.ended(subscription, reason, failed)

    def _exit(self) -> None:
        with self._lock:
            lives = list(self._lives)
            self._subscriptions.clear()
        for live in lives:
            live.gone()


def _dispatch(worker: WorkerProcess) -> _Dispatch:
    return worker.part("live", _Dispatch)


class RemoteLive:
    """``Channel.live`` for a channel in a worker: ``snapshot``, ``stream`` and ``viewers``
    as ``LiveView`` has them."""

    def __init__(self, channel_id: str, worker: WorkerProcess) -> None:
        self.channel_id = channel_id
        self._worker = worker
        self._lock = threading.Lock()
        self._viewers: set[_Viewer] = set()
        self._jpeg: bytes | None = None
        self._seq = 0
        #: Whether a worker subscription is wanted (someone watches and it has not ended).
        self._want = False
        #: The worker subscription under way (its id), or ``None``.
        self._subscription: int | None = None
        #: One subscribe or unsubscribe at a time, in the order the viewers asked.
        self._calls = threading.Lock()
        #: JPEGs received from the worker (all subscriptions).
        self.frames_received = 0
        self._dispatch = _dispatch(worker)
        self._dispatch.add(self)

    @property
    def viewers(self) -> int:
        """The runtime's viewers of this channel (the worker counts one for all of them)."""
        with self._lock:
            return len(self._viewers)

    async def snapshot(
        self, width: int | None = None, height: int | None = None, quality: int = JPEG_QUALITY
    ) -> bytes:
        """JPEG of the newest picture, as ``LiveView.snapshot`` makes it in the worker."""
        loop = asyncio.get_running_loop()
        jpeg: bytes = await loop.run_in_executor(
            None, self._worker.call, SNAPSHOT, self.channel_id, width, height, quality
        )
        return jpeg

    async def stream(self) -> AsyncGenerator[bytes]:
        """Yield the newest JPEG each time a new one arrives, for as long as the caller reads;
        ends when the channel stops, raises ``WorkerGoneError`` when the worker dies (or the
        error the worker gave when subscribing)."""
        loop = asyncio.get_running_loop()
        viewer = _Viewer(loop)
        with self._lock:
            self._viewers.add(viewer)
            kick = not self._want
            self._want = True
        if kick:
            self._kick(loop)
        last = 0
        try:
            while True:
                await viewer.ready.wait()
                viewer.ready.clear()
                with self._lock:
                    end = viewer.end
                    jpeg, seq = self._jpeg, self._seq
                if isinstance(end, ErrorInfo):
                    raise end.rebuild()
                if end is not None:
                    return
                if jpeg is not None and seq != last:
                    last = seq
                    yield jpeg
        finally:
            with self._lock:
                self._viewers.discard(viewer)
                kick = not self._viewers and self._want
                if kick:
                    self._want = False
            if kick:
                self._kick(loop)

    # ----------------------------------------------------------------- the subscription

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bring the worker subscription in line with the viewers, off the event loop."""
        try:
            loop.run_in_executor(None, self._reconcile)
        except RuntimeError:  # the loop is closing: its executor takes nothing more
            threading.Thread(target=self._reconcile, name="live-relay", daemon=True).start()

    def _reconcile(self) -> None:
        with self._calls:
            while True:
                with self._lock:
                    current, want = self._subscription, self._want
                    if want and current is None:
                        call, subscription = SUBSCRIBE, self._dispatch.subscription(self)
                        self._subscription, self._jpeg = subscription, None
                    elif not want and current is not None:
                        call, subscription = UNSUBSCRIBE, current
                        self._subscription = None
                        self._dispatch.drop(current)
                    else:
                        return
                try:
                    self._worker.call(call, self.channel_id, subscription)
                except CameraRuntimeError as err:
                    if call == UNSUBSCRIBE:  # nothing to end: the worker is gone or it is
                        _LOGGER.debug("%s: live unsubscribe failed: %s", self.channel_id, err)
                        continue
                    _LOGGER.warning("%s: live view unavailable: %s", self.channel_id, err)
                    self._end(subscription, ErrorInfo.of(err))

    def deliver(self, subscription: int, jpeg: bytes) -> None:
        """A JPEG from the worker (on the link's thread): wake every viewer, one call per
        event loop."""
        with self._lock:
            if subscription != self._subscription:
                return  # an ended subscription's last picture
            self._jpeg = jpeg
            self._seq += 1
            self.frames_received += 1
            loops = {viewer.loop for viewer in self._viewers}
        for loop in loops:
            self._wake(loop)

    def ended(self, subscription: int, reason: str, failed: bool) -> None:
        """The worker's live view ended: so do the viewers' streams; as a local one's when
        the channel stopped, with ``StreamUnavailableError`` when the relay ``failed``."""
        if failed:
            _LOGGER.warning("%s: live view ended: %s", self.channel_id, reason)
            error = StreamUnavailableError(f"channel {self.channel_id!r}: {reason}")
            self._end(subscription, ErrorInfo.of(error))
        else:
            _LOGGER.info("%s: live view ended: %s", self.channel_id, reason)
            self._end(subscription, _STOPPED)

    def gone(self) -> None:
        """The worker died: every stream ends with ``WorkerGoneError``."""
        with self._lock:
            subscription = self._subscription
            watched = bool(self._viewers)
        if watched:
            _LOGGER.warning("%s: live view ended: the worker is gone", self.channel_id)
        error = ErrorInfo.of(WorkerGoneError(f"{self._worker.name}: the worker is gone"))
        self._end(subscription, error, always=True)

    def _end(self, subscription: int | None, end: ErrorInfo | str, always: bool = False) -> None:
        """End the viewers of ``subscription`` (the current one) with ``end``."""
        with self._lock:
            if not always and subscription != self._subscription:
                return
            if self._subscription is not None:
                self._dispatch.drop(self._subscription)
            self._subscription = None
            self._want = False
            viewers = [viewer for viewer in self._viewers if viewer.end is None]
            for viewer in viewers:
                viewer.end = end
            loops = {viewer.loop for viewer in viewers}
        for loop in loops:
            self._wake(loop)

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: its viewers went with it
            loop.call_soon_threadsafe(self._set_ready, loop)

    def _set_ready(self, loop: asyncio.AbstractEventLoop) -> None:
        """On ``loop``: wake its viewers."""
        with self._lock:
            viewers = [viewer for viewer in self._viewers if viewer.loop is loop]
        for viewer in viewers:
            viewer.ready.set()
