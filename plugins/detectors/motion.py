"""Motion detection (manual 6.1.1): a lean running-average detector with areas, day/night sensitivity and dynamic analysis."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
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
from .motion_areas import AREAS_SCHEMA, WHOLE_PICTURE, MotionArea, build_areas
from .motion_events import MOTION, Finding, MotionEvents
from .validators import SENSITIVITY, number

#: Time constant of the running-average background (seconds): how fast a change is absorbed.
#: At 0.3 s a walker's box is about twice its width (the trail fades fast); longer times
#: stretch the trail, shorter ones leave only the edges of slow objects. Never below 1.5
#: detect frames, so low detect rates still average.
BACKGROUND_TIME = 0.3
#: After this long without a picture (seconds) the background is stale and is learnt anew.
MAX_GAP = 10.0
#: When more than this fraction of the picture changed at once, the scene changed (lights
#: switched, camera moved, IR cut filter): the background is re-learnt and no motion reported.
SCENE_CHANGE_FRACTION = 0.5
#: The brightness ratio between picture and background is estimated on a grid of blocks
#: (their median, so a moving object covering less than half the blocks does not bias it).
GAIN_BLOCKS = (16, 9)
#: Fewest changed pixels that can count as motion, whatever the sensitivity.
MIN_PIXELS = 4
#: At most this many boxes per picture (the largest).
MAX_BOXES = 10

_KERNEL = np.ones((3, 3), dtype=np.uint8)


def pixel_threshold(sensitivity: int) -> int:
    """Grey-level difference above which a pixel changed: ``round(5 + 40 * (100 - s) / 100)``.

    Sensitivity 100 -> 5 (just above sensor noise after the blur), 50 -> 25, 1 -> 45.
    """
    return round(5 + 40 * (100 - sensitivity) / 100)


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
    threshold: int
    min_pixels: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to compute in one period (day or night): built once, used per picture."""

    sensitivity: int
    rules: tuple[_AreaRule, ...]
    thresholds: tuple[int, ...]  # distinct pixel thresholds of the rules, lowest first


