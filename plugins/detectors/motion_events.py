"""Turns per-picture motion findings into motion events: one event per movement, with a hold time."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from camera_runtime.model import Box, Event, EventPhase

#: The event type this detector raises.
MOTION = "motion"

#: An UPDATE is sent at most this often (seconds), and only when something worth telling changed.
UPDATE_INTERVAL = 1.0
#: Boxes "moved meaningfully" when the box around all of them overlaps the last reported one
#: by less than this intersection-over-union.
MOVED_IOU = 0.5


class Finding:
    """What one picture showed: the areas with motion (config order) and, when dynamic analysis
    is on, the boxes of the moving regions (``None`` when it is off).

    The boxes are measured (``measure``) when first read, not with the picture: events read
    them when one starts, at most once per ``UPDATE_INTERVAL`` while it goes on, and when it
    ends, and the dilation and contours that find them were a quarter of the detector's CPU
    on a busy picture, spent on every picture of a movement for the few that are reported
    (``busy720`` at 320x180, every picture, one thread: 247 -> 184 us a picture)."""

    __slots__ = ("_boxes", "_measure", "areas", "day_night", "sensitivity")

    def __init__(
        self,
        areas: tuple[str, ...],
        *,
        sensitivity: int,
        day_night: str,
        measure: Callable[[], tuple[Box, ...]] | None = None,
    ) -> None:
        """``measure``: what measures the boxes on the first read (``None``: no boxes)."""
        self.areas = areas
        self.sensitivity = sensitivity
        self.day_night = day_night
        self._boxes: tuple[Box, ...] | None = None
        self._measure = measure

    @property
    def boxes(self) -> tuple[Box, ...] | None:
        """The moving regions' boxes (0..1), measured once, on the first read."""
        if self._measure is not None:
            self._boxes, self._measure = self._measure(), None
        return self._boxes


def extent(boxes: Sequence[Box]) -> Box | None:
    """The box around every box, or ``None`` for no box."""
    if not boxes:
        return None
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.w for b in boxes)
    y1 = max(b.y + b.h for b in boxes)
    return Box(x0, y0, x1 - x0, y1 - y0)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not touch)."""
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


class MotionEvents:
    """The life of motion events on one channel.

    An event starts (NEW) on the first picture with motion and ends (END) on the first picture
    that comes ``hold_time`` seconds after the last picture with motion, so one movement with
    short pauses stays one event. In between, an UPDATE goes out at most once per
    ``UPDATE_INTERVAL`` and only when the set of areas grew or the moving region moved
    (``MOVED_IOU``): consumers (MQTT, Home Assistant) see a handful of messages per event,
    not one per picture.

    ``data["areas"]`` lists every area that saw motion during the event so far, in config
    order; ``data["boxes"]`` are the boxes of the latest picture with motion. Each emitted
    ``Event`` is its own copy (same ``id``), so a consumer that reads it later, on another
    thread, never sees a later phase's fields.
    """

    def __init__(self, channel: str, hold_time: float, area_order: Sequence[str]) -> None:
        self._channel = channel
        self._hold_time = hold_time
        self._order = {name: index for index, name in enumerate(area_order)}
        self._event: Event | None = None
        self._areas: set[str] = set()
        self._last: Finding | None = None
        self._last_motion = 0.0
        self._last_emit = 0.0
        self._reported_areas: set[str] = set()
        self._reported_extent: Box | None = None

    @property
    def active(self) -> bool:
        return self._event is not None

    def observe(self, timestamp: float, finding: Finding | None) -> list[tuple[EventPhase, Event]]:
        """Feed one picture's finding (``None`` or no areas: no motion in it)."""
        # A wall clock stepped back: count the hold time from now, or the event would last
        # until the clock caught up again.
        self._last_motion = min(self._last_motion, timestamp)
        if finding is not None and finding.areas:
            return self._motion(timestamp, finding)
        if self._event is not None and timestamp - self._last_motion >= self._hold_time:
            return [self._end(timestamp)]
        return []

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """End the active event now (the channel stops or the detector is replaced)."""
        return [self._end(timestamp)] if self._event is not None else []

    def _motion(self, timestamp: float, finding: Finding) -> list[tuple[EventPhase, Event]]:
        self._last_motion = timestamp
        self._last = finding
        if self._event is None:
            self._event = Event(channel=self._channel, type=MOTION, start=timestamp)
            self._areas = set(finding.areas)
            return [self._emit(EventPhase.NEW, timestamp)]
        self._areas.update(finding.areas)
        if timestamp - self._last_emit < UPDATE_INTERVAL:
            return []
        grew = not self._areas <= self._reported_areas
        now = extent(finding.boxes) if finding.boxes else None
        moved = now is not None and (
            self._reported_extent is None or iou(now, self._reported_extent) < MOVED_IOU
        )
        return [self._emit(EventPhase.UPDATE, timestamp)] if grew or moved else []

    def _end(self, timestamp: float) -> tuple[EventPhase, Event]:
        phase_event = self._emit(EventPhase.END, timestamp, end=timestamp)
        self._event = None
        self._last = None
        self._areas = set()
        self._reported_areas = set()
        self._reported_extent = None
        return phase_event

    def _emit(
        self, phase: EventPhase, timestamp: float, end: float | None = None
    ) -> tuple[EventPhase, Event]:
        assert self._event is not None and self._last is not None
        finding = self._last
        data: dict[str, Any] = {
            "areas": sorted(self._areas, key=self._order.__getitem__),
            "sensitivity": finding.sensitivity,
            "day_night": finding.day_night,
        }
        if finding.boxes is not None:
            data["boxes"] = [box.as_dict() for box in finding.boxes]
        self._last_emit = timestamp
        self._reported_areas = set(self._areas)
        if finding.boxes:
            self._reported_extent = extent(finding.boxes)
        return phase, dataclasses.replace(self._event, end=end, data=data)
