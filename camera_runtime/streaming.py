"""A channel's stream served live as MPEG-TS or fragmented MP4: the packets remuxed once for
every client of a container.

MPEG-TS because every client opens it (ffprobe, ffmpeg, PyAV, VLC, Home Assistant's
``stream``), it needs no index, and it can be joined at any keyframe; fragmented MP4 because
that is what a browser's Media Source Extensions play (the web page's live view). One muxer
per stream and container runs while at least one client watches, in the feed's thread
(remuxing copies bytes; it never decodes), and writes one chunk per packet. A new client
starts with the container's header (MPEG-TS tables, the MP4 initialisation segment) and the
next keyframe's chunk; a client that falls behind loses chunks up to the next keyframe, never
the server's memory; a reconnect that keeps the codec and size continues the same timeline,
one that changes them ends the clients' streams (they reconnect and get the new headers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import av

from .encoding import EncodedStream
from .exceptions import CameraRuntimeError, NoFrameError, StreamUnavailableError
from .feed import PacketConsumer
from .fmp4 import Fmp4Error, Fragmenter
from .model import Packet, StreamInfo

_LOGGER = logging.getLogger(__name__)

#: MPEG-TS counts time in 90 kHz ticks.
TS_TIME_BASE = Fraction(1, 90_000)
TS_PACKET = 188
#: PIDs of FFmpeg's tables (PAT, SDT, PMT): a joining client gets them first.
_TABLE_PIDS = frozenset({0x0000, 0x0011, 0x1000})
#: Bytes a client may have waiting before it loses chunks up to the next keyframe.
MAX_CLIENT_BACKLOG = 8 * 1024 * 1024
#: How often a stream's clients are handed what was muxed for them (s): what a client's stream
#: lags at most for it, against a write per packet. Fragmented MP4 feeds a browser's live view,
#: where the lag shows; MPEG-TS feeds players that buffer a second or more anyway (ffmpeg, VLC,
#: Home Assistant's ``stream``), so it is written half as often: with 20 clients of a 1080p25
#: stream that saved about 0.3 % of a core (the event loop's wake-ups and writes per client).
WRITE_INTERVAL = 0.1
TS_WRITE_INTERVAL = 0.2
#: Codecs the served streams carry as video (MPEG-TS and fragmented MP4 alike).
SERVED_CODECS = frozenset({"h264", "hevc"})


class PacketSource(Protocol):
    """Where a ``MuxedStream`` takes its packets: a feed's ``PacketFanout`` (passthrough) or
    an ``EncodedPackets`` (the channel's pictures encoded)."""

    @property
    def info(self) -> StreamInfo | None: ...

    def subscribe(self, consumer: PacketConsumer) -> Callable[[], None]: ...


class EncodedPackets:
    """An ``EncodedStream`` as a packet source: subscribing attaches to it (the encoder starts
    with the first subscriber, and a subscriber's first packet is a keyframe); unsubscribing
    detaches (the last one stops the encoder). ``failed`` is told when the encoder fails."""

    def __init__(self, stream: EncodedStream) -> None:
        self.stream = stream
        self.failed: Callable[[str], None] = lambda error: None

    @property
    def info(self) -> StreamInfo | None:
        return self.stream.stream_info()

    def subscribe(self, consumer: PacketConsumer) -> Callable[[], None]:
        def on_end(error: str) -> None:
            if error:  # not a detach: the encoder failed
                self.failed(error)

        attached = self.stream.attach(consumer, on_end=on_end)
        return lambda: self.stream.detach(attached)


class _Sink:
    """What the muxer writes to: collects one packet's bytes at a time."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _tables(chunk: bytes) -> bytes:
    """The leading table packets (PAT, SDT, PMT) of the muxer's first output."""
    out = bytearray()
    for at in range(0, len(chunk) - TS_PACKET + 1, TS_PACKET):
        pid = ((chunk[at + 1] & 0x1F) << 8) | chunk[at + 2]
        if pid not in _TABLE_PIDS:
            break
        out += chunk[at : at + TS_PACKET]
    return bytes(out)


class _Timeline:
    """A stream's packet times in 90 kHz ticks on one continuous timeline: a reconnect
    (``discontinuity``) continues one frame after the last packet, and decode times never go
    back (a muxer refuses that)."""

    def __init__(self, fps: float) -> None:
        self.step = round(90_000 / fps) if fps > 0 else 3600
        self._offset = 0  # added to a packet's 90 kHz times: the timeline goes on
        self._last_dts: int | None = None

    def _ticks(self, value: int | None, time_base: Fraction) -> int | None:
        if value is None:
            return None
        # Integers, rounded half up: Fraction arithmetic per packet costs microseconds.
        scaled = value * time_base.numerator * 90_000
        return (2 * scaled + time_base.denominator) // (2 * time_base.denominator) + self._offset

    def times(self, packet: Packet) -> tuple[int | None, int | None]:
        """``(pts, dts)`` of ``packet`` in ticks."""
        if packet.discontinuity and self._last_dts is not None:
            first = packet.dts if packet.dts is not None else packet.pts
            start = (self._ticks(first or 0, packet.time_base) or 0) - self._offset
            self._offset = self._last_dts + self.step - start
        pts = self._ticks(packet.pts, packet.time_base)
        dts = self._ticks(packet.dts, packet.time_base)
        if dts is not None and self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1
            if pts is not None and pts < dts:
                pts = dts
        if dts is not None:
            self._last_dts = dts
        return pts, dts


#: The encoder PyAV opens beside a muxer's stream and never feeds (``TsMuxer``): its smallest.
_IDLE_ENCODER_SIZE = (64, 64)
_IDLE_ENCODER_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency"}


class TsMuxer:
    """One MPEG-TS muxer over a stream's packets (FFmpeg's, through PyAV). ``header`` is the
    stream's tables (PAT/PMT), which a joining client needs first."""

    content_type = "video/mp2t"
    write_interval = TS_WRITE_INTERVAL

    def __init__(self, info: StreamInfo) -> None:
        self.info = info
        self._sink = _Sink()
        self._container = av.open(self._sink, "w", format="mpegts", options={"flush_packets": "1"})
        rate = Fraction(info.fps).limit_denominator(1001) if info.fps > 0 else None
        stream: Any = self._container.add_stream(info.codec, rate=rate)
        # PyAV opens an encoder for the stream at the first packet (libx264 for H.264) though
        # none is ever fed: made as small as it goes, it costs 1 MB and no thread instead of
        # 4 MB and 4 idle threads, per live client's muxer and per recording segment. The
        # picture's size is in the stream's own parameter sets, which players read.
        stream.width, stream.height = _IDLE_ENCODER_SIZE
        stream.codec_context.thread_count = 1
        stream.codec_context.options = dict(_IDLE_ENCODER_OPTIONS)
        stream.time_base = TS_TIME_BASE
        if info.extradata:
            stream.codec_context.extradata = info.extradata
        self._stream = stream
        self._timeline = _Timeline(info.fps)
        self.header = b""

    def mux(self, packet: Packet) -> bytes:
        out: Any = av.Packet(packet.data)  # typed differently by av 13 and av 14+
        out.pts, out.dts = self._timeline.times(packet)
        out.time_base = TS_TIME_BASE
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._container.mux(out)
        chunk = self._sink.take()
        if not self.header:
            self.header = _tables(chunk)
        return chunk

    def close(self) -> None:
        try:
            self._container.close()
        except (av.FFmpegError, OSError, ValueError):  # nothing is waiting for its tail
            _LOGGER.debug("MPEG-TS muxer closed with an error", exc_info=True)

    def finish(self) -> bytes:
        """Close the muxer and return what it wrote last (its flushed tail): what a file
        needs that a live client does not wait for (the recorder's segments)."""
        self.close()
        return self._sink.take()


class Fmp4Muxer:
    """Fragmented MP4 over a stream's packets (``fmp4``: one fragment per packet). ``header``
    is the initialisation segment; ``codecs`` what a browser's Media Source needs to know."""

    content_type = "video/mp4"
    write_interval = WRITE_INTERVAL

    def __init__(self, info: StreamInfo) -> None:
        self.info = info
        self._fragmenter = Fragmenter(info.codec, info.width, info.height, info.extradata)
        self._timeline = _Timeline(info.fps)

    @property
    def header(self) -> bytes:
        return self._fragmenter.init

    @property
    def codecs(self) -> str:
        return self._fragmenter.codecs

    def mux(self, packet: Packet) -> bytes:
        pts, dts = self._timeline.times(packet)
        if dts is None:
            dts = pts if pts is not None else 0
        offset = 0 if pts is None else pts - dts
        return self._fragmenter.fragment(
            packet.data, dts, self._timeline.step, offset, packet.keyframe
        )

    def close(self) -> None:
        """Nothing to release: the fragments are plain bytes."""


Muxer = TsMuxer | Fmp4Muxer
#: The containers a stream is served in, by the name its URL ends with.
MUXERS: dict[str, type[TsMuxer] | type[Fmp4Muxer]] = {"ts": TsMuxer, "mp4": Fmp4Muxer}


class _Joined:
    """The last bytes a client of one stream was handed, by what they hold: the clients that
    keep up wait for the same chunks at each tick, so one of them joins them and the others
    share that ``bytes`` (with 20 clients of a 1080p25 stream, 20 joins of about 100 KB every
    ``TS_WRITE_INTERVAL`` were a tenth of the stream's cost)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # clients on several event loops share it
        self._key: tuple[int, int, bool] | None = None
        self._data = b""

    def join(self, key: tuple[int, int, bool], chunks: deque[bytes]) -> bytes:
        with self._lock:
            if key == self._key:
                return self._data
        data = b"".join(chunks)
        with self._lock:
            self._key, self._data = key, data
        return data

    def clear(self) -> None:
        """Let go of the last join (up to a slow client's backlog): nobody watches."""
        with self._lock:
            self._key, self._data = None, b""


@dataclass(eq=False)
class StreamClient:
    """One client's chunks, handed from the feed's thread to its event loop."""

    loop: asyncio.AbstractEventLoop
    joined: _Joined = field(default_factory=_Joined)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    chunks: deque[bytes] = field(default_factory=deque)
    #: The stream's numbers (``MuxedStream.chunks_muxed``) of the first and last chunk
    #: waiting, and whether the first carries the header: together, what ``chunks`` hold
    #: (they are consecutive chunks of the stream), which is how clients share a join.
    first: int = 0
    last: int = 0
    headed: bool = False
    backlog: int = 0
    started: bool = False
    ended: bool = False
    dropped: int = 0

    lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, chunk: bytes, keyframe: bool, header: bytes, number: int) -> None:
        """From the feed's thread: take the chunk (its loop's ticker hands it on), or drop up
        to the next keyframe. ``number`` counts the stream's chunks."""
        with self.lock:
            headed = False
            if not self.started:
                if not keyframe:
                    return
                self.started = True
                if self.dropped:  # far behind: what still waits is stale, start afresh here
                    self.chunks.clear()
                    self.backlog = 0
                chunk = header + chunk
                headed = True
            elif self.backlog + len(chunk) > MAX_CLIENT_BACKLOG:
                self.started = False  # too far behind: wait for the next keyframe
                self.dropped += 1
                return
            if not self.chunks:
                self.first, self.headed = number, headed
            self.last = number
            self.chunks.append(chunk)
            self.backlog += len(chunk)

    def end(self) -> None:
        self.ended = True
        _wake(self.loop, [self.ready])

    def take(self) -> bytes:
        """What waits, as one ``bytes``: shared with the stream's other clients that waited
        for the same chunks."""
        with self.lock:
            chunks = self.chunks
            if len(chunks) <= 1:
                data = chunks[0] if chunks else b""
            else:
                data = self.joined.join((self.first, self.last, self.headed), chunks)
            chunks.clear()
            self.backlog = 0
        return data


def _set_all(events: list[asyncio.Event]) -> None:
    for event in events:
        event.set()


def _wake(loop: asyncio.AbstractEventLoop, events: list[asyncio.Event]) -> None:
    """Set ``events`` on their loop, from any thread (nothing to do once it closed)."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: its readers are gone
        loop.call_soon_threadsafe(_set_all, events)


def _in_loop(loop: asyncio.AbstractEventLoop, call: Callable[[], None]) -> None:
    """Run ``call`` in ``loop``'s thread: now when this is that thread, else soon (nothing to
    do once the loop closed)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        call()
        return
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(call)


