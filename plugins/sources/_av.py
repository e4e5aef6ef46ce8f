"""Shared PyAV plumbing of the file, network and webcam sources: open, demux, decode, planes.

Each open stream gets one thread that owns its PyAV container: it opens it, paces (files in
real time) and demuxes, and hands the packets to ``read()`` through a mailbox. Owning the
container in one thread is what lets ``close()`` (from any thread) make ``read()`` raise at
once, even while FFmpeg is blocked in a network read that only its own timeout can end: the
thread closes the container itself when FFmpeg returns. It also keeps a camera's socket
drained while the reader is busy.

A stream read by a channel's feed (``read_inline``) has no such thread: a thread opens it (so
that ``close()`` still ends a blocked open at once), hands the container over and ends, and
``read_packet`` demuxes and paces in the reader's thread. It saves a thread and a hand-off per
packet: for a passed-through main stream 1.14 -> 0.99 CPU ms and 12.6 -> 10.9 context
switches per camera-frame at 16 cameras, for the decoded sub-stream too 2.18 / 1.99 -> 1.76 /
1.85 and 18.5 -> 10.4 (bench/profile_capacity.py). A decoding reader that falls behind a live
stream sheds packets up to a keyframe (``_live_edge``), as the mailbox would. The price:
``close()`` ends a read blocked on a silent camera at the read timeout only.

``read()`` decodes, in the caller's thread (the channel's). Handing packets over rather than
pictures was measured: with 16 unpaced 1080p streams in one process, a decoded-frame hand-off
between two threads per stream ran at 524-569 fps with 6-7 % of the CPUs idle, a packet
hand-off at 574-576 fps with 3-4 % idle, and decoding in one thread per stream with no
hand-off at 585-599 fps (bare PyAV: 603-643 fps). The stream thread now does little but wait,
so the channel's thread is the one busy thread per camera, and the packets are there for
recording later. Decoding uses one thread per stream (``thread_count=1``): parallelism comes
from running many cameras, and frame threading would hold frames back (PERFORMANCE-NOTES).
Slice threading was measured to gain nothing on single-slice H.264.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
import time
from abc import abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar, NoReturn

import av
import av.error
import numpy as np
import voluptuous as vol

from camera_runtime.exceptions import (
    CameraRuntimeError,
    NetworkDisconnectedError,
    SourceEndedError,
    SourceUnavailableError,
)
from camera_runtime.interfaces import Source
from camera_runtime.model import SILENCE_DB, AudioLevel, Frame, Packet, Plane, StreamInfo

from ._live_edge import LiveEdge
from ._mailbox import REWIND, Mailbox, MailboxClosed, QueuedPacket, Rewind

_LOGGER = logging.getLogger(__name__)

#: Formats whose planes are used as they are: yuvj420p differs from yuv420p only in range.
DIRECT_FORMATS = frozenset({"yuv420p", "yuvj420p"})
#: One decode thread per stream (see the module docstring).
DECODE_THREADS = 1
#: Packets a file's stream thread may demux ahead of ``read()``.
FILE_MAILBOX_SIZE = 8
#: Packets a live stream may queue for a busy reader (a cap; the patience drops them sooner
#: below 64 fps). A webcam's raw packets are whole pictures: this also bounds their memory.
LIVE_MAILBOX_SIZE = 32
#: How long a live stream's packet may wait for a busy reader before it is dropped, with the
#: rest of its GOP: short hiccups (a burst after opening, an I-frame, a slow detector pass)
#: lose nothing; a reader that stays behind gets recent pictures instead of a growing delay.
LIVE_PATIENCE = 0.5
#: Corrupt packets in a row after which a stream is given up.
MAX_CONSECUTIVE_ERRORS = 100
#: Options every PyAV source accepts. ``fast_decode`` skips the H.264/HEVC deblocking (loop)
#: filter: 19-27% less CPU for a 1080p decode, 6-19% per frame of a whole live channel
#: (paired runs of bench/capacity.py --fast-decode), at the price of a slightly blockier
#: picture in live view and snapshots (PSNR 42-48 dB against the normal decode on the bench
#: clip). Detection, which works on a small grey copy, does not notice.
DECODE_OPTIONS: dict[Any, Any] = {vol.Optional("fast_decode", default=False): bool}
#: FFmpeg decoder options of ``fast_decode``.
FAST_DECODE = {"skip_loop_filter": "all"}


def _plane_view(plane: Any, height: int, width: int) -> Plane:
    """A read-only (height, width) view of a decoder plane that honours its line stride.

    No copy: the view shares the decoder's buffer, which the ``av`` frame keeps alive. It is
    read-only because decoded pictures can be reference frames of the pictures that follow.
    """
    stride = int(plane.line_size)
    flat = np.frombuffer(plane, dtype=np.uint8, count=stride * height)
    view = flat.reshape(height, stride)[:, :width]
    view.flags.writeable = False
    return view


def frame_from_av(
    video_frame: av.VideoFrame,
    *,
    pts: float,
    demux_time: float,
    wall_time: float,
) -> Frame:
    """Wrap a decoded picture as a ``Frame`` of zero-copy Y/U/V views.

    4:2:0 pictures are used in place; any other pixel format is converted once to yuv420p
    (the converted picture then backs the views). ``Frame.source`` keeps the buffers alive.
    """
    keyframe = bool(video_frame.key_frame)
    if video_frame.format.name not in DIRECT_FORMATS:
        video_frame = video_frame.reformat(format="yuv420p")
    width, height = video_frame.width, video_frame.height
    chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
    planes = video_frame.planes
    return Frame(
        y=_plane_view(planes[0], height, width),
        u=_plane_view(planes[1], chroma_h, chroma_w),
        v=_plane_view(planes[2], chroma_h, chroma_w),
        pts=pts,
        wall_time=wall_time,
        demux_time=demux_time,
        keyframe=keyframe,
        source=video_frame,
    )


def error_reason(err: BaseException) -> str:
    """Why FFmpeg or the OS failed, without the file name: for URLs that can hold credentials."""
    strerror = getattr(err, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    return type(err).__name__


#: The OS errors that mean the camera cannot be reached, as opposed to a camera that answers
#: wrongly (a refused login, an unknown path, bad data).
NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def is_network_failure(err: BaseException) -> bool:
    """Whether ``err`` says the peer could not be reached or the connection broke."""
    if isinstance(err, (ConnectionError, TimeoutError)):
        return True
    return getattr(err, "errno", None) in NETWORK_ERRNOS


#: Audio levels waiting for the reader: about 20 s of 48 kHz AAC; older ones are dropped.
MAX_AUDIO_LEVELS = 1000
#: Full scale of the integer sample formats, to bring samples to -1..1.
_FULL_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}


def audio_level(frame: Any, media_time: float) -> AudioLevel:
    """RMS and peak of one decoded audio frame (any sample format, all channels), in dBFS."""
    samples = frame.to_ndarray()
    if samples.dtype == np.uint8:
        x = (samples.astype(np.float32) - 128.0) / 128.0
    elif samples.dtype in _FULL_SCALE:
        x = samples.astype(np.float32) / _FULL_SCALE[samples.dtype]
    else:
        x = samples.astype(np.float32, copy=False)
    if x.size == 0:
        rms = peak = 0.0
    else:
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
        peak = float(np.max(np.abs(x)))

    def db(value: float) -> float:
        return max(SILENCE_DB, 20.0 * float(np.log10(value))) if value > 0 else SILENCE_DB

    rate = frame.sample_rate or 1
    return AudioLevel(media_time, frame.samples / rate, db(rms), db(peak), time.time())


@dataclass(frozen=True, slots=True)
class OpenSpec:
    """What to open and how to treat it; built by each source from its validated options.

    ``target`` may hold credentials and is never logged: ``label`` is the log-safe name.
    ``finite`` sources end at EOF (or loop); for live ones EOF means the camera dropped, and
    a reader that stays behind loses its oldest frames rather than falling ever further back.
    A ``network`` source's connection failures and timeouts raise ``NetworkDisconnectedError``.
    """

    target: str
    label: str
    format: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    timeout: tuple[float, float] | None = None
    finite: bool = False
    loop: bool = False
    realtime: bool = False
    fast_decode: bool = False
    network: bool = False

    def unavailable(self, reason: str, *, unreachable: bool) -> SourceUnavailableError:
        """The error for a failure to open or read: a network one when the camera could not be
        reached (``unreachable``) and this is a network source."""
        if self.network and unreachable:
            return NetworkDisconnectedError(reason)
        return SourceUnavailableError(reason)


class _Timeline:
    """Turns media times into seconds from the first frame, still increasing across loops."""

    def __init__(self, step: float) -> None:
        self.step = step
        self._origin: float | None = None
        self._offset = 0.0
        self._last: float | None = None

    def at(self, media_time: float | None) -> float:
        if media_time is None:  # no timestamp: assume one nominal frame later
            value = 0.0 if self._last is None else self._last + self.step
        else:
            if self._origin is None:
                self._origin = media_time
            value = media_time - self._origin + self._offset
        self._last = value
        return value

    def next_pass(self) -> None:
        """A loop restarts the media times: continue one nominal frame after the last value."""
        if self._last is not None:
            self._offset = self._last + self.step
        self._origin = None


class _StreamThread:
    """One open stream: the thread that owns the container and fills the mailbox, and the
    reader's side, which decodes what ``read()`` takes out of it."""

    def __init__(
        self, spec: OpenSpec, *, audio: bool = False, inline: bool = False, shed: bool = False
    ) -> None:
        self.spec = spec
        self._listen = audio
        #: Whether ``read_packet`` demultiplexes in the reader's thread (``AvSource.inline``):
        #: the stream thread then only opens the container and hands it over.
        self._inline = inline
        self._items: Iterator[QueuedPacket | Rewind] | None = None  # inline: the reader's
        #: Inline and decoded, a live stream's measure of how far behind the reader is
        #: (``_live_edge``), and whether it shed packets since the last one handed on.
        shedding = inline and shed and not spec.finite
        self._edge: LiveEdge | None = LiveEdge(LIVE_PATIENCE) if shedding else None
        self._shed_gap = False
        self._shed_reported = 0  # of ``_edge.shed``, in the log
        self._reading = threading.Lock()  # inline: held while the reader demuxes
        #: Measured by the stream thread, drained by the reader (``deque`` is thread-safe).
        self.audio_levels: deque[AudioLevel] = deque(maxlen=MAX_AUDIO_LEVELS)
        self._audio: Any = None  # the audio track's codec context, when listened to
        self._audio_index = -1
        self._audio_errors = 0
        size, patience = (
            (FILE_MAILBOX_SIZE, None) if spec.finite else (LIVE_MAILBOX_SIZE, LIVE_PATIENCE)
        )
        self.mailbox = Mailbox(size, patience)
        self._opened = threading.Event()
        self._info: StreamInfo | None = None
        self._final: CameraRuntimeError | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"camera_runtime source {spec.label}", daemon=True
        )
        self._container: Any = None  # the stream thread's, but for ``_rewind``
        self._container_lock = threading.Lock()  # a seek by the reader, a close by the thread
        self._rewound = False
        # The reader's side: used only by the thread that calls ``read()``.
        self._decoder: Any = None  # the stream's codec context, set up by the stream thread
        self._ready: deque[Frame] = deque()
        self._frame_times = _Timeline(0.04)
        self._errors = 0  # undecodable packets in a row
        self._skipped = 0  # and in all (to warn once)
        self._packets_this_pass = 0
        self._codec = ""
        self._time_base = Fraction(1, 90_000)  # the stream's, once it opened

    # --- the caller's side -------------------------------------------------------------------

    def start(self) -> StreamInfo:
        if not self.mailbox.closed:
            self.thread.start()
            self._opened.wait()
        if self._info is None:
            self.stop()
            raise self._final or SourceUnavailableError(f"{self.spec.label}: closed while opening")
        return self._info

    def read_packet(self) -> Packet:
        """The next packet, in the model's terms; ``discontinuity`` after a reopen, dropped
        packets or a loop's rewind."""
        gap = False
        while True:
            if self._final is not None:  # the end is sticky: every later read says it again
                raise type(self._final)(self._final.message)
            if self._inline:
                item: QueuedPacket | Rewind | CameraRuntimeError = self._demux_here()
            else:
                try:
                    item = self.mailbox.get()
                except MailboxClosed:
                    raise SourceUnavailableError(f"{self.spec.label} is closed") from None
            if isinstance(item, CameraRuntimeError):
                self._fail(item)
            elif isinstance(item, Rewind):
                self._rewind()
                gap = True
            else:
                if self._shed_gap:
                    self._report_shed()
                gap = gap or self.mailbox.resumed or self._shed_gap or self._packets_this_pass == 0
                self._shed_gap = False
                self._packets_this_pass += 1
                return self._packet(item, discontinuity=gap)

    def _demux_here(self) -> QueuedPacket | Rewind:
        """Inline: the next item, demultiplexed (and paced) in this thread; a failure ends the
        stream as the stream thread's would. The reader closes the container when it stops."""
        label = self.spec.label
        with self._reading:
            item = None
            if not self.mailbox.closed and self._items is not None:
                try:
                    item = next(self._items, None)
                except CameraRuntimeError as err:
                    self._close_container()
                    if self.mailbox.closed:  # closed while FFmpeg waited: that is the news
                        raise SourceUnavailableError(f"{label} is closed") from None
                    self._fail(err)
                except Exception as err:  # as in ``_run``: visibly, never silently
                    _LOGGER.exception("%s: demultiplexing failed", label)
                    self._close_container()
                    self._fail(SourceUnavailableError(f"{label}: {error_reason(err)}"))
        if item is None or self.mailbox.closed:
            self._close_container()
            raise SourceUnavailableError(f"{label} is closed")
        return item

    def _packet(self, item: QueuedPacket, *, discontinuity: bool) -> Packet:
        raw = item.packet
        return Packet(
            data=bytes(raw),
            pts=raw.pts,
            dts=raw.dts,
            time_base=self._time_base,  # the stream's: one Fraction, not one per packet
            keyframe=item.keyframe,
            codec=self._codec,
            demux_time=item.demux_time,
            wall_time=item.wall_time,
            discontinuity=discontinuity,
            source=raw,
        )

    def read(self) -> Frame:
        while not self._ready:
            self._ready.extend(self.decode(self.read_packet()))
        return self._ready.popleft()

    def decode(self, packet: Packet) -> list[Frame]:
        """Decode one packet; a damaged one is skipped (no pictures), too many in a row end
        the stream. After a discontinuity nothing from before the gap is referred to."""
        if packet.discontinuity:
            self._decoder.flush_buffers()
        raw = packet.source if isinstance(packet.source, av.Packet) else av.Packet(packet.data)
        try:
            pictures = self._decoder.decode(raw)
        except av.FFmpegError as err:  # a damaged packet: skip it, keep the stream
            self._errors += 1
            self._skipped += 1
            _LOGGER.log(
                logging.WARNING if self._skipped == 1 else logging.DEBUG,
                "%s: undecodable packet skipped (%s)",
                self.spec.label,
                err.strerror,
            )
            if self._errors > MAX_CONSECUTIVE_ERRORS:
                reason = error_reason(err)
                self._fail(
                    SourceUnavailableError(
                        f"{self.spec.label}: cannot decode the stream ({reason})"
                    )
                )
            return []
        frames = []
        for picture in pictures:
            self._errors = 0
            frames.append(
                frame_from_av(
                    picture,
                    pts=self._frame_times.at(picture.time),
                    demux_time=packet.demux_time,
                    wall_time=packet.wall_time,
                )
            )
        return frames

    def stop(self) -> None:
        self.mailbox.close()
        self._opened.set()
        # Inline, the reader owns the container once handed over: close it here unless the
        # reader is demultiplexing (it then closes it itself when FFmpeg returns).
        if self._inline and self._reading.acquire(blocking=False):
            try:
                with self._container_lock:
                    handed_over = self._items is not None
                if handed_over:
                    self._close_container()
            finally:
                self._reading.release()

    def _fail(self, err: CameraRuntimeError) -> NoReturn:
        self._final = err
        self.stop()
        raise err

    def _report_shed(self) -> None:
        """Say what a reader behind its live stream shed (the first time as a warning: under
        a lasting overload it recurs every few seconds)."""
        assert self._edge is not None
        shed, self._shed_reported = self._edge.shed - self._shed_reported, self._edge.shed
        _LOGGER.log(
            logging.WARNING if shed == self._edge.shed else logging.DEBUG,
            "%s: the reader fell behind the live stream: %d packets shed up to a keyframe "
            "(%d since it opened)",
            self.spec.label,
            shed,
            self._edge.shed,
        )

    @property
    def dropped_frames(self) -> int:
        """Video packets dropped for a reader behind a live stream: by the mailbox, or shed
        on the way (inline)."""
        return self.mailbox.dropped + (self._edge.shed if self._edge is not None else 0)

    def _rewind(self) -> None:
        """A looping file ended: seek it back to the start, here, while the stream thread waits.

        Here because PyAV's ``seek`` also flushes the stream's decoder, which only this thread
        may touch; reopening the file instead was measured to hold up the first frame of each
        pass by 150-250 ms (FFmpeg probes the file again).
        """
        if self._packets_this_pass == 0:
            self._fail(SourceEndedError(f"{self.spec.label}: no packet to loop over"))
        with self._container_lock:
            container = self._container
            if container is None:  # closed meanwhile
                self._fail(SourceUnavailableError(f"{self.spec.label} is closed"))
            try:
                container.seek(0)
            except (av.FFmpegError, OSError) as err:
                reason = error_reason(err)
                self._fail(SourceEndedError(f"{self.spec.label}: cannot loop ({reason})"))
        self._frame_times.next_pass()
        self._packets_this_pass = 0
        self._rewound = True
        self.mailbox.wake()

    # --- the stream thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            container = self._container = self._open_container()
            stream = self._video_stream(container)
            ctx = stream.codec_context
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            self._info = StreamInfo(
                width=int(ctx.width),
                height=int(ctx.height),
                fps=float(rate) if rate else 0.0,
                codec=str(ctx.name),
                time_base=stream.time_base,
                extradata=bytes(ctx.extradata or b""),
            )
            self._decoder = ctx  # set before ``start()`` returns; only the reader uses it then
            self._codec = self._info.codec
            self._time_base = stream.time_base
            self._frame_times = _Timeline(self._step())
            streams = [stream]
            if self._listen and container.streams.audio:
                audio = container.streams.audio[0]
                self._audio, self._audio_index = audio.codec_context, audio.index
                streams.append(audio)
            if self._inline:  # hand the container over to the reader: this thread ends
                with self._container_lock:
                    if not self.mailbox.closed:
                        self._items = self._produce(container, streams)
                        return
            self._opened.set()
            if not self.mailbox.closed:
                self._pump(container, streams)
        except CameraRuntimeError as err:
            self._end(err)
        except Exception as err:  # an unexpected failure ends the stream visibly, never silently
            _LOGGER.exception("%s: stream thread failed", self.spec.label)
            self._end(SourceUnavailableError(f"{self.spec.label}: {error_reason(err)}"))
        finally:
            if self._items is None:
                self._close_container()
            self._opened.set()

    def _close_container(self) -> None:
        """Close the open container, if any. The reader's decoder is an object of its own:
        it outlives the container (the frames already queued still decode)."""
        with self._container_lock:
            container, self._container = self._container, None
            if container is not None:
                with contextlib.suppress(av.FFmpegError, OSError):
                    container.close()

    def _end(self, err: CameraRuntimeError) -> None:
        if not self._opened.is_set():
            self._final = err  # open() raises it
        self.mailbox.put(err, final=True)

    def _open_container(self) -> Any:
        spec = self.spec
        limit = spec.timeout[0] if spec.timeout else None
        started = time.monotonic()
        try:
            return av.open(
                spec.target,
                mode="r",
                format=spec.format,
                options=dict(spec.options),
                timeout=spec.timeout,
            )
        except (av.FFmpegError, OSError, ValueError) as err:
            # Some demuxers (RTSP) report the timeout's interruption as bad data: go by the clock.
            timed_out = limit is not None and time.monotonic() - started >= limit
            unanswered = isinstance(err, av.error.ExitError) or timed_out
            reason = f"no answer within {limit} s" if unanswered else error_reason(err)
            # `from None`: FFmpeg's own message repeats the URL, credentials included.
            raise spec.unavailable(
                f"cannot open {spec.label}: {reason}",
                unreachable=unanswered or is_network_failure(err),
            ) from None

    def _video_stream(self, container: Any) -> Any:
        if not container.streams.video:
            raise SourceUnavailableError(f"cannot open {self.spec.label}: it has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_count = DECODE_THREADS
        if self.spec.fast_decode:
            ctx.options = dict(FAST_DECODE)  # before the first packet opens the decoder
        return stream

    def _step(self) -> float:
        """The nominal frame interval (s): for frames and packets without a timestamp."""
        info = self._info
        return 1.0 / info.fps if info is not None and info.fps > 0 else 0.04

    def _packets(self, container: Any, streams: list[Any]) -> Iterator[Any]:
        """Packets of ``streams`` until the input ends; corrupt ones are skipped.

        Ends after FFmpeg's flush packets, which drain the decoder. Raises
        ``SourceUnavailableError`` when the input fails or goes quiet past the read timeout.
        """
        label = self.spec.label
        errors = 0
        while True:
            try:
                for packet in container.demux(*streams):
                    errors = 0
                    yield packet
                return
            except av.error.ExitError:
                limit = self.spec.timeout[1] if self.spec.timeout else "?"
                raise self.spec.unavailable(
                    f"{label}: no data for {limit} s", unreachable=True
                ) from None
            except av.error.InvalidDataError:
                errors += 1  # the demuxer resynchronises on the next call
                if errors > MAX_CONSECUTIVE_ERRORS:
                    raise SourceUnavailableError(f"{label}: the data is corrupt") from None
            except (av.FFmpegError, OSError) as err:
                raise self.spec.unavailable(
                    f"{label}: {error_reason(err)}", unreachable=is_network_failure(err)
                ) from None

    def _hear(self, packet: Any) -> None:
        """Measure an audio packet's level; a broken one is skipped (and said once)."""
        try:
            frames = self._audio.decode(packet)
        except av.FFmpegError as err:
            self._audio_errors += 1
            if self._audio_errors == 1:
                _LOGGER.warning("%s: undecodable audio: %s", self.spec.label, error_reason(err))
            return
        for frame in frames:
            media = frame.time if frame.time is not None else 0.0
            self.audio_levels.append(audio_level(frame, float(media)))

    def _pump(self, container: Any, streams: list[Any]) -> None:
        """Post the packets to the mailbox until the end, an error, or ``close()``."""
        mailbox = self.mailbox
        for item in self._produce(container, streams):
            if isinstance(item, Rewind):
                # The reader seeks back (``_rewind``) once it has decoded everything before.
                self._rewound = False
                if not mailbox.put(REWIND) or mailbox.wait_for(lambda: self._rewound):
                    return
            elif not mailbox.put(item):
                return

    def _produce(self, container: Any, streams: list[Any]) -> Iterator[QueuedPacket | Rewind]:
        """Demux and pace packets until the end, an error, or ``close()``; measure the audio
        track's packets on the way. A looping file's end is ``REWIND``: whoever takes it seeks
        the container back (``_rewind``) before taking the next item."""
        stream = streams[0]
        audio_index = self._audio_index
        spec = self.spec
        packet_times = _Timeline(self._step())
        seconds_per_tick = float(stream.time_base)  # Fraction arithmetic per packet is dear
        pace_origin: float | None = None
        mailbox = self.mailbox
        edge = self._edge
        monotonic, wall = time.monotonic, time.time
        while True:
            for packet in self._packets(container, streams):
                if packet.stream_index == audio_index:
                    if packet.size:
                        self._hear(packet)
                    continue
                now = monotonic()
                if spec.realtime and packet.size:
                    # Pace like a live camera: the packet "arrives" at its time.
                    media = packet.dts if packet.dts is not None else packet.pts
                    offset = packet_times.at(
                        media * seconds_per_tick if media is not None else None
                    )
                    pace_origin = now - offset if pace_origin is None else pace_origin
                    delay = pace_origin + offset - now
                    # No wait (and no lock) when the packet is already due: the common case
                    # for a channel that fell behind, where every microsecond counts.
                    if delay > 0:
                        if mailbox.sleep(delay):
                            return
                        now = monotonic()
                elif edge is not None and packet.size:
                    media = packet.dts if packet.dts is not None else packet.pts
                    offset = packet_times.at(
                        media * seconds_per_tick if media is not None else None
                    )
                    if not edge.keep(now, offset, packet.is_keyframe):
                        self._shed_gap = True  # the reader drops what its decoder holds
                        continue
                yield QueuedPacket(packet, now, wall(), packet.is_keyframe)
            if mailbox.closed:
                return
            if not spec.finite:
                raise SourceUnavailableError(f"{spec.label}: the stream ended")
            if not spec.loop:
                raise SourceEndedError(f"{spec.label}: end of file")
            yield REWIND
            packet_times.next_pass()


class AvSource(Source):
    """Base of the PyAV-backed sources; a subclass only says what to open (``open_spec``).

    ``open()`` may be called again after ``close()`` or after the source dropped: each open
    starts a fresh stream thread. Pictures are Y/U/V views into decoder buffers (``Frame``).
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._lock = threading.Lock()
        self._stream: _StreamThread | None = None
        self._listen = False
        self._inline = False
        self._shed = False  # inline and decoded: a live stream sheds what a reader behind misses

    @abstractmethod
    def open_spec(self) -> OpenSpec:
        """What to open, from the options; may raise ``SourceUnavailableError`` early."""

    def open(self) -> StreamInfo:
        self.close()
        spec = self.open_spec()
        stream = _StreamThread(spec, audio=self._listen, inline=self._inline, shed=self._shed)
        with self._lock:
            self._stream = stream
        return stream.start()

    PACKETS: ClassVar[bool] = True
    AUDIO: ClassVar[bool] = True

    def listen_audio(self) -> None:
        self._listen = True

    def read_inline(self, *, decoded: bool = False) -> None:
        self._inline = True
        self._shed = decoded

    def audio_levels(self) -> list[AudioLevel]:
        stream = self._stream
        if stream is None or not stream.audio_levels:
            return []
        levels = stream.audio_levels
        return [levels.popleft() for _ in range(len(levels))]

    def _open_stream(self) -> _StreamThread:
        stream = self._stream
        if stream is None:
            raise SourceUnavailableError(f"{self.describe()} is not open")
        return stream

    def read(self) -> Frame:
        return self._open_stream().read()

    def read_packet(self) -> Packet:
        return self._open_stream().read_packet()

    def decode(self, packet: Packet) -> list[Frame]:
        return self._open_stream().decode(packet)

    def close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()

    @property
    def dropped_frames(self) -> int:
        """Frames dropped since ``open()`` because ``read()`` fell behind (live sources only)."""
        stream = self._stream
        return stream.dropped_frames if stream is not None else 0
