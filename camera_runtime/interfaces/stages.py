"""Extension points of the picture path that later features fill: stitching, image stages, encoders."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..model import Frame, Packet, StreamInfo
from .base import PluginClass


class Stitcher(PluginClass):
    """Combines the frames of several sensors into one picture (calibrate once, remap per frame)."""

    extension_point: ClassVar[str] = "stitcher"

    @abstractmethod
    def calibrate(self, frames: Sequence[Frame]) -> None:
        """Compute the fixed mapping from one set of overlapping frames."""

    @abstractmethod
    def stitch(self, frames: Sequence[Frame]) -> Frame:
        """Compose one output frame; runs per frame, off the event loop."""


class ImageStage(PluginClass):
    """Changes pixels before anything is shown, stored or detected (rotate, privacy mask, OSD...)."""

    extension_point: ClassVar[str] = "image_stage"

    @abstractmethod
    def process(self, frame: Frame) -> Frame:
        """Return the changed frame; runs per frame, off the event loop."""


@dataclass(frozen=True, slots=True)
class EncoderContext:
    """What an encoder knows of the stream it makes: the channel, which of its streams (the
    manual's stream types: ``main``, ``sub``, ``third``) and the pictures it will be given
    (their size and rate, as the channel's source announced them)."""

    channel_id: str
    stream: str
    width: int
    height: int
    fps: float


class Encoder(PluginClass):
    """Turns frames into one encoded stream of a channel (main / sub / third stream).

    Built once per stream from its validated options and an ``EncoderContext``; the options
    may be refused there with ``vol.Invalid`` (naming the key) when they do not fit the input
    (a resolution above the picture's, a frame rate above the source's) or when the installed
    FFmpeg lacks the codec. Then ``encode`` runs once per frame in one thread (the stream's),
    off the event loop; nothing else is called concurrently.

    ``encode`` and ``flush`` return ``Packet``s: ``codec`` is the FFmpeg codec name
    (``h264``, ``hevc``, ``mjpeg``), ``pts``/``dts`` count ``stream_info().time_base``,
    ``keyframe`` marks a picture a decoder can start from, and ``demux_time``/``wall_time``
    are the frame's, so latency is measured from the source to the viewer. ``force_keyframe``
    makes the next encoded picture a keyframe (a new viewer joins). ``stream_info()`` is
    what a muxer needs, valid from construction: size, rate, codec, time base and global
    headers (``extradata``: H.264/H.265 parameter sets out of band, so MP4 muxing works).
    """

    extension_point: ClassVar[str] = "encoder"

    def __init__(self, options: Mapping[str, Any], context: EncoderContext) -> None:
        super().__init__(options)
        self.context = context

    @abstractmethod
    def stream_info(self) -> StreamInfo:
        """Size, rate, codec, time base and global headers of the packets this encoder makes."""

    @abstractmethod
    def encode(self, frame: Frame, *, force_keyframe: bool = False) -> list[Packet]:
        """Encode one frame (it may be skipped to keep the configured frame rate); returns the
        packets it produced, possibly none. ``force_keyframe`` makes the next picture encoded
        a keyframe."""

    @abstractmethod
    def flush(self) -> list[Packet]:
        """Return what the encoder still holds; afterwards it encodes nothing more."""

    def close(self) -> None:
        """Free the encoder's resources (after ``flush`` or without it); idempotent."""
