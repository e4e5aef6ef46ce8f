"""A worker-hosted channel's served streams (MPEG-TS, fragmented MP4), relayed to the runtime.

The worker muxes, as it does for a channel of the runtime's own process: each subscription of
the runtime is one real client of the channel's ``MuxedStream`` (``streaming.py``), read on one
event loop thread of the worker (started on first use; the muxed stream's readers need a
loop). What that client reads is already batched, one write interval of its container at a
time (``TS_WRITE_INTERVAL``, ``WRITE_INTERVAL``): each batch crosses the pipe as one message,

- ``("stream.chunk", channel_id, subscription, data)``, then at the end
- ``("stream.end", channel_id, subscription)`` (the channel stopped, the stream changed shape).

The runtime side (``RemoteStreams``, a ``RemoteChannel``'s ``served``) makes the calls
``stream.open`` (``channel_id, subscription, role, container``: the content type, or the
errors a local channel raises: ``NotFoundError``, ``NoFrameError``, ``StreamUnavailableError``)
and ``stream.close`` (the client left: the worker's client detaches, and the last one stops the
muxer and any encoder), and yields the batches to its HTTP client. A worker that dies ends
every stream it served.

Backpressure: the worker's client never falls behind (it only sends), so a slow HTTP client
shows on the runtime's side, where its batches wait in a queue bounded by
``MAX_CLIENT_BACKLOG``. A client that fills it has its stream ended (logged), rather than
skipped to the next keyframe: a batch is the bytes of several packets joined, with no packet
or keyframe boundaries left to cut at, and finding them again would mean parsing every batch
of every client in the runtime (the cost this relay exists to keep out of it). A player whose
stream ends reconnects, and its new stream starts with the container's header and a keyframe;
and a client 8 MiB behind (seconds of a 1080p stream) had stalled anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections import deque
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import NotFoundError, WorkerGoneError
from ..streaming import MAX_CLIENT_BACKLOG, MUXERS, StreamOutputs, StreamReader
from .link import CALL_TIMEOUT

if TYPE_CHECKING:  # both import this module (``install``, ``RemoteStreams``)
    from ..channel import Channel
    from ..encoding import EncodedStream
    from .host import WorkerHost
    from .packet_relay import RelayedStreams
    from .process import WorkerProcess

_LOGGER = logging.getLogger(__name__)

CHUNK = "stream.chunk"
END = "stream.end"
OPEN = "stream.open"
CLOSE = "stream.close"


# --------------------------------------------------------------------------- worker side


class _WorkerStreams:
    """The runtime's subscriptions to this worker's streams, each a reader of a channel's
    ``MuxedStream`` pumped to the link by a task on the relay's loop."""

    def __init__(self, host: WorkerHost) -> None:
        self._host = host
        #: Subscription -> its pump (touched in the loop's thread only).
        self._pumps: dict[int, asyncio.Task[None]] = {}

    def open(self, channel: Channel, subscription: int, role: str, container: str) -> str:
        """``stream.open``: attach a client to ``role``'s stream in ``container`` and pump it
        (the channel's own errors if it cannot); its content type."""
        if container not in MUXERS:
            raise NotFoundError(
                f"no {container!r} streams: {', '.join(MUXERS)}", "stream_not_found"
            )
        outputs = channel.served.served(role)
        loop = self._host.loop()
        future = asyncio.run_coroutine_threadsafe(
            self._attach(channel.id, subscription, outputs, container), loop
        )
        content_type = future.result(CALL_TIMEOUT)
        self._host.push_status(channel.id)  # a client more in its status
        return content_type

    async def _attach(
        self, channel_id: str, subscription: int, outputs: StreamOutputs, container: str
    ) -> str:
        reader = await outputs.open(container)
        task = asyncio.get_running_loop().create_task(
            self._pump(channel_id, subscription, reader), name=f"stream {subscription}"
        )
        self._pumps[subscription] = task
        return reader.content_type

    async def _pump(self, channel_id: str, subscription: int, reader: StreamReader) -> None:
        ended = False
        try:
            async for data in reader.chunks():
                if not self._host.push(CHUNK, channel_id, subscription, data):
                    return  # the link is gone: the worker is stopping
            ended = True
        finally:
            self._pumps.pop(subscription, None)
            reader.close()
            if ended:  # not closed by the runtime: it learns the stream ended
                self._host.push(END, channel_id, subscription)
                self._host.push_status(channel_id)

    def close(self, channel: Channel, subscription: int) -> None:
        """``stream.close``: the runtime's client left; detach ours (done when this returns)."""
        loop = self._host.loop()
        future = asyncio.run_coroutine_threadsafe(self._cancel(subscription), loop)
        future.result(CALL_TIMEOUT)
        self._host.push_status(channel.id)  # a client fewer

    async def _cancel(self, subscription: int) -> None:
        task = self._pumps.get(subscription)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def install(host: WorkerHost) -> None:
    """Answer the runtime's stream calls in this worker."""
    streams = _WorkerStreams(host)
    host.handle(OPEN, streams.open)
    host.handle(CLOSE, streams.close)