class _Ticker:
    """Every write interval of its container (``TS_WRITE_INTERVAL``, ``WRITE_INTERVAL``), wakes
    the readers of one stream on one event loop that have chunks waiting: one timer per loop
    and stream, where a wake-up per packet and a sleep per reader and write cost a system call
    and two task steps each (with 20 clients of a 25 fps stream, a measurable share of a core)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stream: MuxedStream) -> None:
        self.loop = loop
        self._stream = stream
        self._timer: asyncio.TimerHandle | None = None  # touched in the loop's thread only
        self._stopped = False

    def start(self) -> None:
        if self._timer is None and not self._stopped:
            self._timer = self.loop.call_later(self._stream.write_interval, self._tick)

    def stop(self) -> None:
        """The last reader on this loop left: no timer is left behind."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._timer = None
        clients = self._stream.clients_on(self)
        if not clients:  # the last reader on this loop left: no timer until the next one
            self._stopped = True
            return
        for client in clients:
            if client.chunks:
                client.ready.set()
        self._timer = self.loop.call_later(self._stream.write_interval, self._tick)


class MuxedStream:
    """A stream role's packets in one container (``MUXERS``: ``ts`` or ``mp4``), muxed once for
    all its clients, only while watched.

    ``allowed`` is asked for every packet: when it says no (a passthrough stream while an image
    stage changes the pictures), the clients' streams end.
    """

    def __init__(
        self,
        source: PacketSource,
        label: str,
        allowed: Callable[[], bool] = lambda: True,
        container: str = "ts",
    ) -> None:
        self._source = source
        self._label = label
        self._muxer_type = MUXERS[container]
        self.content_type = self._muxer_type.content_type
        self.write_interval = self._muxer_type.write_interval
        self._allowed = allowed
        self._lock = threading.Lock()
        #: Held while the muxer is used or closed: a close from the event loop (the last
        #: client left, the channel stopped) must never free it under a packet being muxed
        #: in the feed's thread. Reentrant: muxing may end the stream.
        self._mux_lock = threading.RLock()
        self._clients: tuple[StreamClient, ...] = ()
        self._tickers: dict[asyncio.AbstractEventLoop, _Ticker] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._muxer: Muxer | None = None
        self._joined = _Joined()
        self.chunks_muxed = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def running(self) -> bool:
        """Whether a muxer is taking packets (only while someone watches)."""
        return self._unsubscribe is not None

    def attach(self, loop: asyncio.AbstractEventLoop) -> StreamClient:
        """A new client (blocking: the first one may start an encoder). Raises
        ``StreamUnavailableError`` when the packet source cannot start."""
        client = StreamClient(loop, self._joined)
        with self._lock:
            self._clients = (*self._clients, client)
            if self._unsubscribe is None:
                try:
                    self._unsubscribe = self._source.subscribe(self._on_packet)
                except (CameraRuntimeError, ValueError) as err:  # vol.Invalid is a ValueError
                    self._clients = tuple(c for c in self._clients if c is not client)
                    if isinstance(err, NoFrameError):
                        raise
                    raise StreamUnavailableError(f"{self._label}: cannot start: {err}") from err
            ticker = self._tickers.setdefault(loop, _Ticker(loop, self))
        loop.call_soon_threadsafe(ticker.start)
        return client

    def clients_on(self, ticker: _Ticker) -> tuple[StreamClient, ...]:
        """The clients ``ticker`` wakes; none: it is forgotten (a new client makes another)."""
        with self._lock:
            clients = tuple(c for c in self._clients if c.loop is ticker.loop)
            if not clients and self._tickers.get(ticker.loop) is ticker:
                del self._tickers[ticker.loop]
            return clients

    def detach(self, client: StreamClient) -> None:
        unsubscribe: Callable[[], None] | None = None
        muxer: Muxer | None = None
        with self._lock:
            self._clients = tuple(c for c in self._clients if c is not client)
            ticker = None
            if not any(c.loop is client.loop for c in self._clients):
                ticker = self._tickers.pop(client.loop, None)
            if not self._clients and self._unsubscribe is not None:
                unsubscribe, self._unsubscribe = self._unsubscribe, None
                muxer, self._muxer = self._muxer, None
        if ticker is not None:
            _in_loop(ticker.loop, ticker.stop)
        if unsubscribe is not None:
            unsubscribe()  # outside the lock: an encoder's detach calls back
            self._close(muxer)
            self._joined.clear()

    def _close(self, muxer: Muxer | None) -> None:
        if muxer is not None:
            with self._mux_lock:
                muxer.close()

    def end(self) -> None:
        """The channel stops or its stream changed shape: every client's stream ends."""
        with self._lock:
            clients = self._clients
            muxer, self._muxer = self._muxer, None
        self._close(muxer)
        for client in clients:
            client.end()

    def _on_packet(self, packet: Packet) -> None:
        """In the feed's (or the encoder's) thread."""
        with self._mux_lock:
            if self._unsubscribe is not None:  # not after the last client left
                self._mux(packet)

    def _mux(self, packet: Packet) -> None:
        info = self._source.info
        if info is None:
            return
        if not self._allowed():  # e.g. a privacy mask went on: these packets show too much
            self.end()
            return
        muxer = self._muxer
        # ``is not`` first: the same stream keeps its ``StreamInfo`` object (no field compare)
        if muxer is not None and muxer.info is not info and muxer.info != info:  # reopened
            self.end()
            return
        if muxer is None and not packet.keyframe:
            return  # a new muxer starts at a keyframe
        try:
            if muxer is None:
                muxer = self._muxer_type(info)
                with self._lock:
                    if self._unsubscribe is None:  # the last client left meanwhile
                        muxer.close()
                        return
                    self._muxer = muxer
            chunk = muxer.mux(packet)
        except (av.FFmpegError, Fmp4Error, ValueError) as err:
            _LOGGER.warning("%s: cannot mux a packet (%s): streams restart", self._label, err)
            self.end()
            return
        self.chunks_muxed += 1
        number = self.chunks_muxed
        for client in self._clients:  # their loops' tickers hand the chunks on
            client.offer(chunk, packet.keyframe, muxer.header, number)

    async def open(self) -> StreamReader:
        """A reader of the stream's bytes from the next keyframe; the first reader starts the
        muxer (and an encoder), off the event loop. Close it when done."""
        loop = asyncio.get_running_loop()
        client = await loop.run_in_executor(None, self.attach, loop)
        return StreamReader(self, client)


