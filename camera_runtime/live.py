"""Live view: one JPEG encode per frame, shared by every viewer, and none while nobody watches."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Callable

import cv2
import numpy as np

from .exceptions import InvalidValueError, NoFrameError
from .model import Frame

_LOGGER = logging.getLogger(__name__)

JPEG_QUALITY = 80


def encode_jpeg(
    frame: Frame, quality: int = JPEG_QUALITY, size: tuple[int, int] | None = None
) -> bytes:
    """YUV 4:2:0 planes -> JPEG bytes (runs off the event loop: ~5 ms at 1080p), resized to
    ``size`` (width, height) with OpenCV's area filter when given (a downscale: the filter
    averages every source pixel, so a thumbnail does not alias)."""
    bgr = cv2.cvtColor(frame.i420(), cv2.COLOR_YUV2BGR_I420)
    return encode_bgr_jpeg(bgr, quality, size)


def encode_bgr_jpeg(
    bgr: cv2.typing.MatLike, quality: int = JPEG_QUALITY, size: tuple[int, int] | None = None
) -> bytes:
    """A BGR picture -> JPEG bytes, resized to ``size`` as ``encode_jpeg`` does."""
    height, width = bgr.shape[:2]
    if size is not None and size != (width, height):
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV only fails on empty pictures
        raise ValueError("JPEG encoding failed")
    return np.asarray(buf).tobytes()


#: The widest and tallest picture a snapshot may ask for: JPEG's own limit.
MAX_PICTURE_SIDE = 65535


def picture_size(
    source: tuple[int, int], width: int | None, height: int | None
) -> tuple[int, int] | None:
    """The size (width, height) of a picture asked for at ``width`` and/or ``height`` from a
    ``source`` picture; ``None`` when neither is asked (the full size). With one of the two,
    the other keeps the source's aspect ratio. Each must be a positive integer no larger than
    the source's (pictures are made smaller, never larger): ``InvalidValueError`` otherwise."""
    if width is None and height is None:
        return None
    source_width, source_height = source
    for name, value, limit in (("width", width, source_width), ("height", height, source_height)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise InvalidValueError(
                f"{name!r} must be an integer from 1 to the picture's {name} ({limit}), "
                f"got {value!r}"
            )
    if width is None:
        assert height is not None
        width = max(1, round(source_width * height / source_height))
    elif height is None:
        height = max(1, round(source_height * width / source_width))
    return width, height


class FrameSlot:
    """The latest frame of a channel, handed from the worker thread to whoever waits for it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.frame: Frame | None = None
        self.seq = 0
        #: Threads in ``wait_newer`` (under the lock): ``put`` notifies only when one waits,
        #: as ``Condition.notify_all`` runs a page of Python even with nobody to wake, and
        #: ``put`` runs for every picture of every channel, mostly with nobody watching.
        self._waiting = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            self.frame = frame
            self.seq += 1
            if self._waiting:
                self._cond.notify_all()

    def wait_newer(self, seq: int, timeout: float) -> tuple[int, Frame | None]:
        """Block until a frame newer than ``seq`` arrives (or ``timeout``); returns (seq, frame)."""
        with self._cond:
            self._waiting += 1
            try:
                self._cond.wait_for(lambda: self.seq > seq, timeout)
            finally:
                self._waiting -= 1
            return self.seq, self.frame

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class LiveView:
    """Encodes the channel's frames to JPEG while at least one viewer is attached.

    One encoder thread per channel runs only while there are viewers; it encodes each new frame
    once and publishes the bytes to every viewer. A slow viewer skips frames rather than
    queueing them: it always gets the newest JPEG.
    """

    def __init__(self, slot: FrameSlot, name: str) -> None:
        self._slot = slot
        self._name = name
        self._viewers = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._jpeg: bytes | None = None
        self._jpeg_seq = 0
        self._waiters: set[Callable[[], None]] = set()
        self._closed = False
        self.frames_encoded = 0

    @property
    def viewers(self) -> int:
        return self._viewers

    def _encode_loop(self) -> None:
        seq = self._slot.seq - 1 if self._slot.frame is not None else self._slot.seq
        while True:
            with self._lock:
                if self._viewers == 0 or self._closed:
                    self._thread = None
                    return
            new_seq, frame = self._slot.wait_newer(seq, timeout=0.5)
            if frame is None or new_seq == seq:
                continue
            seq = new_seq
            try:
                jpeg = encode_jpeg(frame)
            except Exception:
                _LOGGER.exception("%s: live view encoding failed", self._name)
                continue
            self.frames_encoded += 1
            with self._lock:
                self._jpeg, self._jpeg_seq = jpeg, seq
                waiters = list(self._waiters)
            for wake in waiters:
                wake()

    def open(self) -> None:
        """Accept viewers again (a channel that starts after a stop)."""
        with self._lock:
            self._closed = False

    def close(self) -> None:
        """The channel stopped: every stream ends, the encoder thread exits."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiters)
        for wake in waiters:
            wake()
        self._slot.wake()

    def _attach(self) -> None:
        with self._lock:
            self._viewers += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._encode_loop, name=f"live-{self._name}", daemon=True
                )
                self._thread.start()

    def _detach(self) -> None:
        with self._lock:
            self._viewers -= 1
        self._slot.wake()

    async def stream(self) -> AsyncGenerator[bytes]:
        """Yield the newest JPEG each time a new one is ready, for as long as the caller reads."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(ready.set)

        with self._lock:
            self._waiters.add(wake)
        self._attach()
        last = 0
        try:
            while True:
                await ready.wait()
                ready.clear()
                with self._lock:
                    if self._closed:
                        return
                    jpeg, seq = self._jpeg, self._jpeg_seq
                if jpeg is not None and seq != last:
                    last = seq
                    yield jpeg
        finally:
            with self._lock:
                self._waiters.discard(wake)
            self._detach()

    def cached_jpeg(self) -> bytes | None:
        """The JPEG of the current frame, if the live view already encoded it."""
        with self._lock:
            if self._jpeg is not None and self._jpeg_seq == self._slot.seq:
                return self._jpeg
        return None

    async def snapshot(
        self, width: int | None = None, height: int | None = None, quality: int = JPEG_QUALITY
    ) -> bytes:
        """JPEG of the newest frame, at full size or resized to ``width`` and/or ``height``
        (``picture_size``: ``InvalidValueError`` for a size it refuses), at ``quality``
        (1-100). At full size and the default quality the live view's encode when it has
        one; otherwise one encode (and resize) off the event loop. ``NoFrameError`` before
        the first picture."""
        if width is None and height is None and quality == JPEG_QUALITY:
            jpeg = self.cached_jpeg()
            if jpeg is not None:
                return jpeg
        frame = self._slot.frame
        if frame is None:
            raise NoFrameError(f"channel {self._name!r} has no picture yet")
        size = picture_size((frame.width, frame.height), width, height)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, encode_jpeg, frame, quality, size)
