"""One channel's lifecycle: its worker thread, the source's (re)connection with backoff, its
state and video loss, and its status with the capabilities every face is built from.

Per frame, on the worker thread: the source's frame goes through the channel's image stages
(``stages.StageChain``: rotate, privacy mask, OSD...), then to the live view's slot (live view
and snapshots) and to the channel's detectors (``detection.DetectorSet``). The per-channel media
pipeline (encoders, recording) plugs in beside the detectors, in ``_on_frame``.
PyAV and OpenCV release the GIL while they work, so channels run in parallel in one process.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from .capabilities import Control, EventTypeInfo, button, switch
from .config import ChannelConfig, DetectorConfig, StageConfig
from .detection import DetectorSet
from .exceptions import (
    CameraRuntimeError,
    NotFoundError,
    SourceEndedError,
    SourceUnavailableError,
)
from .interfaces import Source
from .live import FrameSlot, LiveView
from .model import ChannelStatus, Event, EventPhase, EventUpdate, Frame, StreamInfo
from .registry import PluginRegistry
from .stages import StageChain

_LOGGER = logging.getLogger(__name__)

#: Reconnect backoff: 1 s, doubling, capped at 30 s.
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0

#: What every channel offers, whatever its plugins: the video loss exception, the arming
#: switch and the capture button.
VIDEO_LOSS = EventTypeInfo("video_loss", "Video loss", device_class="problem", exception=True)
ARMING = switch("arming", "Arming", sets="armed", icon="mdi:shield-check")
CAPTURE = button("capture", "Capture picture", sets="capture", icon="mdi:camera-iris")

#: Keys no declared control may take: the entities every channel has (camera, frame rate,
#: state, events) and the levels of its MQTT topics.
RESERVED_KEYS = frozenset({"snapshot", "fps", "state", "events", "status", "availability"})

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


def jittered(seconds: float, draw: Callable[[], float] = random.random) -> float:
    """``seconds`` give or take 20 %: cameras that dropped together (a switch rebooted) do
    not all reconnect in the same instant, again and again."""
    return seconds * (0.8 + 0.4 * draw())


@dataclasses.dataclass(frozen=True, slots=True)
class BoundControl:
    """A control as a channel offers it: who owns it (the kind of the plugin that declared it,
    or ``None`` for the channel itself) and at which extension point (``detector`` or
    ``image_stage``), the declaration, and its current value (``None`` for a button)."""

    owner: str | None
    control: Control
    value: Any
    point: str = "detector"


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
        self.detection = DetectorSet(
            config.id,
            config.detectors,
            registry,
            detect_width=config.detect_width,
            detect_fps=config.detect_fps,
            armed=lambda: self._armed,
            send=self._send,
            notify=self._notify,
        )
        self.image = StageChain(
            config.id,
            config.name,
            config.image,
            registry,
            fps=lambda: self._stream.fps if self._stream is not None else 0.0,
            notify=self._notify,
        )
        self._clashes: set[str] = set()
        self._video_loss: Event | None = None
        self._fps_window: deque[float] = deque(maxlen=50)
        self._armed = True
        self._state = ChannelState.STOPPED
        self._last_error = ""
        self._stream: StreamInfo | None = None
        self.frames = 0
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

    @property
    def detections(self) -> int:
        return self.detection.detections

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
        return self.detection.configs

    def set_detector(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        """Change a detector's enabled flag and/or options (already validated by its schema);
        applied by the worker before the next detection."""
        self.detection.set(kind, enabled=enabled, options=options)

    @property
    def stages(self) -> Mapping[str, StageConfig]:
        return self.image.configs

    def set_stage(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        """Change an image stage's enabled flag and/or options (already validated by its
        schema); applied by the worker before the next frame."""
        self.image.set(kind, enabled=enabled, options=options)

    @property
    def fps(self) -> float:
        window = self._fps_window
        if len(window) < 2 or window[-1] == window[0]:
            return 0.0
        return (len(window) - 1) / (window[-1] - window[0])

    # ----------------------------------------------------------------- capabilities

    def event_types(self) -> list[tuple[str | None, EventTypeInfo]]:
        """``(owner, event type)`` for every event type this channel may raise: its detectors'
        (owned by their kind), then the core's exceptions (owner ``None``)."""
        found: list[tuple[str | None, EventTypeInfo]] = [
            (kind, info)
            for kind, info in self.detection.event_types()
            if info.name != VIDEO_LOSS.name
        ]
        return [*found, (None, VIDEO_LOSS)]

    def controls(self) -> dict[str, BoundControl]:
        """Every control of the channel by key: the channel's own, its detectors', then its
        image stages'.

        A control whose key another control, an event type or a core entity already has is
        left out (its entity and topics would collide), with one warning per channel.
        """
        bound = {
            ARMING.key: BoundControl(None, ARMING, self.armed),
            CAPTURE.key: BoundControl(None, CAPTURE, None),
        }
        taken = RESERVED_KEYS | {info.name for _, info in self.event_types()}
        declared = [("detector", *c) for c in self.detection.controls()]
        declared += [("image_stage", *c) for c in self.image.controls()]
        for point, kind, control, value in declared:
            if control.key in bound or control.key in taken:
                if control.key not in self._clashes:
                    self._clashes.add(control.key)
                    _LOGGER.warning(
                        "%s: control %r of %s %s left out: the key is taken",
                        self.id,
                        control.key,
                        point.replace("_", " "),
                        kind,
                    )
                continue
            bound[control.key] = BoundControl(kind, control, value, point)
        return bound

    def control(self, key: str) -> BoundControl:
        found = self.controls().get(key)
        if found is None:
            raise NotFoundError(f"channel {self.id!r} has no control {key!r}", "control_not_found")
        return found

    def status(self) -> ChannelStatus:
        info = self.stream
        # The size of the picture everything downstream sees (a stage may rotate it).
        width, height = self.image.output_size(info.width, info.height) if info else (None, None)
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state.value,
            "armed": self.armed,
            "source": self.config.source_type,
            "width": width,
            "height": height,
            # Only a running channel has a frame rate (an ended file shows none, not its last).
            "fps": round(self.fps, 2) if self.state is ChannelState.ONLINE else 0.0,
            "frames": self.frames,
            "error": self.last_error,
            "detectors": self.detection.status(),
            "image": self.image.status(),
            "viewers": self.live.viewers,
            "event_types": [
                {**info.as_dict(), "detector": owner} for owner, info in self.event_types()
            ],
            "controls": [
                {
                    **b.control.as_dict(),
                    "detector": b.owner if b.point == "detector" else None,
                    "image_stage": b.owner if b.point == "image_stage" else None,
                    "sets": b.control.sets,
                    "value": b.value,
                }
                for b in self.controls().values()
            ],
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
                self.detection.start(self.stream.width, self.stream.height)
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
                self.detection.finish()
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
            if self._stop.wait(jittered(backoff)):
                break
            backoff = next_backoff(backoff)
        self.detection.finish()
        self._end_video_loss(recovered=False, demux_time=None)  # stopped while lost

    def _lost(self, reason: str) -> None:
        self.last_error = reason
        self.detection.finish()
        self.state = ChannelState.OFFLINE
        if self._video_loss is None:
            _LOGGER.warning("%s: video loss: %s", self.id, reason)
            self._video_loss = Event(self.id, VIDEO_LOSS.name, time.time(), data={"reason": reason})
            self._send(EventPhase.NEW, self._video_loss, None)

    def _recovered(self, frame: Frame) -> None:
        self.last_error = ""
        if self._video_loss is not None:
            _LOGGER.info("%s: video recovered", self.id)
        self._end_video_loss(recovered=True, demux_time=frame.demux_time)

    def _end_video_loss(self, *, recovered: bool, demux_time: float | None) -> None:
        """End the open video loss event, if any, saying whether the video came back."""
        event, self._video_loss = self._video_loss, None
        if event is not None:
            event.end = time.time()
            event.data = {**event.data, "recovered": recovered}
            self._send(EventPhase.END, event, demux_time)

    def _on_frame(self, frame: Frame) -> None:
        frame = self.image.process(frame)
        self.frames += 1
        self.slot.put(frame)
        self._fps_window.append(frame.demux_time)
        self.detection.on_frame(frame)

    def _send(self, phase: EventPhase, event: Event, demux_time: float | None) -> None:
        snapshot = dataclasses.replace(event, data=dict(event.data))
        self._emit(EventUpdate(phase, snapshot, demux_time))


__all__ = [
    "ARMING",
    "CAPTURE",
    "RESERVED_KEYS",
    "VIDEO_LOSS",
    "BoundControl",
    "Channel",
    "ChannelState",
    "jittered",
    "next_backoff",
]
