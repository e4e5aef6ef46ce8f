"""One channel's pipeline: source -> decode (once) -> detectors on a small grey copy -> events,
with the latest frame shared with live view and snapshots.

All of it runs on the channel's own worker thread, off the event loop. PyAV and OpenCV release
the GIL while they work, so channels run in parallel in one process.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from .config import ChannelConfig, DetectorConfig
from .exceptions import (
    CameraRuntimeError,
    NotFoundError,
    SourceEndedError,
    SourceUnavailableError,
)
from .imaging import downscale_luma
from .interfaces import Detector, DetectorContext, Source
from .live import FrameSlot, LiveView
from .model import Event, EventPhase, EventType, EventUpdate, Frame, StreamInfo
from .plugins import PluginRegistry

_LOGGER = logging.getLogger(__name__)

#: Reconnect backoff: 1 s, doubling, capped at 30 s.
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0

Emit = Callable[[EventUpdate], None]
#: Called (from any thread) with the channel's id when its status changed.
Changed = Callable[[str], None]


class ChannelState(StrEnum):
    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"
    ENDED = "ended"
    STOPPED = "stopped"


def next_backoff(seconds: float) -> float:
    """The wait before the next reconnect attempt: doubling, capped at ``BACKOFF_MAX``."""
    return min(seconds * 2, BACKOFF_MAX)


def detect_size(width: int, height: int, detect_width: int) -> tuple[int, int]:
    """Detect resolution: ``detect_width`` wide (never upscaled), aspect kept, even sizes."""
    w = min(detect_width, width)
    h = max(2, round(height * w / width / 2) * 2)
    return w - w % 2, h


class Channel:
    """A running channel. ``emit`` is thread-safe and receives every event update in order."""

    def __init__(
        self,
        config: ChannelConfig,
        registry: PluginRegistry,
        emit: Emit,
        changed: Changed | None = None,
    ) -> None:
        self.config = config
        self.id = config.id
        self.name = config.name
        self._registry = registry
        self._emit = emit
        self._changed = changed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._source: Source | None = None
        self._detectors: dict[str, Detector] = {}
        self._detector_configs: dict[str, DetectorConfig] = dict(config.detectors)
        self._suppressed: set[str] = set()
        self.detector_errors: dict[str, str] = {}
        self._reconfigure: dict[str, DetectorConfig] = {}
        self._lock = threading.Lock()
        self._video_loss: Event | None = None
        self._next_detect = 0.0
        self._fps_window: deque[float] = deque(maxlen=50)
        self._armed = True
        self._state = ChannelState.STOPPED
        self._last_error = ""
        self._stream: StreamInfo | None = None
        self.frames = 0
        self.detections = 0
        self.slot = FrameSlot()
        self.live = LiveView(self.slot, self.id)

    # ----------------------------------------------------------------- observed status

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed(self.id)

    @property
    def armed(self) -> bool:
        """The channel's arming switch: a disarmed channel raises no detection events."""
        return self._armed

    @armed.setter
    def armed(self, value: bool) -> None:
        if value != self._armed:
            self._armed = value
            self._notify()

    @property
    def state(self) -> ChannelState:
        return self._state

    @state.setter
    def state(self, value: ChannelState) -> None:
        if value != self._state:
            self._state = value
            self._notify()

    @property
    def last_error(self) -> str:
        return self._last_error

    @last_error.setter
    def last_error(self, value: str) -> None:
        if value != self._last_error:
            self._last_error = value
            self._notify()

    @property
    def stream(self) -> StreamInfo | None:
        return self._stream

    @stream.setter
    def stream(self, value: StreamInfo | None) -> None:
        if value != self._stream:
            self._stream = value
            self._notify()

    # ----------------------------------------------------------------- control (any thread)

    def start(self) -> None:
        self._stop.clear()
        self.live.open()
        self.state = ChannelState.STARTING
        self._thread = threading.Thread(target=self._run, name=f"channel-{self.id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker and wait for it; blocking, so hosts call it off the event loop."""
        self._stop.set()
        source = self._source
        if source is not None:
            source.close()
        self.live.close()  # live views end: a viewer must not wait forever on a dead channel
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.state = ChannelState.STOPPED

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to finish (a finite source ended, or ``stop``); True if it did."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def detectors(self) -> Mapping[str, DetectorConfig]:
        return self._detector_configs

    def set_detector(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        """Change a detector's enabled flag and/or options (already validated by its schema);
        applied by the worker before the next detection."""
        with self._lock:
            current = self._detector_configs.get(kind)
            if current is None:
                raise NotFoundError(
                    f"channel {self.id!r} has no detector {kind!r}", "detector_not_found"
                )
            updated = dataclasses.replace(
                current,
                enabled=current.enabled if enabled is None else enabled,
                options=current.options if options is None else options,
            )
            if updated == current:
                return  # re-sending the current state must not restart the detector
            self._detector_configs[kind] = updated
            self._reconfigure[kind] = updated
        self._notify()

    @property
    def fps(self) -> float:
        window = self._fps_window
        if len(window) < 2 or window[-1] == window[0]:
            return 0.0
        return (len(window) - 1) / (window[-1] - window[0])

    def status(self) -> dict[str, Any]:
        info = self.stream
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state.value,
            "armed": self.armed,
            "source": self.config.source_type,
            "width": info.width if info else None,
            "height": info.height if info else None,
            "fps": round(self.fps, 2),
            "frames": self.frames,
            "error": self.last_error,
            "detectors": {
                kind: {
                    "enabled": d.enabled,
                    "error": self.detector_errors.get(kind, ""),
                    "options": d.options,
                }
                for kind, d in self._detector_configs.items()
            },
            "viewers": self.live.viewers,
        }

    # ----------------------------------------------------------------- worker thread

    def _run(self) -> None:
        backoff = BACKOFF_START
        source_cls = self._registry.source(self.config.source_type)
        while not self._stop.is_set():
            source = source_cls(self.config.source_options)
            self._source = source
            delivered = False
            try:
                self.stream = source.open()
                self._start_detectors()
                while not self._stop.is_set():
                    frame = source.read()
                    if not delivered:
                        delivered = True
                        backoff = BACKOFF_START
                        self._recovered(frame)
                        self.state = ChannelState.ONLINE
                    self._on_frame(frame)
            except SourceEndedError:
                _LOGGER.info("%s: source %s ended", self.id, source.describe())
                self._finish_detectors()
                self.state = ChannelState.ENDED
                return
            except (SourceUnavailableError, CameraRuntimeError) as err:
                if self._stop.is_set():
                    break
                self._lost(str(err))
            except Exception as err:  # a plugin bug must not kill the channel for good
                if self._stop.is_set():
                    break
                _LOGGER.exception("%s: unexpected error in the pipeline", self.id)
                self._lost(f"internal error: {err!r}")
            finally:
                self._source = None
                source.close()
            if self._stop.wait(backoff):
                break
            backoff = next_backoff(backoff)
        self._finish_detectors()
        if self._video_loss is not None:  # stopped while lost: close the event, not recovered
            event, self._video_loss = self._video_loss, None
            event.end = time.time()
            event.data = {**event.data, "recovered": False}
            self._send(EventPhase.END, event, None)

    def _lost(self, reason: str) -> None:
        self.last_error = reason
        self._finish_detectors()
        self.state = ChannelState.OFFLINE
        if self._video_loss is None:
            _LOGGER.warning("%s: video loss: %s", self.id, reason)
            self._video_loss = Event(
                self.id, EventType.VIDEO_LOSS.value, time.time(), data={"reason": reason}
            )
            self._send(EventPhase.NEW, self._video_loss, None)

    def _recovered(self, frame: Frame) -> None:
        self.last_error = ""
        if self._video_loss is not None:
            _LOGGER.warning("%s: video recovered", self.id)
            event, self._video_loss = self._video_loss, None
            event.end = time.time()
            event.data = {**event.data, "recovered": True}
            self._send(EventPhase.END, event, frame.demux_time)

    def _start_detectors(self) -> None:
        assert self.stream is not None
        w, h = detect_size(self.stream.width, self.stream.height, self.config.detect_width)
        self._context = DetectorContext(self.id, w, h, self.config.detect_fps)
        self._detectors = {}
        with self._lock:
            self._reconfigure.clear()
            configs = dict(self._detector_configs)
        for kind, cfg in configs.items():
            self._build_detector(kind, cfg)

    def _build_detector(self, kind: str, cfg: DetectorConfig) -> None:
        """A detector that cannot work with this stream (e.g. an area too small at the detect
        size) is left out and reported in the status; the video goes on."""
        self._detectors.pop(kind, None)
        had_error = self.detector_errors.pop(kind, None) is not None
        if cfg.enabled:
            try:
                self._detectors[kind] = self._registry.detector(kind)(cfg.options, self._context)
            except CameraRuntimeError as err:
                self.detector_errors[kind] = err.message
                _LOGGER.error("%s: detector %s not started: %s", self.id, kind, err.message)
        if had_error or kind in self.detector_errors:
            self._notify()

    def _finish_detectors(self, kinds: list[str] | None = None) -> None:
        now = time.time()
        for kind in kinds if kinds is not None else list(self._detectors):
            detector = self._detectors.get(kind)
            if detector is not None:
                for phase, event in detector.finish(now):
                    self._dispatch(kind, phase, event, None)

    def _apply_reconfigure(self) -> None:
        with self._lock:
            pending, self._reconfigure = self._reconfigure, {}
        for kind, cfg in pending.items():
            self._finish_detectors([kind])
            self._build_detector(kind, cfg)

    def _on_frame(self, frame: Frame) -> None:
        self.frames += 1
        self.slot.put(frame)
        self._fps_window.append(frame.demux_time)
        if not self._detectors and not self._reconfigure:
            return
        # Detection is paced by stream time, so a file read faster than real time is sampled
        # at the same rate per second of video as a live camera.
        if frame.pts + 1e-6 < self._next_detect:
            return
        interval = 1.0 / self.config.detect_fps
        self._next_detect = (
            self._next_detect + interval
            if frame.pts - self._next_detect < interval
            else frame.pts + interval
        )
        if self._reconfigure:
            self._apply_reconfigure()
        small = downscale_luma(frame.y, self._context.width, self._context.height)
        self.detections += 1
        for kind, detector in self._detectors.items():
            for phase, event in detector.process(small, frame.wall_time):
                self._dispatch(kind, phase, event, frame.demux_time)

    def _dispatch(
        self, kind: str, phase: EventPhase, event: Event, demux_time: float | None
    ) -> None:
        """Apply the channel's arming switch and the detector's arming schedule (manual 8.1):
        an event that starts outside them is not raised at all, nor its updates and end."""
        if phase is EventPhase.NEW:
            schedule = self._detector_configs[kind].arming_schedule
            if not (self.armed and schedule.is_armed(event.start)):
                self._suppressed.add(event.id)
                return
        elif event.id in self._suppressed:
            if phase is EventPhase.END:
                self._suppressed.discard(event.id)
            return
        self._send(phase, event, demux_time)

    def _send(self, phase: EventPhase, event: Event, demux_time: float | None) -> None:
        snapshot = dataclasses.replace(event, data=dict(event.data))
        self._emit(EventUpdate(phase, snapshot, demux_time))