# --------------------------------------------------------------------------- runtime side


class RelayedStream:
    """One HTTP client's stream of a worker's channel (a ``ByteStream``): the worker's batches
    as they come, in a queue bounded by ``MAX_CLIENT_BACKLOG``, until the worker's stream
    ends, the worker dies, the queue overflows, or ``close``."""

    def __init__(self, relay: _Relay, channel_id: str, subscription: int, label: str) -> None:
        self._relay = relay
        self.channel_id = channel_id
        self.subscription = subscription
        self.label = label
        self.content_type = ""
        self._loop = asyncio.get_running_loop()
        self._chunks: deque[bytes] = deque()
        self._backlog = 0
        self._ready = asyncio.Event()
        self._ended = False
        self._closed = False

    # From the link's reader thread: handed over to the client's loop.

    def offer(self, data: bytes) -> None:
        self._soon(self._put, data)

    def end(self, why: str = "") -> None:
        """The worker's stream ended (``why`` empty), or the worker is gone."""
        self._soon(self._end, why, True)

    def _soon(self, *call: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody reads any more
            self._loop.call_soon_threadsafe(*call)

    # In the loop's thread.

    def _put(self, data: bytes) -> None:
        if self._ended:
            return
        if self._backlog + len(data) > MAX_CLIENT_BACKLOG:
            self._end(f"its client fell {self._backlog} bytes behind", False)
            return
        self._chunks.append(data)
        self._backlog += len(data)
        self._ready.set()

    def _end(self, why: str, worker_done: bool) -> None:
        """No more batches: what is queued is still read, then ``chunks`` ends. Unless the
        worker ended it, the worker's client is detached."""
        if self._ended:
            return
        if why:
            _LOGGER.warning("%s: stream ended: %s", self.label, why)
        self._ended = True
        self._ready.set()
        self._relay.forget(self.subscription)
        if not worker_done:
            self._loop.run_in_executor(None, self._relay.close_in_worker, self)

    async def chunks(self) -> AsyncGenerator[bytes]:
        """The stream's bytes as they come, until it ends (or ``close``)."""
        while not self._closed:
            if not self._chunks and not self._ended:
                await self._ready.wait()
                self._ready.clear()
            if self._chunks:
                data = b"".join(self._chunks)
                self._chunks.clear()
                self._backlog = 0
                yield data
            elif self._ended:
                return

    def close(self) -> None:
        """The client left: the worker detaches its client (off the event loop; idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._end("", False)
        self._chunks.clear()
        self._backlog = 0


class _Relay:
    """The streams one worker relays to the runtime, by subscription: one per worker,
    registered for its messages once (``for_worker``)."""

    def __init__(self, worker: WorkerProcess) -> None:
        self.worker = worker
        self._lock = threading.Lock()
        self._streams: dict[int, RelayedStream] = {}
        self._ids = itertools.count(1)
        self._gone = False
        worker.on(CHUNK, self._on_chunk)
        worker.on(END, self._on_end)
        worker.on_exit(self._on_exit)

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, stream: RelayedStream) -> None:
        with self._lock:
            if self._gone:
                raise WorkerGoneError(f"{self.worker.name}: the worker is gone")
            self._streams[stream.subscription] = stream

    def forget(self, subscription: int) -> None:
        with self._lock:
            self._streams.pop(subscription, None)

    def _get(self, subscription: int) -> RelayedStream | None:
        with self._lock:
            return self._streams.get(subscription)

    def _on_chunk(self, message: tuple[Any, ...]) -> None:
        _, _, subscription, data = message
        stream = self._get(subscription)
        if stream is not None:  # else closed meanwhile: its last batches are dropped
            stream.offer(data)

    def _on_end(self, message: tuple[Any, ...]) -> None:
        _, _, subscription = message
        stream = self._get(subscription)
        if stream is not None:
            stream.end()

    def _on_exit(self) -> None:
        with self._lock:
            self._gone = True
            streams, self._streams = list(self._streams.values()), {}
        for stream in streams:
            stream.end(f"worker {self.worker.name} exited")

    def close_in_worker(self, stream: RelayedStream) -> None:
        try:
            self.worker.call(CLOSE, stream.channel_id, stream.subscription)
        except WorkerGoneError:
            _LOGGER.debug("%s: closed with its worker gone", stream.label)
        except Exception:  # the client has left already: logged, nothing to tell it
            _LOGGER.exception("%s: the worker could not close it", stream.label)


def _relay(worker: WorkerProcess) -> _Relay:
    """The worker's relay, made (and registered for its messages) once."""
    return worker.part("streams", _Relay)


class _RemoteRole:
    """One stream role of a worker's channel, as ``ChannelStreams.served`` returns it."""

    def __init__(self, relay: _Relay, channel_id: str, role: str) -> None:
        self._relay = relay
        self._channel_id = channel_id
        self._role = role

    async def open(self, container: str = "ts") -> RelayedStream:
        """A reader from the next keyframe, as a local channel's ``StreamOutputs.open``: the
        channel's errors (``NotFoundError``, ``NoFrameError``, ``StreamUnavailableError``), or
        ``WorkerGoneError``. Close it when done."""
        relay = self._relay
        subscription = relay.next_id()
        label = f"{self._channel_id} {self._role} ({container}, {relay.worker.name})"
        stream = RelayedStream(relay, self._channel_id, subscription, label)
        relay.add(stream)  # before the call: the first batch may come before its reply
        loop = asyncio.get_running_loop()
        try:
            stream.content_type = await loop.run_in_executor(
                None,
                relay.worker.call,
                OPEN,
                self._channel_id,
                subscription,
                self._role,
                container,
            )
        except BaseException:
            relay.forget(subscription)
            raise
        return stream


class _Hosted(Protocol):
    """What ``RemoteStreams`` reads of its ``RemoteChannel``, when a stream is opened (so a
    channel moved to a replacement worker, ``RemoteChannel.rebind``, opens its streams
    there)."""

    id: str
    worker: WorkerProcess
    relayed_streams: RelayedStreams


class RemoteStreams:
    """A ``RemoteChannel``'s ``served``: what the runtime uses of ``ChannelStreams``."""

    def __init__(self, channel: _Hosted) -> None:
        self._channel = channel

    def served(self, role: str) -> _RemoteRole:
        """``role``'s stream (checked when opened, in the worker)."""
        return _RemoteRole(_relay(self._channel.worker), self._channel.id, role)

    def encoded(self, role: str) -> EncodedStream:
        """``role`` encoded from the channel's pictures, as the recorder takes it while they
        change (a privacy mask, OSD...): relayed with the packets (``packet_relay``)."""
        return self._channel.relayed_streams.encoded(role)


__all__ = ["RelayedStream", "RemoteStreams", "install"]
