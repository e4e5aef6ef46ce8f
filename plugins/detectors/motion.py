"""Motion detection (manual 6.1.1): a lean running-average detector with areas, day/night sensitivity and dynamic analysis."""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import cv2
import numpy as np
import numpy.typing as npt
import voluptuous as vol

from camera_runtime import capabilities, hookimpl
from camera_runtime.capabilities import Control, EventTypeInfo
from camera_runtime.imaging import downscale_luma
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Box, Event, EventPhase, Plane

from .daynight import DAY_NIGHT_SCHEMA, DayNightSwitch
from .foreground import AdaptiveForeground, Foreground, Level
from .motion_areas import AREAS_SCHEMA, WHOLE_PICTURE, MotionArea, build_areas
from .motion_events import MOTION, Finding, MotionEvents
from .validators import SENSITIVITY, number

#: Fewest changed pixels that can count as motion, whatever the sensitivity.
MIN_PIXELS = 4
#: At most this many boxes per picture (the largest).
MAX_BOXES = 10
#: At the default sensitivity (50) a pixel changed when it stands out from the background by
#: this many times the scene's noise (its mean absolute difference), and by at least
#: ``FLOOR_50`` grey levels. Measured on the scenes of ``bench/motion_accuracy.py``: 6 finds a
#: person-sized target at 15 % opacity in every picture by day and by night, while 3 px of
#: camera shake at 720p and brightness steps stay below 5 % false pictures; 8 starts to lose
#: the faint target on a textured night picture, 4 lets shake through.
CONTRAST_50 = 6.0
FLOOR_50 = 4
#: Below 50, every 25 steps of sensitivity multiply both by ``STEP_DOWN``; above 50, every 50
#: steps divide them by ``STEP_UP``: at 100 a pixel 3x the noise counts (noise shows), at 0
#: only what stands out 54x the noise and 36 grey levels.
STEP_DOWN = 3.0
#: The floor never goes below this many grey levels: a clean picture's own rounding and the
#: brightness compensation's small errors stay under it.
MIN_FLOOR = 3
STEP_UP = 2.0

_KERNEL = np.ones((3, 3), dtype=np.uint8)
#: Pixels around the foreground's box that ``_boxes`` works on: 2 that the dilation adds, 1
#: that ``findContours`` treats as border.
_MARGIN = 3
#: Up to this many contours, their boxes come from one ``cv2.boundingRect`` each; more, from
#: ``_point_boxes``' few numpy calls (about 12 us whatever the count, where each OpenCV call
#: costs 1 us but also a GIL round trip).
_FEW_CONTOURS = 4


def level(sensitivity: int) -> Level:
    """How far a pixel must stand out from the background to have changed, at a sensitivity:
    ``CONTRAST_50 x scale`` times the scene's noise and at least ``round(FLOOR_50 x scale)``
    grey levels, where ``scale = STEP_DOWN ** ((50 - s) / 25)`` below 50 and
    ``STEP_UP ** ((50 - s) / 50)`` above. Exponential, as noise and contrast are ratios."""
    if sensitivity <= 50:
        scale = math.pow(STEP_DOWN, (50 - sensitivity) / 25)
    else:
        scale = math.pow(STEP_UP, (50 - sensitivity) / 50)
    return Level(CONTRAST_50 * scale, max(MIN_FLOOR, round(FLOOR_50 * scale)))


def min_changed_fraction(sensitivity: int) -> float:
    """Fraction of an area that must change to be motion: ``0.0001 * 200 ** ((100 - s) / 100)``.

    Log-linear, since object sizes spread over orders of magnitude: sensitivity 100 -> 0.01 %
    of the area (6 pixels of a 320x180 picture), 50 -> 0.14 % (82 pixels, about 9x9),
    1 -> 1.9 % (about 33x33). Higher sensitivity is lower on both counts: more sensitive.
    """
    return 0.0001 * math.pow(200.0, (100 - sensitivity) / 100)


def _expert_only(options: dict[str, Any]) -> dict[str, Any]:
    """Per-area sensitivities are an expert-mode setting; in normal mode they would be ignored,
    silently, so they are refused."""
    if options["mode"] != "expert":
        for index, area in enumerate(options["areas"]):
            for key in ("day_sensitivity", "night_sensitivity"):
                if key in area:
                    raise vol.Invalid(
                        f"{key} of an area applies only with mode: expert",
                        path=["areas", index, key],
                    )
    return options


