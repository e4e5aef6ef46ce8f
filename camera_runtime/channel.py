"""One channel's lifecycle: its feeds (one per stream role, ``feed.py``), its state and video
loss, and its status with the capabilities every face is built from.

Packets fan out unchanged per stream role (``packets``: passthrough streams, recording).
Per decoded frame, on the decoding feed's thread: the frame goes through the channel's image
stages (``stages.StageChain``: rotate, privacy mask, OSD...); the boxes of the active detection
events are drawn on a copy when display info is on (``display_info.py``), which goes to the
live view's slot (live view and snapshots) and the encoded streams; the detectors
(``detection.DetectorSet``) get the picture without the boxes. Encoders
plug in beside the detectors, in ``_on_frame``. PyAV and OpenCV release the GIL while they
work, so channels run in parallel in one process.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Protocol

from .capabilities import Control, EventTypeInfo, button, switch
from .channel_streams import ChannelStreams
from .config import ChannelConfig, DetectorConfig, StageConfig, cropping_as_data
from .detection import DetectorSet, detection_sensors
from .display_info import DisplayInfo
from .exceptions import NoFrameError, NotFoundError
from .feed import (
    BACKOFF_MAX,
    BACKOFF_START,
    MAIN,
    SUB,
    Feed,
    FeedSpec,
    PacketFanout,
    jittered,
    next_backoff,
)
from .live import FrameSlot, LiveView, encode_jpeg
from .model import AudioLevel, ChannelStatus, Event, EventPhase, EventUpdate, Frame, StreamInfo
from .ptz.controls import POINT as PTZ_POINT
from .ptz.controls import declared as ptz_controls
from .ptz.motion import PtzMotion
from .registry import PluginRegistry
from .stages import StageChain

_LOGGER = logging.getLogger(__name__)

#: What every channel offers, whatever its plugins: the video loss exception, the arming
#: switch and the capture button.
VIDEO_LOSS = EventTypeInfo("video_loss", "Video loss", device_class="problem", exception=True)
#: The manual's "network disconnected" exception, for channels whose sources reach their camera
#: over the network (``Source.NETWORK``): raised while one cannot reach it at all, beside the
#: video loss, and ended when it delivers again.
NETWORK_DISCONNECTED = EventTypeInfo(
    "network_disconnected", "Network disconnected", device_class="problem", exception=True
)
ARMING = switch("arming", "Arming", sets="armed", icon="mdi:shield-check")
CAPTURE = button("capture", "Capture picture", sets="capture", icon="mdi:camera-iris")
#: A recording channel's (``record.enabled``): manual recording on and off, and the
#: record-clip command (the linkage action "record": from 5 s before, 30 s long).
MANUAL_RECORD = switch(
    "manual_record", "Manual recording", sets="manual_record", icon="mdi:record-rec"
)
#: The manual's "display info on stream" (4.2): detection boxes on the live view, snapshots and
#: encoded streams (``display_info.py``).
DISPLAY_INFO = switch(
    "display_info",
    "Display info on stream",
    sets="display_info",
    icon="mdi:selection-search",
    config=True,
)
RECORD_CLIP = button("record_clip", "Record clip", sets="record_clip", icon="mdi:movie-open-plus")

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


@dataclasses.dataclass(frozen=True, slots=True)
class BoundControl:
    """A control as a channel offers it: who owns it (the kind of the plugin that declared it,
    or ``None`` for the channel itself) and at which extension point (``detector`` or
    ``image_stage``), the declaration, and its current value (``None`` for a button)."""

    owner: str | None
    control: Control
    value: Any
    point: str = "detector"


def core_controls(
    armed: bool, display_info: bool, manual_recording: Callable[[], bool] | None
) -> dict[str, BoundControl]:
    """The controls every channel has, first in its list: arming, capture, display info, and
    the recording switches while it records (``manual_recording``, set by the runtime)."""
    bound = {
        ARMING.key: BoundControl(None, ARMING, armed),
        CAPTURE.key: BoundControl(None, CAPTURE, None),
        DISPLAY_INFO.key: BoundControl(None, DISPLAY_INFO, display_info),
    }
    if manual_recording is not None:
        bound[MANUAL_RECORD.key] = BoundControl(None, MANUAL_RECORD, manual_recording())
        bound[RECORD_CLIP.key] = BoundControl(None, RECORD_CLIP, None)
    return bound


def controls_as_data(bound: Mapping[str, BoundControl]) -> list[dict[str, Any]]:
    """A channel's controls as its status lists them."""
    return [
        {
            **b.control.as_dict(),
            "detector": b.owner if b.point == "detector" else None,
            "image_stage": b.owner if b.point == "image_stage" else None,
            "sets": b.control.sets,
            "value": b.value,
        }
        for b in bound.values()
    ]


