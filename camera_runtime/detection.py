"""A channel's detectors: building them for a stream, pacing detection, applying changes made
while running, and passing their events through the arming switch and schedules.

Runs on the channel's worker thread, except ``set`` and the read-only views, which any thread
may call (a lock guards the configs they share). With ``detect.process`` the picture detectors
run in the detection process (``detection_process.py``) and their event changes come back on
its reader thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .capabilities import Control, EventTypeInfo, RuleInfo, SensorInfo, option_at
from .config import ChannelConfig, DetectorConfig
from .detection_process import Change, DetectionProcess, Lane
from .exceptions import CameraRuntimeError, DetectionProcessError, NotFoundError
from .imaging import downscale_luma
from .interfaces import Detector, DetectorContext
from .model import AudioLevel, DetectorStatus, Event, EventPhase, Frame, new_event_id
from .registry import PluginRegistry

_LOGGER = logging.getLogger(__name__)

#: Hands an event change on (``demux_time`` of the frame that caused it, or None).
Send = Callable[[EventPhase, Event, float | None], None]


#: The key of an event's data that names the capture of its start (``EventTypeInfo.snapshot``).
SNAPSHOT_KEY = "snapshot"
#: How soon a channel starts the detection process again after it died or would not start (s):
#: a process that dies at once is not started in a loop.
RESTART_DELAY = 5.0

#: A channel's reading while its detectors run in the detection process (``detect.process``):
#: the pictures not detected on because the process was behind (or starting, or gone), so a
#: starved process is seen (MQTT, Home Assistant, the API), not only counted.
DETECTIONS_SKIPPED = SensorInfo(
    "detections_skipped", "Detections skipped", unit="pictures", state_class="total_increasing",
    icon="mdi:image-off-outline",
)  # fmt: skip
#: ... and how many times the detection process its detectors run in had to be started again
#: after it died (one shared by the channels of a process: each of them shows its count), so a
#: detector that crashes it is seen, not only logged.
DETECTION_RESTARTS = SensorInfo(
    "detection_restarts", "Detection process restarts", state_class="total_increasing",
    icon="mdi:restart-alert",
)  # fmt: skip


def detection_sensors(
    config: ChannelConfig, skipped: Callable[[], int], restarts: Callable[[], int]
) -> list[tuple[SensorInfo, Callable[[], Any]]]:
    """The readings a channel declares for its detection (``DETECTIONS_SKIPPED`` and
    ``DETECTION_RESTARTS`` with ``detect.process``), each with what reads its value: the
    same in the runtime's process and for a channel in a worker."""
    if not config.detect_process:
        return []
    return [(DETECTIONS_SKIPPED, skipped), (DETECTION_RESTARTS, restarts)]


def detect_size(width: int, height: int, detect_width: int) -> tuple[int, int]:
    """Detect resolution: ``detect_width`` wide (never upscaled), aspect kept, even sizes."""
    w = min(detect_width, width)
    h = max(2, round(height * w / width / 2) * 2)
    return w - w % 2, h