MOTION_SCHEMA = vol.Schema(
    vol.All(
        vol.Schema(
            {
                # normal: one sensitivity; expert: day and night sensitivities, per area too
                vol.Optional("mode", default="normal"): vol.In(["normal", "expert"]),
                vol.Optional("sensitivity", default=50): SENSITIVITY,
                vol.Optional("day_sensitivity", default=50): SENSITIVITY,
                vol.Optional("night_sensitivity", default=50): SENSITIVITY,
                vol.Optional("day_night_switch", default=dict): DAY_NIGHT_SCHEMA,
                vol.Optional("areas", default=lambda: copy.deepcopy(WHOLE_PICTURE)): AREAS_SCHEMA,
                vol.Optional("dynamic_analysis", default=True): bool,
                vol.Optional("hold_time", default=5.0): vol.All(number, vol.Range(min=0, max=600)),
            }
        ),
        _expert_only,
    )
)


#: The normal mode's sensitivity as a control: its range read once from the schema.
SENSITIVITY_CONTROL = capabilities.number(
    "motion_sensitivity", "Motion sensitivity", "sensitivity", MOTION_SCHEMA
)


@dataclass(frozen=True, slots=True)
class _AreaRule:
    area: MotionArea
    level: Level
    min_pixels: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to compute in one period (day or night): built once, used per picture."""

    sensitivity: int
    rules: tuple[_AreaRule, ...]
    levels: tuple[Level, ...]  # distinct levels of the rules
    min_pixels: int  # the smallest minimum of the rules: fewer changed pixels cannot be motion


class MotionDetector(Detector):
    """Motion detection of the manual's 6.1.1, on the channel's small grey picture.

    Per picture, ``AdaptiveForeground`` finds the pixels that stand out from the learnt
    background by more than the scene's own noise allows, tolerating global brightness changes
    and small camera shake (see there). Changed pixels are counted per area (before any
    dilation, so noise specks are not inflated) against the area's minimum. Areas over their
    minimum are "in motion". For dynamic analysis, the changed pixels of those areas are
    dilated and their contours' bounding boxes reported.

    Sensitivity sets both how far a pixel must stand out (``level``: a multiple of the noise
    and a floor in grey levels) and the minimum changed fraction of an area
    (``min_changed_fraction``); 0 disables detection and dynamic analysis. Measured at 320x180
    on the 2-core dev machine with one OpenCV thread: see ``bench/motion_cost.py``.
    """

    kind: ClassVar[str] = "motion"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = MOTION_SCHEMA
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(MOTION, "Motion", device_class="motion"),
    )

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        """On/off, and the sensitivity in normal mode (expert mode has two, by day and by
        night, and per area: those are set through the options)."""
        switches = super().controls(options)
        if options.get("mode", "normal") != "normal":
            return switches
        return (*switches, SENSITIVITY_CONTROL)

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._size = (context.width, context.height)
        self._areas = build_areas(options["areas"], context.width, context.height, MIN_PIXELS)
        self._dynamic: bool = options["dynamic_analysis"]
        self._switch = DayNightSwitch(options["day_night_switch"])
        self._plans = {
            "day": self._plan(options, "day"),
            "night": self._plan(options, "night"),
        }
        # sensitivity 0 everywhere (normal mode 0, or expert 0 by day and night): no events at
        # all, so no work at all
        self._off = not any(plan.rules for plan in self._plans.values())
        self._foreground = AdaptiveForeground(context.width, context.height, context.fps)
        self._events = MotionEvents(
            context.channel_id, options["hold_time"], [a.name for a in self._areas]
        )

    def _plan(self, options: Mapping[str, Any], period: str) -> _Plan:
        if options["mode"] == "normal":
            channel_value: int = options["sensitivity"]
        else:
            channel_value = options[f"{period}_sensitivity"]
        rules = []
        for area in self._areas:
            override = area.day_sensitivity if period == "day" else area.night_sensitivity
            value = channel_value if override is None else override
            if value > 0:
                minimum = math.ceil(min_changed_fraction(value) * area.pixels)
                rules.append(_AreaRule(area, level(value), max(MIN_PIXELS, minimum)))
        levels = tuple(dict.fromkeys(rule.level for rule in rules))
        smallest = min((rule.min_pixels for rule in rules), default=MIN_PIXELS)
        return _Plan(channel_value, tuple(rules), levels, smallest)

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        if self._off:
            return []
        if image.shape != (self._size[1], self._size[0]):
            image = downscale_luma(image, *self._size)
        # the mean brightness as sum / pixels (cv2.sumElems costs half of cv2.mean), only when
        # the switch reads it (``auto``; not the default): each OpenCV call is a GIL round trip
        luma = cv2.sumElems(image)[0] / image.size if self._switch.mode == "auto" else 0.0
        period = self._switch.update(luma, timestamp)
        plan = self._plans[period]
        found = self._foreground.update(image, timestamp, plan.levels, plan.min_pixels)
        finding = None
        if found is not None and found.masks:
            finding = self._find(plan, found, period)
        return self._events.observe(timestamp, finding)

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """End the active event; the next picture starts over with a fresh background."""
        self._foreground.reset()
        return self._events.finish(timestamp)

    def _find(self, plan: _Plan, found: Foreground, period: str) -> Finding | None:
        x, y, w, h = found.box
        moving: list[_AreaRule] = []
        parts: list[Plane] = []  # the changed pixels of each area in motion, in the box
        for rule in plan.rules:
            binary = found.masks[rule.level]
            mask = rule.area.mask
            if mask is not None:
                binary = cast(Plane, cv2.bitwise_and(binary, mask[y : y + h, x : x + w]))
            if cv2.countNonZero(binary) >= rule.min_pixels:
                moving.append(rule)
                parts.append(binary)
        if not moving:
            return None
        measure = None
        if self._dynamic:  # measured when an event reads them (``Finding``)
            smallest = min(rule.min_pixels for rule in moving)
            measure = functools.partial(self._boxes, parts, found.box, smallest)
        return Finding(
            areas=tuple(rule.area.name for rule in moving),
            sensitivity=plan.sensitivity,
            day_night=period,
            measure=measure,
        )

    def _boxes(
        self, parts: list[Plane], box: tuple[int, int, int, int], smallest: int
    ) -> tuple[Box, ...]:
        """Boxes of the moving regions inside the areas in motion ("dynamic analysis"), from
        their changed pixels inside the foreground's ``box``.

        Dilation joins the pieces of one object (a uniform object changes mostly at its
        edges); boxes smaller than ``smallest`` (the smallest minimum of those areas) are
        specks and dropped, unless nothing else is left. All of it on the box and a margin of
        ``_MARGIN`` pixels (what the dilation adds, and the border ``findContours`` leaves out),
        not on the whole picture: the boxes are the same.
        """
        width, height = self._size
        x, y, w, h = box
        x0, y0 = max(0, x - _MARGIN), max(0, y - _MARGIN)
        x1, y1 = min(width, x + w + _MARGIN), min(height, y + h + _MARGIN)
        motion = parts[0]
        for part in parts[1:]:
            motion = cast(Plane, cv2.bitwise_or(motion, part))
        motion = cast(
            Plane,
            cv2.copyMakeBorder(
                motion, y - y0, y1 - y - h, x - x0, x1 - x - w, cv2.BORDER_CONSTANT, value=0
            ),
        )
        grown = cast(Plane, cv2.dilate(motion, _KERNEL, iterations=2))
        contours, _ = cv2.findContours(
            grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0)
        )
        if len(contours) > _FEW_CONTOURS:
            boxes = _point_boxes(contours)
        else:
            boxes = [cv2.boundingRect(c) for c in contours]
        rects = sorted(boxes, key=lambda r: r[2] * r[3], reverse=True)
        kept = [r for r in rects[:MAX_BOXES] if r[2] * r[3] >= smallest] or rects[:1]
        return tuple(self._undilate(*rect) for rect in kept)

    def _undilate(self, x: int, y: int, w: int, h: int) -> Box:
        """Take back the 2 pixels the dilation added on each side (not at the picture's edge,
        where it could not add any), and normalise."""
        width, height = self._size
        x0, y0 = (x + 2 if x > 0 else 0), (y + 2 if y > 0 else 0)
        x1, y1 = (x + w - 2 if x + w < width else width), (y + h - 2 if y + h < height else height)
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        return Box(x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height)


def _point_boxes(contours: Sequence[npt.NDArray[np.int32]]) -> list[tuple[int, int, int, int]]:
    """``cv2.boundingRect`` of each contour, for all of them in a few numpy calls on their
    points together rather than one OpenCV call each: every OpenCV call releases the GIL and
    must take it back, a wait that grows with the threads of a busy process, and a busy
    picture has tens of contours (``busy360``: 13 a picture, 580 points in all). The
    connected components' boxes would be one call, but cost 6x ``findContours``' CPU."""
    if not contours:
        return []
    points = np.concatenate(contours).reshape(-1, 2)
    starts = np.cumsum([0, *(len(c) for c in contours[:-1])])
    low = np.minimum.reduceat(points, starts)
    high = np.maximum.reduceat(points, starts)
    boxes = np.hstack((low, high - low + 1))
    return [(x, y, w, h) for x, y, w, h in cast(list[list[int]], boxes.tolist())]


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``motion`` available under a channel's ``detectors:``."""
    register(MotionDetector)
