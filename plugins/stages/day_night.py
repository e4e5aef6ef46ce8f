"""Day/night switch (manual 4.5.1): a colour picture by day, a grey one by night; the mode is
fixed (day, night), scheduled (the day's start and end time) or automatic from the scene's
brightness, with a hysteresis so that it does not flicker at dusk."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame, Plane

from ._yuv import chroma, whole_number

MODES = ("auto", "scheduled", "day", "night")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def clock_time(value: Any) -> str:
    """``HH:MM``, 24-hour."""
    if not isinstance(value, str) or not _TIME.match(value):
        raise vol.Invalid("expected a time of day as HH:MM (00:00 to 23:59)")
    return value


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


DAY_NIGHT_SCHEMA = vol.Schema(
    {
        vol.Optional("mode", default="auto"): vol.In(MODES),
        # auto: night below this mean luma (0-255) ...
        vol.Optional("threshold", default=50): vol.All(whole_number, vol.Range(min=1, max=254)),
        # ... and day again only above threshold + hysteresis.
        vol.Optional("hysteresis", default=10): vol.All(whole_number, vol.Range(min=0, max=100)),
        # scheduled: the day runs from day_start to day_end (over midnight if end < start).
        vol.Optional("day_start", default="06:00"): clock_time,
        vol.Optional("day_end", default="18:00"): clock_time,
    },
    extra=vol.PREVENT_EXTRA,
)


def scene_brightness(y: Plane) -> float:
    """Mean luma of the picture, read on every 8th pixel of every 8th row (cheap)."""
    return float(np.mean(y[::8, ::8]))


def is_day_by_schedule(wall_time: float, day_start: str, day_end: str) -> bool:
    """Whether the local time of ``wall_time`` is within the day (start included, end not)."""
    local = time.localtime(wall_time)
    now = local.tm_hour * 60 + local.tm_min
    start, end = _minutes(day_start), _minutes(day_end)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


class DayNightStage(ImageStage):
    """By night the chroma planes are neutral (128): a grey picture. The auto mode starts as
    day and turns to night when the scene's brightness drops below ``threshold``, back to day
    when it rises above ``threshold + hysteresis``."""

    kind: ClassVar[str] = "day_night"
    ORDER: ClassVar[int] = 400
    CONFIG_SCHEMA: ClassVar[vol.Schema] = DAY_NIGHT_SCHEMA

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        super().__init__(options, context)
        self.night = options["mode"] == "night"
        self._grey: Plane | None = None

    def _is_night(self, frame: Frame) -> bool:
        mode = self.options["mode"]
        if mode == "auto":
            level = scene_brightness(frame.y)
            threshold = self.options["threshold"]
            if self.night and level > threshold + self.options["hysteresis"]:
                self.night = False
            elif not self.night and level < threshold:
                self.night = True
        elif mode == "scheduled":
            day = is_day_by_schedule(
                frame.wall_time, self.options["day_start"], self.options["day_end"]
            )
            self.night = not day
        return bool(self.night)

    def process(self, frame: Frame) -> Frame:
        if not self._is_night(frame):
            return frame
        u, _ = chroma(frame)
        grey = self._grey
        if grey is None or grey.shape != u.shape:
            # One neutral plane, read-only, shared by every night frame of this size.
            grey = np.full(u.shape, 128, dtype=np.uint8)
            grey.flags.writeable = False
            self._grey = grey
        return dataclasses.replace(frame, u=grey, v=grey)


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``day_night`` available under a channel's ``image:``."""
    register(DayNightStage)
