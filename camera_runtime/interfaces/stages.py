"""Extension points of the picture path that later features fill: stitching, image stages, encoders."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..capabilities import Control
from ..model import Frame, Packet, StreamInfo
from .base import PluginClass

#: Called by a calibration as it goes: the share done (0..1) and what it does now.
Progress = Callable[[float, str], None]


class Stitcher(PluginClass):
    """Combines the frames of several sensors into one picture: calibrate once, remap per frame.

    ``calibrate`` looks at one set of overlapping frames (sensor order: left to right in the
    panorama) and returns the calibration as plain JSON-able data, which the runtime saves in
    its data folder; ``load`` takes such data back (after a restart) and builds the fixed
    per-frame tables. After either, ``output_size`` is the panorama's size, ``stitch`` composes
    frames (same sizes as calibrated), and ``to_output`` maps sensor pixels to panorama pixels
    (what detection and the views use to say where things are). A calibration that cannot be
    done raises ``CalibrationError`` in words a user can act on; ``load`` raises it too when
    the saved data does not fit the sensors (their sizes changed).
    """

    extension_point: ClassVar[str] = "stitcher"

    @abstractmethod
    def calibrate(
        self, frames: Sequence[Frame], progress: Progress | None = None
    ) -> dict[str, Any]:
        """Compute the fixed mapping from one set of overlapping frames; returns it as data."""

    @abstractmethod
    def load(self, calibration: Mapping[str, Any], sizes: Sequence[tuple[int, int]]) -> None:
        """Use a saved calibration for sensors of ``sizes`` (width, height)."""

    @abstractmethod
    def output_size(self) -> tuple[int, int]:
        """The stitched picture's width and height (after ``calibrate`` or ``load``)."""

    @abstractmethod
    def stitch(self, frames: Sequence[Frame]) -> Frame:
        """Compose one output frame; runs per frame, off the event loop."""

    @abstractmethod
    def to_output(
        self, sensor: int, points: Sequence[tuple[float, float]]
    ) -> list[tuple[float, float]]:
        """Where pixels of sensor ``sensor`` land in the stitched picture."""


@dataclass(frozen=True, slots=True)
class StageContext:
    """What an image stage knows of its channel: ``width`` and ``height`` are the size of the
    frames it receives (after the stages before it), ``fps`` the source's announced rate."""

    channel_id: str
    channel_name: str
    width: int
    height: int
    fps: float


class ImageStage(PluginClass):
    """Changes pixels before anything is shown, stored or detected (rotate, privacy mask, OSD...).

    A channel builds its stages once per stream (and again when their options change), then
    runs them in ``ORDER`` (lowest first) on every decoded frame, on its worker thread.
    ``process`` receives a frame whose planes are read-only views: a stage that changes pixels
    copies the planes it changes (``dataclasses.replace(frame, y=new_y)``), never the others,
    and returns the frame unchanged when it has nothing to do.

    A stage that changes the picture's size (a 90 degree rotation) says so in
    ``output_size``; the frames it returns have that size. A stage declares what users
    control (``controls(options)``, like a detector); by default nothing.
    """

    extension_point: ClassVar[str] = "image_stage"
    #: Where the stage runs in a channel's chain: lowest first. The built-in stages use
    #: 100 rotate, 200 mirror, 300 adjust, 400 day_night, 500 privacy_mask, 600 osd,
    #: 700 picture_overlay: geometry first, then the picture, then the mask, then what is
    #: drawn over it.
    ORDER: ClassVar[int] = 1000
    #: Whether the stage hides what must not be seen (a privacy mask). A preview of a change
    #: to such a stage (``StageChain.preview``) keeps its live settings in force as well: a
    #: preview never shows what the live picture hides.
    PRIVACY: ClassVar[bool] = False
    #: The output modes of a stitched device (``stitching:``) whose channels may have the
    #: stage, where the manual restricts it (4.5.1: rotate in Original only, mirror in
    #: Original or Panorama); ``None``: every mode. Validation refuses it elsewhere.
    STITCHING_MODES: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        super().__init__(options)
        self.context = context

    @classmethod
    def output_size(cls, options: Mapping[str, Any], width: int, height: int) -> tuple[int, int]:
        """The size of the frames this stage returns for frames of ``width`` x ``height``."""
        return width, height

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        """The controls this stage offers with these (validated) options; ``sets`` names
        ``enabled`` (the stage's on/off switch) or one of its options."""
        return ()

    @abstractmethod
    def process(self, frame: Frame) -> Frame:
        """Return the changed frame (or ``frame`` itself); runs per frame, off the event loop."""


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
    #: The encoder a stream gets when its config names none (``channels[].streams.<role>``
    #: without ``type``, and the streams a channel re-encodes on its own: a synthetic scene's,
    #: or a passthrough stream's while an image stage changes the pictures).
    DEFAULT: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any], context: EncoderContext) -> None:
        super().__init__(options)
        self.context = context

    @classmethod
    @abstractmethod
    def codec(cls, options: Mapping[str, Any]) -> str:
        """The FFmpeg codec name these (validated) options make (``h264``, ``hevc``,
        ``mjpeg``): what a channel's status says before the encoder ever runs."""

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
