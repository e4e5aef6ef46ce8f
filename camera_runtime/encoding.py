"""One encoded stream of a channel (main, sub or third), encoded only while someone consumes it and shared by all its consumers.

The channel's worker thread hands every frame to ``EncodedStream.put``; with nobody attached
that is one attribute read. The first ``attach`` builds the encoder (from a factory: the
channel's validated stream options and an ``EncoderContext``) and starts the stream's encoder
thread; the last ``detach`` stops it, flushes and closes the encoder. Between the two:

- The encoder thread always takes the newest frame: a frame it had no time for is replaced
  (``frames_skipped``), so an encoder that falls behind loses pictures, never queues them.
- Every consumer gets the same packets. A joining consumer starts at a keyframe: one is
  requested from the encoder (the next picture is coded as one), and the packets before it
  are not given to the consumer.
- A consumer reads through a bounded queue (``get`` in a thread, ``async for packet in
  consumer.packets()`` on an event loop) or receives each packet through a callback in the
  encoder thread (which must return at once: hand it to an event loop with
  ``call_soon_threadsafe``). A queue reader that stays behind loses packets: when its queue is
  full, the packet and every one after it are dropped up to the next keyframe (the stream
  can only resume there), ``packets_dropped`` counts them, and the keyframe it resumes with
  carries ``discontinuity=True``. The encoder never waits for a consumer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from .interfaces import Encoder
from .model import Frame, Packet, StreamInfo

_LOGGER = logging.getLogger(__name__)

#: Packets a consumer's queue holds by default: 2 s of a 25 fps stream.
DEFAULT_QUEUE_PACKETS = 50


class StreamConsumer:
    """One consumer of an ``EncodedStream``: its queue (or callback) and its counters.

    ``get`` returns the next packet, ``None`` once the consumer is detached or the stream
    ended (``error`` then says why, if it failed), and raises ``TimeoutError`` after
    ``timeout`` seconds without a packet.
    """

    def __init__(
        self,
        stream: EncodedStream,
        callback: Callable[[Packet], None] | None,
        max_packets: int,
        on_end: Callable[[str], None] | None = None,
    ) -> None:
        if max_packets < 1:
            raise ValueError("a consumer's queue holds at least one packet")
        self.stream = stream
        self.max_packets = max_packets
        #: Packets lost because the consumer was behind (not those before its first keyframe).
        self.packets_dropped = 0
        #: Packets handed to the consumer.
        self.packets_received = 0
        self.error = ""
        self._callback = callback
        self._on_end = on_end
        self._queue: collections.deque[Packet] = collections.deque()
        self._ready = threading.Condition()
        self._started = False  # received its first keyframe
        self._dropping = False  # lost a packet: dropping up to the next keyframe
        self._closed = False
        self._wake: Callable[[], None] | None = None  # an async reader's wake-up

    @property
    def closed(self) -> bool:
        return self._closed

    def get(self, timeout: float | None = None) -> Packet | None:
        with self._ready:
            if not self._ready.wait_for(lambda: self._queue or self._closed, timeout):
                raise TimeoutError("no packet in time")
            return self._queue.popleft() if self._queue else None

    async def packets(self) -> AsyncIterator[Packet]:
        """The packets, for a reader on an event loop (the HTTP stream): waits without a
        thread, ends once the consumer is detached or the stream ended. One reader at a time."""
        if self._callback is not None:
            raise RuntimeError("a callback consumer has no queue to read")
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody reads any more
                loop.call_soon_threadsafe(ready.set)

        with self._ready:
            self._wake = wake
        try:
            while True:
                ready.clear()  # before looking: a packet queued after the look sets it again
                with self._ready:
                    packet = self._queue.popleft() if self._queue else None
                    closed = self._closed
                if packet is not None:
                    yield packet
                elif closed:
                    return
                else:
                    await ready.wait()
        finally:
            with self._ready:
                self._wake = None

    def close(self) -> None:
        """Detach from the stream (the same as ``stream.detach(consumer)``)."""
        self.stream.detach(self)

    def __enter__(self) -> StreamConsumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _deliver(self, packet: Packet) -> None:
        """Called in the encoder thread, in stream order."""
        if not self._started:
            if not packet.keyframe:
                return
            self._started = True
        if self._callback is not None:
            if self._closed:
                return
            self.packets_received += 1
            self._callback(packet)
            return
        with self._ready:
            if self._closed:
                return
            if self._dropping and not packet.keyframe:
                self.packets_dropped += 1
                return
            if len(self._queue) >= self.max_packets:
                self._dropping = True
                self.packets_dropped += 1
                return
            if self._dropping:
                self._dropping = False
                packet = dataclasses.replace(packet, discontinuity=True)
            self._queue.append(packet)
            self.packets_received += 1
            self._ready.notify()
            if self._wake is not None:
                self._wake()

    def _end(self, error: str = "") -> None:
        with self._ready:
            self._closed = True
            self.error = self.error or error
            self._ready.notify_all()
            if self._wake is not None:
                self._wake()
        if self._on_end is not None:  # a callback consumer learns it too (the encoder failed)
            self._on_end(self.error)


class _Run:
    """One encoder thread's life, from the first attach to the last detach."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.frame: Frame | None = None
        self.keyframe_wanted = False
        self.stopping = False
        self.thread: threading.Thread | None = None