class DeviceFace(Protocol):
    """What a device a channel fronts adds to the channel's controls and status (a stitched
    device's, on its first output channel: ``stitching/controls.py``). Its controls are bound
    at extension point ``point`` with owner ``owner``; its status is the status's
    ``stitching``."""

    point: str
    owner: str

    def controls(self) -> list[tuple[Control, Any]]: ...

    def status(self) -> dict[str, Any]: ...


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
        self._feeds: list[Feed] = []
        self._feed_lock = threading.Lock()
        self._running_feeds = 0
        self._online: set[str] = set()
        self._lost_roles: dict[str, str] = {}
        roles = [MAIN, SUB] if config.substream_type else [MAIN]
        #: Each stream role's packets, unchanged: what passthrough streams and recording take.
        self.packets = {role: PacketFanout(role) for role in roles}
        self.detection = DetectorSet(
            config.id,
            config.detectors,
            registry,
            detect_width=config.detect_width,
            detect_fps=config.detect_fps,
            armed=lambda: self._armed,
            send=self._send,
            notify=self._notify,
            process=config.detect_process,
        )
        #: The detection boxes drawn on what users see (never on what the detectors get).
        self.display = DisplayInfo(config.display_info)
        #: While display info holds the updates of the picture being detected: the detecting
        #: thread's id and the updates (``_on_frame``).
        self._held: tuple[int, list[EventUpdate]] | None = None
        #: The ePTZ window (``ptz/``): a step of the image chain, after the privacy mask.
        self.ptz = PtzMotion(config.ptz, self._notify)
        self.image = StageChain(
            config.id,
            config.name,
            config.image,
            registry,
            fps=lambda: self._stream.fps if self._stream is not None else 0.0,
            notify=self._notify,
            steps=[self.ptz],
        )
        #: The streams clients get (passed through or encoded from the pictures; encoded while
        #: the ePTZ window shows part of the picture). Recording keeps the whole picture.
        self.served = ChannelStreams(
            config,
            registry,
            self.packets,
            lambda: self.image.active or self.ptz.active or self.display.enabled,
            self._picture_fps,
        )
        self._clashes: set[str] = set()
        self._video_loss: Event | None = None
        self._network_down: Event | None = None
        #: The roles whose camera cannot be reached (``NetworkDisconnectedError``).
        self._unreachable: set[str] = set()
        self._fps_window: deque[float] = deque(maxlen=50)
        self._armed = True
        self._state = ChannelState.STOPPED
        self._last_error = ""
        self._stream: StreamInfo | None = None
        self.frames = 0
        #: The newest decoded picture before the image stages: what a preview of a stage
        #: change starts from (``StageChain.preview``). Read-only, kept as the slot keeps its.
        self.unstaged: Frame | None = None
        self.slot = FrameSlot()
        self.live = LiveView(self.slot, self.id)
        #: Whether manual recording is on, while the channel records (set by the runtime's
        #: recordings): its controls are declared only then.
        self.manual_recording: Callable[[], bool] | None = None
        #: Whether a segment is being written now (the record state), while it records.
        self.recording_state: Callable[[], bool] | None = None
        #: The readings the channel shows (its skipped detections and the detection process's
        #: restarts with ``detect.process``; its record state, while it records, added by the
        #: runtime's recordings), each with what reads its value.
        self.sensors = detection_sensors(
            config, lambda: self.detections_skipped, lambda: self.detection_restarts
        )
        #: What a device this channel fronts adds (set by the runtime: a stitched device's
        #: controls and calibration state, on its first output channel).
        self.device_face: DeviceFace | None = None

    # ----------------------------------------------------------------- observed status

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed(self.id)

    def notify(self) -> None:
        """Tell the faces the status changed (state kept outside the channel: recording)."""
        self._notify()

    @property
    def display_info(self) -> bool:
        """Whether the detection boxes are drawn (manual 4.2). Switched on, the main stream is
        encoded from the pictures (its passthrough clients' streams end; they reconnect)."""
        return self.display.enabled

    @display_info.setter
    def display_info(self, value: bool) -> None:
        if value != self.display.enabled:
            self.display.enabled = value
            self._notify()

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

    @property
    def detections_skipped(self) -> int:
        """Pictures not detected on: the detection process was behind, starting or gone
        (``detect.process``)."""
        return self.detection.skipped

    @property
    def detection_restarts(self) -> int:
        """Restarts of the detection process the detectors run in (``detect.process``)."""
        return self.detection.restarts

    @property
    def has_picture(self) -> bool:
        """Whether the live view holds a picture (snapshots can be taken)."""
        return self.slot.frame is not None

    # ----------------------------------------------------------------- control (any thread)

    def start(self) -> None:
        self._stop.clear()
        self.detection.prepare()
        self.live.open()
        self.state = ChannelState.STARTING
        self._online.clear()
        self._feeds = [
            Feed(self.id, spec, self.packets[spec.role], self, self._stop)
            for spec in self._feed_specs()
        ]
        self._running_feeds = len(self._feeds)
        for feed in self._feeds:
            feed.thread.start()

    def _feed_specs(self) -> list[FeedSpec]:
        """The main stream's feed, and the sub-stream's when configured: the one that decodes
        is the sub-stream's when there is one."""
        config, registry = self.config, self._registry
        main = registry.source(config.source_type)
        # The decoding feed also measures its audio track when a detector listens to it.
        listens = any(registry.detector(kind).AUDIO for kind in config.detectors)
        if config.substream_type is None:
            audio = listens and main.AUDIO
            return [FeedSpec(MAIN, main, config.source_options, decode=True, audio=audio)]
        sub = registry.source(config.substream_type)
        return [
            FeedSpec(MAIN, main, config.source_options, decode=False),
            FeedSpec(
                SUB, sub, config.substream_options or {}, decode=True, audio=listens and sub.AUDIO
            ),
        ]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the feeds and wait for them; blocking, so hosts call it off the event loop."""
        self._stop.set()
        for feed in self._feeds:
            feed.close_source()
        self.live.close()  # live views end: a viewer must not wait forever on a dead channel
        self.served.end()
        deadline = time.monotonic() + timeout
        for feed in self._feeds:
            feed.thread.join(max(0.0, deadline - time.monotonic()))
        self._feeds = []
        self.state = ChannelState.STOPPED

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the feeds to finish (a finite source ended, or ``stop``); True if they did."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for feed in list(self._feeds):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            feed.thread.join(left)
            if feed.thread.is_alive():
                return False
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

    def preview(self, kind: str, enabled: bool | None, options: Mapping[str, Any] | None) -> bytes:
        """JPEG of the newest picture as it would be with image stage ``kind`` changed
        (options already validated): ``StageChain.preview``, nothing live changes. Blocking;
        ``NoFrameError`` before the first picture."""
        frame = self.unstaged
        if frame is None:
            raise NoFrameError(f"channel {self.id!r} has no picture yet")
        return encode_jpeg(self.image.preview(frame, kind, enabled=enabled, options=options))

    @property
    def target_cropping(self) -> Mapping[str, Any]:
        """Target cropping in force (manual 4.10; validated, the config's until changed)."""
        return self.served.cropping

    def set_target_cropping(self, cropping: Mapping[str, Any]) -> None:
        """New target cropping (already validated): the third stream's window from the next
        picture (a new size restarts its encoder: ``ChannelStreams.set_cropping``)."""
        if cropping != self.served.cropping:
            self.served.set_cropping(cropping)
            self._notify()

    @property
    def fps(self) -> float:
        window = self._fps_window
        if len(window) < 2 or window[-1] == window[0]:
            return 0.0
        return (len(window) - 1) / (window[-1] - window[0])

    # ----------------------------------------------------------------- capabilities

    def event_types(self) -> list[tuple[str | None, EventTypeInfo]]:
        """``(owner, event type)`` for every event type this channel may raise: its detectors'
        (owned by their kind), then the core's exceptions (owner ``None``): video loss, and
        network disconnected when a source reaches its camera over the network."""
        core = [VIDEO_LOSS]
        if any(spec.source.NETWORK for spec in self._feed_specs()):
            core.append(NETWORK_DISCONNECTED)
        names = {info.name for info in core}
        found = [(kind, info) for kind, info in self.detection.event_types()]
        return [
            *((kind, info) for kind, info in found if info.name not in names),
            *((None, info) for info in core),
        ]

    def controls(self) -> dict[str, BoundControl]:
        """Every control of the channel by key: the channel's own, its detectors', then its
        image stages'.

        A control whose key another control, an event type or a core entity already has is
        left out (its entity and topics would collide), with one warning per channel.
        """
        bound = core_controls(self.armed, self.display_info, self.manual_recording)
        taken = RESERVED_KEYS | {info.name for _, info in self.event_types()}
        declared = [("detector", *c) for c in self.detection.controls()]
        declared += [("image_stage", *c) for c in self.image.controls()]
        if self.ptz.enabled:
            found = ptz_controls(self.ptz.catalogue(), self.ptz.preset)
            declared += [(PTZ_POINT, PTZ_POINT, control, value) for control, value in found]
        face = self.device_face
        if face is not None:
            declared += [(face.point, face.owner, c, value) for c, value in face.controls()]
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
            "streams": self.served.status(),
            "target_cropping": cropping_as_data(self.served.cropping),
            "ptz": self.ptz.status() if self.ptz.enabled else None,
            "event_types": [
                {
                    **info.as_dict(),
                    "detector": owner,
                    "rules": self.detection.rules(owner) if owner else [],
                }
                for owner, info in self.event_types()
            ],
            "controls": controls_as_data(self.controls()),
            "recording": self.recording_state() if self.recording_state is not None else None,
            "sensors": [info.as_dict(read()) for info, read in self.sensors],
            "stitching": self.device_face.status() if self.device_face else None,
        }

    # ----------------------------------------------------------------- feeds (their threads)

    def _decoding_role(self) -> str:
        return SUB if SUB in self.packets else MAIN

    def opened(self, role: str, info: StreamInfo) -> None:
        if role == self._decoding_role():
            self.detection.start(info.width, info.height)
        if role == MAIN:
            self.stream = info
        else:
            self._notify()

    def delivered(self, role: str, demux_time: float) -> None:
        with self._feed_lock:
            self._online.add(role)
            self._lost_roles.pop(role, None)
            self._reachable(role, demux_time)
            if self._lost_roles:
                return
            self.last_error = ""
            if self._video_loss is not None:
                _LOGGER.info("%s: video recovered", self.id)
            self._end_video_loss(recovered=True, demux_time=demux_time)
            if self._online == set(self.packets):
                self.state = ChannelState.ONLINE

    def frame(self, frame: Frame) -> None:
        self._on_frame(frame)

    def audio(self, levels: list[AudioLevel]) -> None:
        self.detection.on_audio(levels)

    def lost(self, role: str, reason: str, *, network: bool = False) -> None:
        if role == self._decoding_role():
            self.detection.finish()
        with self._feed_lock:
            self._online.discard(role)
            self._lost_roles[role] = reason
            self.last_error = reason if role == MAIN else f"{role} stream: {reason}"
            self.state = ChannelState.OFFLINE
            if self._video_loss is None:
                _LOGGER.warning("%s: video loss: %s", self.id, self.last_error)
                self._video_loss = Event(
                    self.id, VIDEO_LOSS.name, time.time(), data={"reason": self.last_error}
                )
                self._send(EventPhase.NEW, self._video_loss, None)
            if not network:  # the camera answered, if wrongly: the network is not at fault
                self._reachable(role, None)
            elif role not in self._unreachable:
                self._unreachable.add(role)
                if self._network_down is None:
                    _LOGGER.warning("%s: network disconnected: %s", self.id, self.last_error)
                    data = {"reason": self.last_error, "stream": role}
                    self._network_down = Event(
                        self.id, NETWORK_DISCONNECTED.name, time.time(), data=data
                    )
                    self._send(EventPhase.NEW, self._network_down, None)

    def _reachable(self, role: str, demux_time: float | None) -> None:
        """``role``'s camera answered: the network exception ends once no role is cut off."""
        self._unreachable.discard(role)
        if not self._unreachable:
            self._end_network_down(recovered=True, demux_time=demux_time)

    def ended(self, role: str) -> None:
        """A finite source ended: so has the channel (its other feed stops too)."""
        self.detection.finish()
        self.state = ChannelState.ENDED
        self._stop.set()
        for feed in self._feeds:
            if feed.spec.role != role:
                feed.close_source()

    def exited(self, role: str) -> None:
        """A feed's thread ends; the last one closes what the channel still holds open."""
        with self._feed_lock:
            self._running_feeds -= 1
            if self._running_feeds:
                return
        self.detection.finish()
        self.detection.close()
        self._end_video_loss(recovered=False, demux_time=None)  # stopped while lost
        self._unreachable.clear()
        self._end_network_down(recovered=False, demux_time=None)

    def _end_video_loss(self, *, recovered: bool, demux_time: float | None) -> None:
        """End the open video loss event, if any, saying whether the video came back."""
        event, self._video_loss = self._video_loss, None
        if event is not None:
            event.end = time.time()
            event.data = {**event.data, "recovered": recovered}
            self._send(EventPhase.END, event, demux_time)

    def _end_network_down(self, *, recovered: bool, demux_time: float | None) -> None:
        event, self._network_down = self._network_down, None
        if event is not None:
            if recovered:
                _LOGGER.info("%s: network connection restored", self.id)
            event.end = time.time()
            event.data = {**event.data, "recovered": recovered}
            self._send(EventPhase.END, event, demux_time)

    def _picture_fps(self) -> float:
        """The frame rate of the pictures (the decoding feed's stream, else as measured)."""
        info = self.packets[self._decoding_role()].info
        return info.fps if info is not None and info.fps > 0 else self.fps

    def _on_frame(self, frame: Frame) -> None:
        self.unstaged = frame
        frame = self.image.process(frame)
        self.frames += 1
        self._fps_window.append(frame.demux_time)
        if not self.display.enabled:
            self.slot.put(frame)
            self.served.put(frame)
            self.detection.on_frame(frame)
            return
        # Display info: detection first, on the picture without boxes, so that the boxes of
        # what it finds in this picture are drawn on this picture (not one picture late); the
        # updates it raises go out once that picture is in the slot, so the capture of an
        # event's start (taken when the start reaches the runtime) shows the event's box.
        held: list[EventUpdate] = []
        self._held = (threading.get_ident(), held)
        try:
            self.detection.on_frame(frame)
            shown = self.display.draw(frame)
            self.slot.put(shown)
            self.served.put(shown)
        finally:
            self._held = None
            for update in held:
                self._emit(update)

    def _send(self, phase: EventPhase, event: Event, demux_time: float | None) -> None:
        snapshot = dataclasses.replace(event, data=dict(event.data))
        self.display.observe(phase, snapshot)
        update = EventUpdate(phase, snapshot, demux_time)
        held = self._held
        if held is not None and held[0] == threading.get_ident():
            held[1].append(update)  # raised by this picture's detection: after its put
        else:
            self._emit(update)


__all__ = [
    "ARMING",
    "BACKOFF_MAX",
    "BACKOFF_START",
    "CAPTURE",
    "DISPLAY_INFO",
    "MANUAL_RECORD",
    "NETWORK_DISCONNECTED",
    "RECORD_CLIP",
    "RESERVED_KEYS",
    "VIDEO_LOSS",
    "BoundControl",
    "Channel",
    "ChannelState",
    "jittered",
    "next_backoff",
]