class DetectorSet:
    """The detectors of one channel.

    ``armed`` is asked for each new event (the channel's arming switch); ``send`` receives
    the changes that pass it; ``notify`` is called when what the status shows changed.
    ``process``: the picture detectors run in the detection process (the audio ones, a few
    levels a second, stay here).
    """

    def __init__(
        self,
        channel_id: str,
        configs: Mapping[str, DetectorConfig],
        registry: PluginRegistry,
        *,
        detect_width: int,
        detect_fps: float,
        armed: Callable[[], bool],
        send: Send,
        notify: Callable[[], None],
        process: bool = False,
    ) -> None:
        self._channel_id = channel_id
        self._process = process
        self._lane: Lane | None = None
        #: The kinds built in the detection process, and their events open there by id.
        self._remote: set[str] = set()
        self._open: dict[str, tuple[str, Event]] = {}
        self._retry_at = 0.0
        #: Pictures not detected on that the lane now open does not count (``skipped``): those
        #: of the lanes closed before it, and those that came while the process was starting
        #: or gone.
        self._skipped = 0
        #: The detection process was starting at the last try: the lane starts once it is up.
        self._starting = False
        #: Why the detection process is not running for this channel ("" while it is).
        self._lane_error = ""
        self._registry = registry
        self._detect_width = detect_width
        self._detect_fps = detect_fps
        self._armed = armed
        self._send = send
        self._notify = notify
        self._configs: dict[str, DetectorConfig] = dict(configs)
        self._detectors: dict[str, Detector] = {}
        self._pending: dict[str, DetectorConfig] = {}
        self._lock = threading.Lock()
        self._suppressed: set[str] = set()
        self._snapshots: dict[str, str] = {}  # open event id -> the capture id of its start
        self._errors: dict[str, str] = {}
        #: Per detector kind, its declared rules by id (their switch and arming schedule).
        self._rules: dict[str, dict[int, RuleInfo]] = {}
        self._context = DetectorContext(channel_id, 0, 0, detect_fps)
        self._size = (0, 0)
        self._next_detect = 0.0
        self.detections = 0

    # ----------------------------------------------------------------- any thread

    @property
    def configs(self) -> Mapping[str, DetectorConfig]:
        return self._configs

    @property
    def errors(self) -> Mapping[str, str]:
        return self._errors

    @property
    def skipped(self) -> int:
        """Pictures not detected on: the detection process was behind on them, or it was
        starting, or gone; since the channel was made (a stop and start go on counting)."""
        lane = self._lane
        return self._skipped + (lane.skipped if lane is not None else 0)

    @property
    def restarts(self) -> int:
        """How many times the detection process this channel's detectors run in was started
        again after it died (0 inline)."""
        return self._lane.restarts if self._lane is not None else 0

    def set(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        """Change a detector's enabled flag and/or options (already validated by its schema);
        applied by the worker before the next detection."""
        with self._lock:
            current = self._configs.get(kind)
            if current is None:
                raise NotFoundError(
                    f"channel {self._channel_id!r} has no detector {kind!r}", "detector_not_found"
                )
            updated = dataclasses.replace(
                current,
                enabled=current.enabled if enabled is None else enabled,
                options=current.options if options is None else options,
            )
            if updated == current:
                return  # re-sending the current state must not restart the detector
            self._configs[kind] = updated
            self._pending[kind] = updated
        self._notify()

    def status(self) -> dict[str, DetectorStatus]:
        return {
            kind: {
                "enabled": d.enabled,
                "error": self._errors.get(kind, ""),
                "options": dict(d.options),
            }
            for kind, d in self._configs.items()
        }

    def event_types(self) -> list[tuple[str, EventTypeInfo]]:
        """``(detector kind, event type)`` for every event type the detectors may raise (also
        while switched off: an entity must not vanish because its detector is off)."""
        found: dict[str, tuple[str, EventTypeInfo]] = {}
        for kind in self._configs:
            for info in self._registry.detector(kind).EVENT_TYPES:
                found.setdefault(info.name, (kind, info))
        return list(found.values())

    def rules(self, kind: str) -> list[dict[str, Any]]:
        """The rules detector ``kind`` declares with its options (also while switched off)."""
        config = self._configs.get(kind)
        if config is None:
            return []
        return [rule.as_dict() for rule in self._registry.detector(kind).rules(config.options)]

    def controls(self) -> list[tuple[str, Control, Any]]:
        """``(detector kind, control, current value)`` for every detector's controls."""
        out = []
        for kind, cfg in self._configs.items():
            for control in self._registry.detector(kind).controls(cfg.options):
                value = (
                    cfg.enabled
                    if control.sets == "enabled"
                    else option_at(cfg.options, control.sets)
                )
                out.append((kind, control, value))
        return out

    # ----------------------------------------------------------------- worker thread

    def start(self, width: int, height: int) -> None:
        """Build every enabled detector for a stream of this size (after each (re)open)."""
        self._size = (width, height)
        w, h = detect_size(width, height, self._detect_width)
        self._context = DetectorContext(self._channel_id, w, h, self._detect_fps)
        self._detectors = {}
        self._remote = set()
        with self._lock:
            self._pending.clear()
            configs = dict(self._configs)
        if self._process:
            self._start_lane()
        for kind, cfg in configs.items():
            self._build(kind, cfg)

    def prepare(self) -> None:
        """The channel starts, before its feeds do: with ``detect.process`` the detection
        process starts now, so that it is up, or nearly, by the first picture."""
        if not self._process:
            return
        with contextlib.suppress(DetectionProcessError):  # the first picture tries again
            self._acquire_lane().up()

    def _acquire_lane(self) -> Lane:
        if self._lane is None:
            self._lane = DetectionProcess.acquire().lane(
                self._channel_id, self._returned, self._lost
            )
        return self._lane

    def _start_lane(self) -> None:
        """The channel's context in the detection process, once that is up: while it starts,
        the pictures are not detected on (the feed does not wait for it) and each one looks
        whether it is up now (``_may_start``)."""
        lane = self._acquire_lane()
        self._retry_at = time.monotonic() + RESTART_DELAY
        try:
            self._starting = not lane.up()
            if self._starting:
                self._lane_error = "the detection process is starting"
                return
            lane.start(self._context.width, self._context.height, self._detect_fps)
            self._lane_error = ""
        except DetectionProcessError as err:
            self._starting = False
            self._lane_error = err.message
            _LOGGER.error("%s: %s", self._channel_id, err.message)

    def _detects_there(self) -> bool:
        """Whether a picture detector is switched on (it runs in the detection process)."""
        with self._lock:
            configs = list(self._configs.items())
        return any(c.enabled and not self._registry.detector(k).AUDIO for k, c in configs)

    def _may_start(self, lane: Lane) -> bool:
        """Whether the lane starts again at this picture: as soon as the process is up when
        it was starting, ``RESTART_DELAY`` after the last try when it died or failed."""
        if self._starting:
            return lane.ready()
        return time.monotonic() >= self._retry_at

    def _restart_lane(self) -> None:
        """The detection process died: start it again and build the detectors there anew
        (their events were ended when it died, ``_lost``)."""
        self._remote = set()
        self._start_lane()
        with self._lock:
            configs = dict(self._configs)
        for kind, cfg in configs.items():
            if not self._registry.detector(kind).AUDIO:
                self._build(kind, cfg)

    def close(self) -> None:
        """The channel stopped: its detectors in the detection process go (``finish`` first)."""
        lane, self._lane = self._lane, None
        self._remote = set()
        self._starting = False
        if lane is not None:
            self._skipped += lane.skipped
            lane.close()
            DetectionProcess.release()

    def _build(self, kind: str, cfg: DetectorConfig) -> None:
        """A detector that cannot work with this stream (e.g. an area too small at the detect
        size) is left out and reported in the status; the video goes on."""
        self._detectors.pop(kind, None)
        detector = self._registry.detector(kind)
        self._rules[kind] = {rule.id: rule for rule in detector.rules(cfg.options)}
        had_error = self._errors.pop(kind, None) is not None
        if self._lane is not None and not detector.AUDIO:
            self._build_there(kind, cfg)
        elif cfg.enabled:
            try:
                self._detectors[kind] = detector(cfg.options, self._context)
            except CameraRuntimeError as err:
                self._errors[kind] = err.message
                _LOGGER.error(
                    "%s: detector %s not started: %s", self._channel_id, kind, err.message
                )
        if had_error or kind in self._errors:
            self._notify()

    def _build_there(self, kind: str, cfg: DetectorConfig) -> None:
        """``_build`` in the detection process: its start error is reported the same way; a
        process that is not running or does not answer is reported as the detector's error
        until it does (the detectors are built there anew when it starts again)."""
        assert self._lane is not None
        if not self._lane.started:
            self._remote.discard(kind)
            if cfg.enabled:
                self._errors[kind] = self._lane_error or "the detection process is not running"
            return
        try:
            if cfg.enabled:
                error = self._lane.build(self._registry.detector(kind), cfg.options)
            else:
                error = None
                if kind in self._remote:
                    self._lane.drop(kind)
        except DetectionProcessError as err:
            error = err.message
        if error is None and cfg.enabled:
            self._remote.add(kind)
        else:
            self._remote.discard(kind)
        if error is not None:
            self._errors[kind] = error
            _LOGGER.error("%s: detector %s not started: %s", self._channel_id, kind, error)

    def finish(self, kinds: list[str] | None = None) -> None:
        """End what the detectors still have active (the source dropped, the channel stops)."""
        now = time.time()
        kinds = kinds if kinds is not None else [*self._detectors, *self._remote]
        for kind in kinds:
            detector = self._detectors.get(kind)
            if detector is not None:
                for phase, event in detector.finish(now):
                    self._dispatch(kind, phase, event, None)
        there = [kind for kind in kinds if kind in self._remote]
        if not there or self._lane is None:
            return
        try:  # their changes are dispatched (reader thread) before this returns
            if self._lane.started:
                self._lane.finish(there, now)
        except DetectionProcessError:
            pass
        self._end_open(there, now)  # what the process could not end

    def _returned(self, changes: list[Change], demux_time: float | None) -> None:
        """A picture's changes from the detection process (its reader thread)."""
        for kind, phase, event in changes:
            if phase is EventPhase.NEW:
                self._open[event.id] = (kind, event)
            elif phase is EventPhase.END:
                self._open.pop(event.id, None)
            self._dispatch(kind, phase, event, demux_time)

    def _lost(self) -> None:
        """The detection process died (its reader thread): what was open there ends now; the
        channel's thread starts it again at a picture (``on_frame``)."""
        _LOGGER.warning(
            "%s: detection process lost: its events ended, restarting", self._channel_id
        )
        self._starting = False  # one that dies as it starts is started again after a delay
        self._end_open(None, time.time())

    def _end_open(self, kinds: list[str] | None, now: float) -> None:
        """End the open events of ``kinds`` (all: None) that came from the detection process.
        The reader thread (the process died) and the channel's (a call failed) may both try:
        whoever takes an event out ends it, once."""
        for event_id, (kind, event) in list(self._open.items()):
            if kinds is not None and kind not in kinds:
                continue
            if self._open.pop(event_id, None) is None:
                continue
            self._dispatch(kind, EventPhase.END, dataclasses.replace(event, end=now), None)

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for kind, cfg in pending.items():
            self.finish([kind])
            self._build(kind, cfg)

    def on_frame(self, frame: Frame) -> None:
        """Detect on this frame if it is time to (paced by stream time, so a file read faster
        than real time is sampled at the same rate per second of video as a live camera)."""
        if not self._detectors and not self._remote and not self._pending and not self._lane:
            return
        if frame.pts + 1e-6 < self._next_detect:
            return
        interval = 1.0 / self._detect_fps
        self._next_detect = (
            self._next_detect + interval
            if frame.pts - self._next_detect < interval
            else frame.pts + interval
        )
        if (frame.width, frame.height) != self._size:
            # The picture changed size (an image stage rotates it now): detectors start anew.
            self.finish()
            self.start(frame.width, frame.height)
        if self._pending:
            self._apply_pending()
        lane = self._lane
        if lane is not None and not lane.started and self._may_start(lane):
            self._restart_lane()
        if not self._detectors and not self._remote:
            if lane is not None and not lane.started and self._detects_there():
                self._skipped += 1  # the process is starting or gone: not detected on, counted
            return
        small = downscale_luma(frame.y, self._context.width, self._context.height)
        detected = bool(self._detectors)
        for kind, detector in self._detectors.items():
            for phase, event in detector.process(small, frame.wall_time):
                self._dispatch(kind, phase, event, frame.demux_time)
        if self._remote and lane is not None and lane.started:
            # Handed over: its changes come back on the reader thread (``_returned``).
            detected = lane.picture(small, frame.wall_time, frame.demux_time) or detected
        self.detections += detected

    def on_audio(self, levels: list[AudioLevel]) -> None:
        """Hand the audio track's levels to the detectors that listen (``Detector.AUDIO``)."""
        if self._pending:
            self._apply_pending()
        for kind, detector in self._detectors.items():
            if detector.AUDIO:
                for level in levels:
                    for phase, event in detector.hear(level):
                        self._dispatch(kind, phase, event, None)

    def _dispatch(
        self, kind: str, phase: EventPhase, event: Event, demux_time: float | None
    ) -> None:
        """Apply the channel's arming switch, the detector's arming schedule, and the switch
        and arming schedule of the event's rule (``data.rule_id``, manual 8.1): an event that
        starts outside them is not raised at all, nor its updates and end."""
        if phase is EventPhase.NEW:
            schedule = self._configs[kind].arming_schedule
            rule = self._rules.get(kind, {}).get(event.data.get("rule_id", -1))
            if not (
                self._armed()
                and schedule.is_armed(event.start)
                and (rule is None or _rule_armed(rule, event.start))
            ):
                self._suppressed.add(event.id)
                return
        elif event.id in self._suppressed:
            if phase is EventPhase.END:
                self._suppressed.discard(event.id)
            return
        self._send(phase, self._with_snapshot(kind, phase, event), demux_time)

    def _with_snapshot(self, kind: str, phase: EventPhase, event: Event) -> Event:
        """An event of a type declared with ``snapshot`` names the capture of its start (the
        runtime takes it when the start reaches it) in every phase."""
        if phase is EventPhase.NEW:
            declared = self._registry.detector(kind).EVENT_TYPES
            if any(info.name == event.type and info.snapshot for info in declared):
                self._snapshots[event.id] = new_event_id()
        snapshot = (
            self._snapshots.pop(event.id, None)
            if phase is EventPhase.END
            else self._snapshots.get(event.id)
        )
        if snapshot is None:
            return event
        return dataclasses.replace(event, data={**event.data, SNAPSHOT_KEY: snapshot})


def _rule_armed(rule: RuleInfo, timestamp: float) -> bool:
    """Whether a rule may raise an event starting at ``timestamp``: switched on, in its
    arming schedule (if it has one)."""
    schedule = rule.arming_schedule
    return rule.enabled and (schedule is None or schedule.is_armed(timestamp))


__all__ = ["SNAPSHOT_KEY", "DetectorSet", "detect_size"]