class EncodedStream:
    """One stream of a channel, encoded on demand and shared (see the module docstring).

    ``factory`` builds the encoder: it runs in ``attach``, so an encoder that refuses its
    options (``vol.Invalid``) makes ``attach`` raise rather than a thread fail later.
    """

    def __init__(self, factory: Callable[[], Encoder], name: str = "stream") -> None:
        self.name = name
        self._factory = factory
        self._lock = threading.Condition()  # the frame slot, the consumers, the run
        self._control = threading.Lock()  # serialises attach
        self._consumers: list[StreamConsumer] = []
        self._run: _Run | None = None
        self._info: StreamInfo | None = None
        self._threads: list[threading.Thread] = []  # encoder threads (a stopped one may flush)
        #: Frames handed to the encoder (one with a lower frame rate leaves some out: its
        #: packets say what it made), and frames replaced by a newer one before the encoder
        #: could take them (it fell behind).
        self.frames_encoded = 0
        self.frames_skipped = 0

    # ------------------------------------------------------------------ the channel's side

    def put(self, frame: Frame) -> None:
        """Offer a frame (from the channel's worker thread); nothing happens while nobody
        consumes the stream. Never blocks on the encoder."""
        run = self._run
        if run is None:
            return
        with self._lock:
            if run.stopping:
                return
            if run.frame is not None:
                self.frames_skipped += 1
            run.frame = frame
            self._lock.notify_all()

    # ------------------------------------------------------------------ consumers

    @property
    def running(self) -> bool:
        return self._run is not None

    @property
    def consumers(self) -> int:
        with self._lock:
            return len(self._consumers)

    def stream_info(self) -> StreamInfo | None:
        """What the running encoder makes (for a muxer); ``None`` before the first attach."""
        return self._info

    def attach(
        self,
        callback: Callable[[Packet], None] | None = None,
        *,
        max_packets: int = DEFAULT_QUEUE_PACKETS,
        on_end: Callable[[str], None] | None = None,
    ) -> StreamConsumer:
        """A new consumer; its first packet will be a keyframe. Starts the encoder if this is
        the first consumer. ``on_end`` is told (with the error, if any) when the stream ends
        the consumer: the encoder failed or the stream was closed."""
        consumer = StreamConsumer(self, callback, max_packets, on_end)
        with self._control:  # one attach at a time: only an attach starts a run
            with self._lock:
                if self._run is not None:
                    self._run.keyframe_wanted = True
                    self._consumers.append(consumer)
                    return consumer
            # Opened outside the frame lock: put() never waits for an encoder to open.
            encoder = self._factory()
            run = _Run(encoder)
            run.thread = threading.Thread(
                target=self._encode_loop, args=(run,), name=f"encoder-{self.name}", daemon=True
            )
            with self._lock:
                self._info = encoder.stream_info()
                self._run = run
                self._consumers.append(consumer)
                self._threads = [t for t in self._threads if t.is_alive()] + [run.thread]
            run.thread.start()
        return consumer

    def request_keyframe(self) -> None:
        """Have the next picture coded as a keyframe (a consumer that must start at a newer
        picture than the keyframe it was given: the recorder after a privacy mask went on)."""
        with self._lock:
            if self._run is not None:
                self._run.keyframe_wanted = True

    def detach(self, consumer: StreamConsumer) -> None:
        """Remove a consumer (idempotent); the last one stops the encoder. Returns at once:
        ``join`` waits for the encoder thread to finish."""
        with self._lock:
            if consumer in self._consumers:
                self._consumers.remove(consumer)
                if not self._consumers and self._run is not None:
                    self._run.stopping = True
                    self._run = None
                    self._lock.notify_all()
        consumer._end()

    def close(self) -> None:
        """Detach every consumer and stop the encoder (the channel stops)."""
        with self._lock:
            consumers = list(self._consumers)
        for consumer in consumers:
            self.detach(consumer)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until no encoder thread of this stream runs; ``False`` on timeout. (From a
        callback, in the encoder thread itself, it does not wait for that thread.)"""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is threading.current_thread():
                continue
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
        return True

    # ------------------------------------------------------------------ the encoder thread

    def _encode_loop(self, run: _Run) -> None:
        error = ""
        try:
            while True:
                with self._lock:
                    self._lock.wait_for(lambda: run.frame is not None or run.stopping)
                    if run.stopping:
                        break
                    frame, run.frame = run.frame, None
                    keyframe, run.keyframe_wanted = run.keyframe_wanted, False
                    consumers = list(self._consumers)
                assert frame is not None
                packets = run.encoder.encode(frame, force_keyframe=keyframe)
                self.frames_encoded += 1
                self._send(consumers, packets)
            # Stopped: the last consumer left, so what the encoder still holds goes to nobody.
            run.encoder.flush()
        except Exception as err:  # an encoder failure ends this stream, not the channel
            _LOGGER.exception("the encoder of %s failed", self.name)
            error = f"the encoder failed: {err}"
        finally:
            run.encoder.close()
            ended: list[StreamConsumer] = []
            with self._lock:
                if self._run is run:  # failed: end the consumers, the next attach starts anew
                    ended, self._consumers, self._run = self._consumers, [], None
            for consumer in ended:
                consumer._end(error)

    @staticmethod
    def _send(consumers: list[StreamConsumer], packets: list[Packet]) -> None:
        for packet in packets:
            for consumer in consumers:
                try:
                    consumer._deliver(packet)
                except Exception:  # one broken callback must not starve the others
                    _LOGGER.exception("a stream consumer's callback failed")

    def counters(self) -> dict[str, Any]:
        """Frames encoded and skipped, and per consumer packets received and dropped."""
        with self._lock:
            consumers = list(self._consumers)
        return {
            "frames_encoded": self.frames_encoded,
            "frames_skipped": self.frames_skipped,
            "consumers": [
                {"packets_received": c.packets_received, "packets_dropped": c.packets_dropped}
                for c in consumers
            ],
        }
