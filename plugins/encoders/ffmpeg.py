"""The ``ffmpeg`` encoder: a channel's frames to an H.264, H.265 or MJPEG stream with PyAV (libx264, libx265, FFmpeg's MJPEG).

A ``Frame``'s Y/U/V planes are copied once, line by line, into a fresh yuv420p
``av.VideoFrame``: no BGR round trip, about 0.2 ms per 1080p picture (bench/encode.py). A
smaller resolution is then made by swscale from those planes (area filter: 0.5 ms from 1080p
to 640x360), and MJPEG gets its full-range ``yuvj420p`` there too (1.5 ms at 1080p). A fresh
picture per frame rather than one reused buffer (0.08 ms): an FFmpeg encoder may keep a
reference to the picture it was given past ``encode`` (libavcodec's MPEG-family encoders,
MJPEG among them, can use the caller's buffers directly), and a reused buffer would then
change under it.

One thread per encoder (``thread_count=1``), like the decoders: parallelism comes from the
many streams of many cameras, and frame threading would hold pictures back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any, ClassVar

import av
import av.error
import numpy as np
import voluptuous as vol
from av.codec.context import Flags
from av.video.frame import PictureType
from av.video.reformatter import VideoReformatter

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError
from camera_runtime.interfaces import Encoder, EncoderContext
from camera_runtime.model import Frame, Packet, Plane, StreamInfo

from .options import ENCODER_SCHEMA, TIME_BASE, VIDEO_ENCODINGS, resolve

#: Pictures whose times are kept for their packets (the demux and wall times): far more than
#: a zero-latency encoder holds (none), bounded all the same.
_MAX_PENDING = 64
#: The codec flag that puts the parameter sets in ``extradata`` (what MP4 muxing needs):
#: ``GLOBAL_HEADER`` in av 13 (Home Assistant's pin), ``global_header`` in av 14 and later.
_GLOBAL_HEADER: Any = getattr(Flags, "global_header", None) or Flags.GLOBAL_HEADER


def _copy_plane(plane: Any, source: Plane) -> None:
    """Copy ``source`` into an ``av`` picture plane, honouring its line stride."""
    height, width = source.shape
    stride = int(plane.line_size)
    target = np.frombuffer(plane, dtype=np.uint8, count=stride * height).reshape(height, stride)
    target[:, :width] = source


def video_frame(frame: Frame) -> av.VideoFrame:
    """A new yuv420p ``av.VideoFrame`` holding a copy of the frame's planes."""
    picture = av.VideoFrame(frame.width, frame.height, "yuv420p")
    for plane, source in zip(picture.planes, (frame.y, frame.u, frame.v), strict=True):
        _copy_plane(plane, source)
    return picture


