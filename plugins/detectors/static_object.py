"""Unattended baggage and object removal (manual 6.2.6, 6.2.7): an event when an object someone left stays in a region, or one someone took stays missing, longer than the rule's threshold."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import cv2
import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase, Plane

from .smart_rules import (
    RegionRule,
    SmartDetector,
    region_rules,
    rule_fields,
    rules_schema,
    target_data,
)
from .tracker import Track, Tracker
from .validators import POLYGON, number

UNATTENDED_BAGGAGE = "unattended_baggage"
OBJECT_REMOVAL = "object_removal"
#: The threshold's range (seconds an object stays left, or missing, before the alarm). The
#: tracker keeps a still object apart from its background for about a minute and a half
#: (``tracker.FOREGROUND_TIME``, 60 s, absorbs a 60-grey-level object below its protection
#: in about 95 s): a longer threshold would never be reached.
MIN_THRESHOLD = 1.0
MAX_THRESHOLD = 60.0
#: A still object's box may wander this share of its larger side (its outline jitters with
#: noise) and still be the same still object; more, and its stillness starts again.
STILL_TOLERANCE = 0.35
#: A still object has come from near where it was first seen: a track whose centre is more
#: than this many of its larger sides from its origin walked in (a person standing still).
MAX_TRAVEL = 2.0
#: Someone left it, or took it: during the first ``ATTENDED_TIME`` seconds of its stillness,
#: a target (a confirmed track not still for longer than that) was within ``NEAR`` times
#: the larger side of either box (plus ``NEAR_MIN`` pixels) of it: the tracker tells them
#: apart only once they are a few pixels apart, later still when they move fast. A patch of
#: light, a shadow or a shake sliver appears with nobody beside it.
ATTENDED_TIME = 1.0
NEAR = 1.0
NEAR_MIN = 4.0
#: Left or taken: an object left behind adds edges along its outline that the background
#: lacks; one taken away leaves the background's edges missing from the picture. The band
#: around the box's outline where the edges are compared, in pixels each side.
EDGE_BAND = 2


RULE_SCHEMA = vol.Schema(
    {
        vol.Required("region"): POLYGON,
        vol.Optional("threshold", default=5.0): vol.All(
            number, vol.Range(min=MIN_THRESHOLD, max=MAX_THRESHOLD)
        ),
        **rule_fields(),
    }
)

STATIC_OBJECT_SCHEMA = vol.Schema({vol.Required("rules"): rules_schema(RULE_SCHEMA, "region")})


@dataclass(slots=True)
class _Still:
    """A track whose box stays put: since when, where, and whether someone was beside it."""

    since: float
    box: tuple[float, float, float, float]
    attended: bool = False
    #: when it was parted from whoever was beside it: the gap between their boxes when the
    #: tracker first told them apart, over that one's speed, before that picture (the
    #: tracker's closing joins blobs a few pixels apart, so it sees them part late)
    parted: float = 0.0
    left: bool | None = None  # an object left (True) or a gap where one was taken (False)


@dataclass(slots=True)
class _Rule(RegionRule):
    events: dict[int, Event] = field(default_factory=dict)  # track id -> its open event


def _same_place(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    side = max(a[2], a[3], b[2], b[3])
    moved = max(abs(a[0] - b[0]), abs(a[1] - b[1]), abs(a[2] - b[2]), abs(a[3] - b[3]))
    return moved <= STILL_TOLERANCE * side + 1.0


def edge_change(tracker: Tracker, box: tuple[float, float, float, float]) -> float | None:
    """How much stronger the edges along ``box``'s outline are in the latest picture than in
    the background (log ratio of their gradient energies): above 0 for an object that was
    left there, below 0 where one was taken away. ``None`` before the tracker has both."""
    background, picture = tracker.foreground.background, tracker.foreground.picture
    if background is None or picture is None:
        return None
    height, width = picture.shape
    x, y, w, h = (round(v) for v in box)
    pad = EDGE_BAND + 2
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    band = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.rectangle(band, (x - x0, y - y0), (x - x0 + w - 1, y - y0 + h - 1), 255, 2 * EDGE_BAND)
    energies = []
    for plane in (picture[y0:y1, x0:x1], background[y0:y1, x0:x1]):
        grey = plane.astype(np.float32)
        gx = cast(np.ndarray[Any, Any], cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3))
        gy = cast(np.ndarray[Any, Any], cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
        magnitude = cv2.magnitude(gx, gy)
        energies.append(float(cv2.mean(magnitude, mask=band)[0]))
    return math.log((energies[0] + 1.0) / (energies[1] + 1.0))


#: The key of the channel's still objects in ``DetectorContext.shared``.
SHARED_KEY = "camera_runtime_plugins.static_object"


class StillObjects:
    """Which of the channel's tracks stay still, since when, whether someone was beside them
    at first, and whether each was left or taken: the same for unattended baggage and object
    removal (the same tracker, the same pictures), so kept once per channel
    (``shared_stills``) and followed once per picture: on a busy picture the search for who
    was beside each new still track is most of these detectors' time."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self.still: dict[int, _Still] = {}
        self._last: float | None = None

    def update(self, tracks: dict[int, Track], timestamp: float) -> dict[int, _Still]:
        """Follow the tracks of this picture (the first call per timestamp does the work)."""
        if timestamp != self._last:
            self._last = timestamp
            self._observe(tracks, timestamp)
        return self.still

    def _observe(self, tracks: dict[int, Track], timestamp: float) -> None:
        """Follow which tracks stay still, and whether someone was beside them at first."""
        for track_id in [t for t in self.still if t not in tracks]:
            del self.still[track_id]
        # who may have left or taken something are among the confirmed tracks, the same
        # through this picture: found once, not for every pair (a busy picture has tens)
        confirmed = [track for track in tracks.values() if track.confirmed]
        for track in tracks.values():
            if not track.seen:
                continue  # a still object coasting keeps its stillness until it is dropped
            still = self.still.get(track.id)
            cx, cy = track.centre
            travel = math.hypot(cx - track.origin[0], cy - track.origin[1])
            if travel > MAX_TRAVEL * max(track.box[2], track.box[3]) + 2.0:
                self.still.pop(track.id, None)
                continue
            if still is None or not _same_place(still.box, track.box):
                still = _Still(timestamp, track.box)
                self.still[track.id] = still
            if not still.attended and timestamp - still.since <= ATTENDED_TIME:
                parted = self._beside(track, confirmed, timestamp)
                if parted:
                    still.attended, still.parted = (
                        True,
                        max(min(parted), still.since - ATTENDED_TIME),
                    )
            elif still.attended and timestamp - still.since > ATTENDED_TIME:
                # left or taken is told once the person is out of the way, before anyone
                # else may walk in front of it
                self.left(still, track)

    def _beside(self, track: Track, confirmed: list[Track], timestamp: float) -> list[float]:
        """When each target beside ``track`` parted from it: a target is someone who can
        leave or take an object (a confirmed track, not one that has been still for longer
        than ``ATTENDED_TIME``: a bag, a patch of light, a person who stopped long ago);
        beside, when the gap between their boxes (0 when they touch or overlap) is at most
        ``NEAR`` times the larger side of either (plus ``NEAR_MIN``); parted, that gap ago at
        the target's speed (at most ``ATTENDED_TIME``), or now if it stands still.

        One loop over ``track``'s box read once, the gap tested first (it rules out most
        pairs): on a busy picture (tens of tracks, most of them new) this search ran about 30
        times a picture at four Python calls a pair, the largest share of the still objects'
        time."""
        ax, ay, aw, ah = track.box
        right, bottom, side = ax + aw, ay + ah, max(aw, ah)
        stills, found = self.still, []
        for other in confirmed:
            bx, by, bw, bh = other.box
            gap = max(0.0, bx - right, ax - (bx + bw), by - bottom, ay - (by + bh))
            if gap > NEAR_MIN + NEAR * max(side, bw, bh) or other.id == track.id:
                continue
            still = stills.get(other.id)
            if still is not None and timestamp - still.since > ATTENDED_TIME:
                continue
            speed = math.hypot(*other.velocity)
            when = timestamp - min(ATTENDED_TIME, gap / speed) if speed > 1.0 else timestamp
            if when:
                found.append(when)
        return found

    def left(self, still: _Still, track: Track) -> bool | None:
        """Whether the still object was left (True) or taken away (False): told while it is
        in view; one hidden for a moment (someone walks past it, its track coasts) keeps what
        it was found to be, so its alarm is not held up. ``None``: not told yet."""
        if still.left is None and track.seen:
            change = edge_change(self._tracker, track.box)
            if change is not None:
                still.left = change > 0
        return still.left


