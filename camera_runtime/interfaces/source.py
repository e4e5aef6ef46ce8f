"""Sources ("sensors"): where a channel's pictures come from."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..exceptions import PluginError
from ..model import AudioLevel, Frame, Packet, StreamInfo
from .base import PluginClass


class Source(PluginClass):
    """A video source, driven by its channel's worker thread.

    The channel calls ``open`` then reads in a loop from one thread; ``close`` may be called
    from another thread and must make a blocking ``open`` or read return (raise) within
    about a second. Reads raise ``SourceUnavailableError`` when the source drops (the channel
    raises a video-loss event and reopens with backoff; ``NetworkDisconnectedError``, its
    subclass, when a ``NETWORK`` source cannot reach its camera) and ``SourceEndedError`` at the
    end of a finite source.

    A source that demultiplexes an encoded stream sets ``PACKETS``: the channel then reads its
    packets (``read_packet``), hands them on unchanged to whoever takes packets, and calls
    ``decode`` only when something wants the pictures (a channel whose sub-stream does the
    detection never decodes its main stream). A source that makes pictures (the synthetic
    scene) implements ``read`` alone. Decoding happens in the channel's thread, off the
    event loop.
    """

    extension_point: ClassVar[str] = "source"
    #: Whether ``read_packet`` and ``decode`` are offered (an encoded stream).
    PACKETS: ClassVar[bool] = False
    #: Whether the source reaches a camera over the network: its connection failures raise
    #: ``NetworkDisconnectedError`` and its channels declare the ``network_disconnected``
    #: exception.
    NETWORK: ClassVar[bool] = False
    #: Whether the source can measure its audio track (``listen_audio``, ``audio_levels``).
    AUDIO: ClassVar[bool] = False

    @abstractmethod
    def open(self) -> StreamInfo:
        """Connect and return the stream's geometry; raises ``SourceUnavailableError``."""

    @abstractmethod
    def read(self) -> Frame:
        """Block until the next decoded frame."""

    def read_packet(self) -> Packet:
        """Block until the next packet (``PACKETS`` sources only)."""
        raise PluginError(f"source {self.kind} hands no packets")

    def decode(self, packet: Packet) -> list[Frame]:
        """The pictures ``packet`` completes (none, one, or more at the end of a stream);
        every packet from the last keyframe on must pass here, in order, for them to be
        right (``PACKETS`` sources only)."""
        raise PluginError(f"source {self.kind} hands no packets")

    def listen_audio(self) -> None:
        """Before ``open``: also demultiplex the audio track, if the stream has one, and
        measure its level (``AUDIO`` sources only; an audio detector asks for it)."""
        raise PluginError(f"source {self.kind} has no audio")

    def read_inline(self, *, decoded: bool = False) -> None:
        """Before ``open``: ``read_packet`` may demultiplex in the reading thread itself, with
        no thread of the source's own in between (``PACKETS`` sources; optional: the default
        ignores it). Every feed asks for it: one thread and one hand-off per packet fewer.
        ``close`` then ends a read at once unless the read waits on a silent camera, where it
        ends at the source's read timeout. ``decoded``: the reader decodes what it reads, so
        a live stream sheds the packets up to the next keyframe once the reader is more than
        a moment behind (as a queue of its own would), which also saves their decoding."""

    def audio_levels(self) -> list[AudioLevel]:
        """The levels measured since the last call, oldest first; never blocks. Called by the
        reading thread between reads."""
        return []

    @abstractmethod
    def close(self) -> None:
        """Release the source; safe to call twice and from another thread."""

    def describe(self) -> str:
        """A log-safe description (no credentials)."""
        return self.kind