class FFmpegEncoder(Encoder):
    """H.264 (libx264), H.265 (libx265) or MJPEG with the manual's stream settings."""

    kind: ClassVar[str] = "ffmpeg"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = ENCODER_SCHEMA
    DEFAULT: ClassVar[bool] = True

    @classmethod
    def codec(cls, options: Mapping[str, Any]) -> str:
        return VIDEO_ENCODINGS[options["video_encoding"]][1]

    def __init__(self, options: Mapping[str, Any], context: EncoderContext) -> None:
        super().__init__(options, context)
        settings = resolve(options, context.width, context.height, context.fps)
        self.settings = settings
        ctx: Any = av.CodecContext.create(settings.encoder, "w")
        ctx.width, ctx.height = settings.width, settings.height
        ctx.time_base = TIME_BASE
        ctx.framerate = Fraction(settings.fps).limit_denominator(1001)
        ctx.thread_count = 1
        ctx.gop_size = settings.gop
        ctx.max_b_frames = 0
        if settings.bit_rate:
            ctx.bit_rate = settings.bit_rate
        self._format = "yuvj420p" if settings.encoding == "mjpeg" else "yuv420p"
        ctx.pix_fmt = self._format
        options = dict(settings.codec_options)
        if settings.qscale:  # FFmpeg's generic options: av 13 has no ``qmin`` attribute
            options["qmin"] = options["qmax"] = str(settings.qscale)
        if settings.encoding != "mjpeg":
            ctx.flags |= _GLOBAL_HEADER
        ctx.options = options
        try:
            ctx.open()
        except av.error.FFmpegError as err:
            raise vol.Invalid(
                f"{settings.encoder} refused these options: {err}", path=["video_encoding"]
            ) from err
        self._ctx = ctx
        self._info = StreamInfo(
            width=settings.width,
            height=settings.height,
            fps=settings.fps,
            codec=settings.codec,
            time_base=TIME_BASE,
            extradata=bytes(ctx.extradata or b""),
        )
        self._scale = (settings.width, settings.height) != (context.width, context.height)
        # One reformatter for the stream keeps its swscale context: 1.5 ms instead of 2.0 ms
        # for the full-range conversion of a 1080p picture (MJPEG).
        self._reformatter = VideoReformatter()
        self._offset: float | None = None  # output time = frame.pts + offset
        self._last_in = 0.0
        self._last_pts = -1
        self._next_due: float | None = None
        self._keyframe_wanted = False
        self._pending: dict[int, tuple[float, float]] = {}
        self._closed = False
        #: Frames left out to keep the configured frame rate.
        self.frames_decimated = 0

    def stream_info(self) -> StreamInfo:
        return self._info

    def encode(self, frame: Frame, *, force_keyframe: bool = False) -> list[Packet]:
        if self._closed:
            raise RuntimeError("the encoder is closed")
        if (frame.width, frame.height) != (self.context.width, self.context.height):
            raise CameraRuntimeError(
                f"a {frame.width}x{frame.height} frame for an encoder opened for "
                f"{self.context.width}x{self.context.height}: the input changed size, the "
                "encoder must be built anew"
            )
        self._keyframe_wanted |= force_keyframe
        pts = self._timestamp(frame)
        if pts is None:
            self.frames_decimated += 1
            return []
        picture = video_frame(frame)
        if self._scale or self._format != "yuv420p":
            picture = self._reformatter.reformat(
                picture,
                width=self.settings.width,
                height=self.settings.height,
                format=self._format,
                interpolation="AREA",
            )
        picture.pts = pts
        if self._keyframe_wanted:
            picture.pict_type = PictureType.I
            self._keyframe_wanted = False
        self._pending[pts] = (frame.demux_time, frame.wall_time)
        if len(self._pending) > _MAX_PENDING:
            del self._pending[min(self._pending)]
        return self._packets(self._ctx.encode(picture))

    def flush(self) -> list[Packet]:
        if self._closed:
            return []
        try:
            return self._packets(self._ctx.encode(None))
        except av.error.EOFError:
            return []

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pending.clear()
            self._ctx = None

    def _timestamp(self, frame: Frame) -> int | None:
        """The picture's pts in the time base, or ``None`` to leave it out (decimation).

        Output time is the frame's own time from the first picture on; a frame time that goes
        back (the source reconnected) continues the timeline one picture later instead.
        """
        step = 1.0 / self.settings.fps
        if self._offset is None:
            self._offset = -frame.pts
        elif frame.pts < self._last_in:
            self._offset = (self._last_pts * TIME_BASE + step) - frame.pts
            self._next_due = None
        self._last_in = frame.pts
        interval = self.settings.interval
        if interval is not None:
            # A frame up to half an input interval early counts as on time.
            slack = 0.5 / self.context.fps if self.context.fps > 0 else 0.25 * interval
            if self._next_due is not None and frame.pts < self._next_due - slack:
                return None
            # A picture taken on time is stamped with its due time, so the stream keeps a
            # constant rate (off by less than half an input interval); the next one is due an
            # interval later. After a longer gap the grid starts again from this picture.
            behind = self._next_due is None or frame.pts - self._next_due > interval
            when = frame.pts if behind or self._next_due is None else self._next_due
            self._next_due = when + interval
        else:
            when = frame.pts
        pts = round((when + self._offset) / TIME_BASE)
        pts = max(pts, self._last_pts + 1)
        self._last_pts = pts
        return pts

    def _packets(self, packets: list[Any]) -> list[Packet]:
        out = []
        for packet in packets:
            times = self._pending.pop(packet.pts, None) if packet.pts is not None else None
            demux_time, wall_time = times if times is not None else (0.0, 0.0)
            out.append(
                Packet(
                    data=bytes(packet),
                    pts=packet.pts,
                    dts=packet.dts,
                    time_base=TIME_BASE,
                    keyframe=bool(packet.is_keyframe),
                    codec=self._info.codec,
                    demux_time=demux_time,
                    wall_time=wall_time,
                )
            )
        return out


@hookimpl
def register_encoders(register: Callable[[type[Encoder]], None]) -> None:
    """Make ``ffmpeg`` available as a stream's encoder."""
    register(FFmpegEncoder)