class MotionDetector(Detector):
    """Motion detection of the manual's 6.1.1, on the channel's small grey picture.

    Per picture: a 5x5 Gaussian blur; the background (float, running average with time
    constant ``BACKGROUND_TIME``) scaled by the scene's brightness ratio, so that exposure and
    light-level changes cancel; absolute difference; threshold; changed pixels counted per area
    (before any dilation, so noise specks are not inflated) against the area's minimum. Areas
    over their minimum are "in motion". For dynamic analysis, the changed pixels of those areas
    are dilated and their contours' bounding boxes reported. A picture where most of the
    scene changed at once re-seeds the background instead. The very first picture, and the
    first after a ``MAX_GAP`` pause, only seed the background.

    Sensitivity sets both the pixel threshold (``pixel_threshold``) and the minimum changed
    fraction of an area (``min_changed_fraction``); 0 disables detection and dynamic analysis.
    Measured at 320x180 on the 2-core dev machine (medians over 3,000 pictures): 90 us for a
    picture without motion, 135 us with motion and boxes, 165 us with three polygon areas.
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
        self._pixels = context.width * context.height
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
        fps = context.fps if context.fps > 0 else 10.0
        self._frame_time = 1.0 / fps
        self._tau = max(BACKGROUND_TIME, 1.5 * self._frame_time)
        self._events = MotionEvents(
            context.channel_id, options["hold_time"], [a.name for a in self._areas]
        )
        self._background: npt.NDArray[np.float32] | None = None
        self._block_background: npt.NDArray[np.float32] | None = None
        self._last_timestamp = 0.0

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
                rules.append(_AreaRule(area, pixel_threshold(value), max(MIN_PIXELS, minimum)))
        thresholds = tuple(sorted({rule.threshold for rule in rules}))
        return _Plan(channel_value, tuple(rules), thresholds)

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        if self._off:
            return []
        if image.shape != (self._size[1], self._size[0]):
            image = downscale_luma(image, *self._size)
        # OpenCV's stubs type every result as an any-dtype array; these are uint8 like the input
        blurred = cast(Plane, cv2.GaussianBlur(image, (5, 5), 0))
        blocks = cast(Plane, cv2.resize(blurred, GAIN_BLOCKS, interpolation=cv2.INTER_AREA))
        period = self._switch.update(float(blocks.mean()), timestamp)
        elapsed = timestamp - self._last_timestamp
        self._last_timestamp = timestamp
        if self._background is None or self._block_background is None or elapsed > MAX_GAP:
            self._seed(blurred, blocks)
            return self._events.observe(timestamp, None)
        if elapsed <= 0:  # a wall clock stepped back, or a repeated timestamp
            elapsed = self._frame_time
        alpha = 1.0 - math.exp(-elapsed / self._tau)

        plan = self._plans[period]
        finding = None
        if plan.rules:
            gain = self._gain(blocks, self._block_background)
            reference = cv2.convertScaleAbs(self._background, alpha=gain)
            difference = cv2.absdiff(blurred, reference)
            changed = {
                t: cast(Plane, cv2.threshold(difference, t, 255, cv2.THRESH_BINARY)[1])
                for t in plan.thresholds
            }
            if cv2.countNonZero(changed[plan.thresholds[0]]) > SCENE_CHANGE_FRACTION * self._pixels:
                self._seed(blurred, blocks)
                return self._events.observe(timestamp, None)
            finding = self._find(plan, changed, period)
        cv2.accumulateWeighted(blurred, self._background, alpha)
        cv2.accumulateWeighted(blocks, self._block_background, alpha)
        return self._events.observe(timestamp, finding)

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """End the active event; the next picture starts over with a fresh background."""
        self._background = None
        return self._events.finish(timestamp)

    def _seed(self, blurred: Plane, blocks: Plane) -> None:
        self._background = blurred.astype(np.float32)
        self._block_background = blocks.astype(np.float32)

    @staticmethod
    def _gain(blocks: Plane, block_background: npt.NDArray[np.float32]) -> float:
        """Brightness of the picture relative to the background: the median of the block
        ratios (+2 keeps black blocks from dominating), clamped to a sane range."""
        ratios = (blocks.astype(np.float32) + 2.0) / (block_background + 2.0)
        flat = ratios.ravel()
        middle = flat.size // 2
        return min(4.0, max(0.25, float(np.partition(flat, middle)[middle])))

    def _find(self, plan: _Plan, changed: dict[int, Plane], period: str) -> Finding | None:
        moving: list[_AreaRule] = []
        for rule in plan.rules:
            binary = changed[rule.threshold]
            mask = rule.area.mask
            count = cv2.countNonZero(binary if mask is None else cv2.bitwise_and(binary, mask))
            if count >= rule.min_pixels:
                moving.append(rule)
        if not moving:
            return None
        boxes = self._boxes(moving, changed) if self._dynamic else None
        return Finding(
            areas=tuple(rule.area.name for rule in moving),
            boxes=boxes,
            sensitivity=plan.sensitivity,
            day_night=period,
        )

    def _boxes(self, moving: list[_AreaRule], changed: dict[int, Plane]) -> tuple[Box, ...]:
        """Boxes of the moving regions inside the areas in motion ("dynamic analysis").

        Dilation joins the pieces of one object (a uniform object changes mostly at its
        edges); boxes smaller than the smallest minimum of those areas are specks and
        dropped, unless nothing else is left.
        """
        first = moving[0]
        if len(moving) == 1 and first.area.mask is None:
            motion = changed[first.threshold]
        else:
            motion = np.zeros((self._size[1], self._size[0]), dtype=np.uint8)
            for rule in moving:
                binary = changed[rule.threshold]
                part = binary if rule.area.mask is None else cv2.bitwise_and(binary, rule.area.mask)
                cv2.bitwise_or(motion, part, dst=motion)
        grown = cv2.dilate(motion, _KERNEL, iterations=2)
        contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        rects = sorted(
            (cv2.boundingRect(c) for c in contours), key=lambda r: r[2] * r[3], reverse=True
        )
        smallest = min(rule.min_pixels for rule in moving)
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


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``motion`` available under a channel's ``detectors:``."""
    register(MotionDetector)
