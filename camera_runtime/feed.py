"""One source of a channel kept running: its worker thread, (re)connection with backoff, and
the hand-off of what it reads: packets to whoever takes them, pictures to the channel.

A channel has one feed per stream role. Alone, the main stream's feed both passes packets on
and decodes them for the channel's pictures. With a sub-stream (``channels[].substream``),
the main feed only demultiplexes (no decoder runs: a consumer that needs no pixels never pays
for decoding), and the sub feed decodes for live view and detection; its packets are the
channel's sub stream. Every feed demultiplexes in its own thread (``Source.read_inline``: no
source thread hands it the packets; a decoding one sheds what it falls behind a live camera).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .config import STREAM_ROLES
from .exceptions import (
    CameraRuntimeError,
    NetworkDisconnectedError,
    SourceEndedError,
    SourceUnavailableError,
)
from .interfaces import Source
from .model import AudioLevel, Frame, Packet, StreamInfo

_LOGGER = logging.getLogger(__name__)

#: Reconnect backoff: 1 s, doubling, capped at 30 s.
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0

#: The stream roles of a channel: its main stream, the camera's sub-stream, the third stream.
MAIN, SUB, THIRD = STREAM_ROLES


def next_backoff(seconds: float) -> float:
    """The wait before the next reconnect attempt: doubling, capped at ``BACKOFF_MAX``."""
    return min(seconds * 2, BACKOFF_MAX)


def jittered(seconds: float, draw: Callable[[], float] = random.random) -> float:
    """``seconds`` give or take 20 %: cameras that dropped together (a switch rebooted) do
    not all reconnect in the same instant, again and again."""
    return seconds * (0.8 + 0.4 * draw())


PacketConsumer = Callable[[Packet], None]


class PacketFanout:
    """A stream's packets, handed unchanged to every subscriber, in the feed's thread.

    A subscriber must return at once (queue the packet, drop it when behind): it shares the
    thread with demultiplexing and decoding. ``info`` is the stream as last opened;
    a packet with ``discontinuity`` may come with a new one (a reconnect).
    """

    def __init__(self, role: str) -> None:
        self.role = role
        self.info: StreamInfo | None = None
        self._consumers: tuple[PacketConsumer, ...] = ()
        self._lock = threading.Lock()
        self.packets = 0

    @property
    def consumers(self) -> int:
        return len(self._consumers)

    def subscribe(self, consumer: PacketConsumer) -> Callable[[], None]:
        """Start handing packets to ``consumer``; returns what stops it."""
        with self._lock:
            self._consumers = (*self._consumers, consumer)

        def unsubscribe() -> None:
            with self._lock:
                self._consumers = tuple(c for c in self._consumers if c is not consumer)

        return unsubscribe

    def publish(self, packet: Packet) -> None:
        self.packets += 1
        for consumer in self._consumers:  # a tuple: subscribing meanwhile is safe
            try:
                consumer(packet)
            except Exception:  # one broken consumer must not stop the camera
                _LOGGER.exception("%s stream: a packet consumer failed", self.role)


class FeedEvents(Protocol):
    """What a feed tells its channel, from the feed's thread."""

    def opened(self, role: str, info: StreamInfo) -> None: ...
    def delivered(self, role: str, demux_time: float) -> None: ...
    def frame(self, frame: Frame) -> None: ...
    def audio(self, levels: list[AudioLevel]) -> None: ...
    def lost(self, role: str, reason: str, *, network: bool = False) -> None: ...
    def ended(self, role: str) -> None: ...
    def exited(self, role: str) -> None: ...


@dataclass(frozen=True, slots=True)
class FeedSpec:
    role: str
    source: type[Source]
    options: Mapping[str, Any]
    #: Whether this feed's pictures are the channel's (decoded) pictures.
    decode: bool
    #: Whether to measure the stream's audio track (a detector listens; ``Source.AUDIO``).
    audio: bool = False


class Feed:
    """Keeps one source running in its own thread until ``stop`` or the source's end."""

    def __init__(
        self,
        channel_id: str,
        spec: FeedSpec,
        fanout: PacketFanout,
        events: FeedEvents,
        stop: threading.Event,
    ) -> None:
        self.spec = spec
        self.fanout = fanout
        self._events = events
        self._stop = stop
        self._source: Source | None = None
        self._delivered = False
        self._label = f"{channel_id}" if spec.role == MAIN else f"{channel_id} ({spec.role})"
        self.thread = threading.Thread(
            target=self._run, name=f"channel-{channel_id}-{spec.role}", daemon=True
        )

    def close_source(self) -> None:
        """Make a blocking read return (``stop`` was set)."""
        source = self._source
        if source is not None:
            source.close()

    def _run(self) -> None:
        try:
            self._keep_running()
        finally:
            self._events.exited(self.spec.role)

    def _keep_running(self) -> None:
        backoff = BACKOFF_START
        spec = self.spec
        while not self._stop.is_set():
            source = spec.source(spec.options)
            self._source = source
            try:
                if spec.audio:
                    source.listen_audio()
                source.read_inline(decoded=spec.decode)  # demultiplexed in this thread
                info = source.open()
                self.fanout.info = info
                self._events.opened(spec.role, info)
                self._read(source)
            except SourceEndedError:
                _LOGGER.info("%s: source %s ended", self._label, source.describe())
                self._events.ended(spec.role)
                return
            except (SourceUnavailableError, CameraRuntimeError) as err:
                if self._stop.is_set():
                    break
                network = isinstance(err, NetworkDisconnectedError)
                self._events.lost(spec.role, str(err), network=network)
            except Exception as err:  # a plugin bug must not kill the channel for good
                if self._stop.is_set():
                    break
                _LOGGER.exception("%s: unexpected error in the pipeline", self._label)
                self._events.lost(spec.role, f"internal error: {err!r}")
            finally:
                self._source = None
                source.close()
            if self._delivered:  # it worked for a while: start the backoff over
                backoff = BACKOFF_START
            if self._stop.wait(jittered(backoff)):
                break
            backoff = next_backoff(backoff)

    def _read(self, source: Source) -> None:
        """Read until stopped; the first packet or picture counts as delivered."""
        events, fanout, decode, role = self._events, self.fanout, self.spec.decode, self.spec.role
        self._delivered = False
        stop = self._stop
        if not source.PACKETS:
            while not stop.is_set():
                frame = source.read()
                if not self._delivered:
                    self._delivered = True
                    events.delivered(role, frame.demux_time)
                events.frame(frame)
            return
        audio = self.spec.audio
        while not stop.is_set():
            packet = source.read_packet()
            if not self._delivered:
                self._delivered = True
                events.delivered(role, packet.demux_time)
            if packet.data:  # flush packets at the end of a file carry none
                fanout.publish(packet)
            if decode:
                for frame in source.decode(packet):
                    events.frame(frame)
            if audio and (levels := source.audio_levels()):
                events.audio(levels)


__all__ = [
    "BACKOFF_MAX",
    "BACKOFF_START",
    "MAIN",
    "SUB",
    "THIRD",
    "Feed",
    "FeedEvents",
    "FeedSpec",
    "PacketConsumer",
    "PacketFanout",
    "jittered",
    "next_backoff",
]