def shared_stills(context: DetectorContext, tracker: Tracker) -> StillObjects:
    """The channel's still objects, built by the first of its static-object detectors: a
    detector rebuilt with new options keeps what the channel knows of the objects in view,
    as it keeps the tracker."""
    return context.service(SHARED_KEY, StillObjects, lambda: StillObjects(tracker))


class StaticObjectDetector(SmartDetector):
    """An event per still object and rule once it has stayed ``threshold`` seconds (1 to 60).

    A still object is a track of the channel's shared tracker whose box has stayed in place
    (within ``STILL_TOLERANCE``), that has not walked in from afar (``MAX_TRAVEL``), that
    had someone beside it when it became still (``ATTENDED_TIME``: it was left or taken,
    not lit or shaken into view), and whose outline's edges are stronger in the picture
    than in the background (left) or weaker (taken: the gap shows the background's object
    missing). The size filter and the manual's share inside the region (its sensitivity)
    apply to its box. The event lasts until the object is gone (picked up again, put back)
    or lost to the background. ``data``: ``rule_id``, ``rule``, ``sensitivity``,
    ``threshold``, ``since`` (when it was left or went missing, wall clock), ``track_id`` and
    ``box`` (0..1).
    """

    CONFIG_SCHEMA: ClassVar[vol.Schema] = STATIC_OBJECT_SCHEMA
    EVENT_TYPE: ClassVar[str]
    #: True: objects left behind; False: objects taken away.
    LEFT: ClassVar[bool]

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._rules = region_rules(_Rule, options, context)
        self._stills = shared_stills(context, self._tracker)

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        width, height = self.context.width, self.context.height
        tracks = {track.id: track for track in self._tracker.update(image, timestamp)}
        stills = self._stills.update(tracks, timestamp)
        changes: list[tuple[EventPhase, Event]] = []
        for rule in self._rules:
            for track_id, still in stills.items():
                track = tracks[track_id]
                if track_id in rule.events or timestamp - still.parted < rule.threshold:
                    continue
                if not (still.attended and self._wanted(still, track)):
                    continue
                if not rule.size_filter.accepts(track, width, height):
                    continue
                if rule.region.share_inside(track) < rule.required:
                    continue
                data = {
                    "rule_id": rule.id,
                    "rule": rule.name,
                    "sensitivity": rule.sensitivity,
                    "threshold": rule.threshold,
                    "since": still.parted,
                    **target_data(track, width, height),
                }
                event = Event(
                    channel=self.context.channel_id,
                    type=self.EVENT_TYPE,
                    start=timestamp,
                    data=data,
                )
                rule.events[track_id] = event
                changes.append((EventPhase.NEW, event))
            for track_id in [t for t in rule.events if t not in stills]:
                event = rule.events.pop(track_id)
                changes.append((EventPhase.END, dataclasses.replace(event, end=timestamp)))
        return changes

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        changes: list[tuple[EventPhase, Event]] = []
        for rule in self._rules:
            for event in rule.events.values():
                changes.append((EventPhase.END, dataclasses.replace(event, end=timestamp)))
            rule.events.clear()
        return changes

    def _wanted(self, still: _Still, track: Track) -> bool:
        """Whether the still object is of this detector's kind (left, or taken away)."""
        return self._stills.left(still, track) is self.LEFT


class UnattendedBaggageDetector(StaticObjectDetector):
    """Unattended baggage (6.2.6): an object left in the region for ``threshold`` seconds."""

    kind: ClassVar[str] = "unattended_baggage"
    EVENT_TYPE = UNATTENDED_BAGGAGE
    LEFT = True
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(UNATTENDED_BAGGAGE, "Unattended baggage", snapshot=True),
    )


class ObjectRemovalDetector(StaticObjectDetector):
    """Object removal (6.2.7): an object of the region missing for ``threshold`` seconds."""

    kind: ClassVar[str] = "object_removal"
    EVENT_TYPE = OBJECT_REMOVAL
    LEFT = False
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(OBJECT_REMOVAL, "Object removal", snapshot=True),
    )


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``unattended_baggage`` and ``object_removal`` available under ``detectors:``."""
    register(UnattendedBaggageDetector)
    register(ObjectRemovalDetector)