class StreamOutputs:
    """One packet source served in each container (``MUXERS``), a container's muxer made when
    its first client comes: what a stream role's clients open."""

    def __init__(
        self, source: PacketSource, label: str, allowed: Callable[[], bool] = lambda: True
    ) -> None:
        self._source = source
        self._label = label
        self._allowed = allowed
        self._lock = threading.Lock()
        self._muxed: dict[str, MuxedStream] = {}
        if isinstance(source, EncodedPackets):
            source.failed = self._failed

    def container(self, name: str) -> MuxedStream:
        """The stream in container ``name`` (``KeyError`` for one not in ``MUXERS``)."""
        with self._lock:
            muxed = self._muxed.get(name)
            if muxed is None:
                muxed = MuxedStream(self._source, self._label, self._allowed, name)
                self._muxed[name] = muxed
            return muxed

    @property
    def clients(self) -> int:
        return sum(muxed.clients for muxed in list(self._muxed.values()))

    @property
    def running(self) -> bool:
        return any(muxed.running for muxed in list(self._muxed.values()))

    async def open(self, container: str = "ts") -> StreamReader:
        return await self.container(container).open()

    def end(self) -> None:
        for muxed in list(self._muxed.values()):
            muxed.end()

    def _failed(self, error: str) -> None:
        _LOGGER.warning("%s: %s: its clients' streams end", self._label, error)
        self.end()


class StreamReader:
    """One client's view of a ``MuxedStream``: its chunks, and ``close`` (idempotent)."""

    def __init__(self, muxed: MuxedStream, client: StreamClient) -> None:
        self._muxed = muxed
        self.content_type = muxed.content_type
        self._client = client
        self._closed = False

    async def chunks(self) -> AsyncGenerator[bytes]:
        """The stream's bytes as they come, until the stream ends (or ``close``)."""
        client = self._client
        while not self._closed:
            await client.ready.wait()
            client.ready.clear()
            ended = client.ended  # read first: what was offered before the end is taken now
            data = client.take()
            if data:
                yield data
            if ended:
                return

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._muxed.detach(self._client)
            self._client.end()


__all__ = [
    "MAX_CLIENT_BACKLOG",
    "SERVED_CODECS",
    "EncodedPackets",
    "MuxedStream",
    "PacketSource",
    "StreamClient",
    "StreamOutputs",
    "StreamReader",
]
