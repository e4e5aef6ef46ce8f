"""Image adjustment (manual 4.5.1): brightness, contrast, saturation, hue and sharpness, 0-100
each, 50 leaving the picture as it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, cast

import cv2
import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame, Plane

from ._yuv import LEVEL, chroma

NEUTRAL = 50
ADJUST_SCHEMA = vol.Schema(
    {
        vol.Optional("brightness", default=NEUTRAL): LEVEL,
        vol.Optional("contrast", default=NEUTRAL): LEVEL,
        vol.Optional("saturation", default=NEUTRAL): LEVEL,
        vol.Optional("hue", default=NEUTRAL): LEVEL,
        vol.Optional("sharpness", default=NEUTRAL): LEVEL,
    },
    extra=vol.PREVENT_EXTRA,
)


def luma_table(brightness: int, contrast: int) -> Plane:
    """The luma lookup table: contrast scales around mid-grey by ``2 ** ((c - 50) / 25)``
    (x0.25 at 0, x4 at 100), then brightness adds ``2 * (b - 50)`` grey levels (-100..+100)."""
    gain = 2.0 ** ((contrast - NEUTRAL) / 25)
    levels = np.arange(256, dtype=np.float64)
    out = (levels - 128.0) * gain + 128.0 + 2.0 * (brightness - NEUTRAL)
    table: Plane = np.clip(np.round(out), 0, 255).astype(np.uint8)
    return table


def chroma_table(saturation: int) -> Plane:
    """The chroma lookup table: the colour's distance from neutral (128) times ``s / 50``
    (0: grey picture, 100: twice as colourful)."""
    levels = np.arange(256, dtype=np.float64)
    out = (levels - 128.0) * (saturation / NEUTRAL) + 128.0
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def turn_hue(u: Plane, v: Plane, hue: int, gain: float) -> tuple[Plane, Plane]:
    """The chroma turned by ``3.6 x (hue - 50)`` degrees around neutral (-180 to +180: a full
    turn of the colour wheel) and scaled by ``gain`` (the saturation)."""
    angle = np.deg2rad(3.6 * (hue - NEUTRAL))
    cos, sin = gain * float(np.cos(angle)), gain * float(np.sin(angle))
    cu = u.astype(np.float32) - 128.0
    cv = v.astype(np.float32) - 128.0
    new_u = np.clip(np.rint(cu * cos - cv * sin + 128.0), 0, 255).astype(np.uint8)
    new_v = np.clip(np.rint(cu * sin + cv * cos + 128.0), 0, 255).astype(np.uint8)
    return new_u, new_v


class AdjustStage(ImageStage):
    """Lookup tables on the luma and chroma planes, and an unsharp mask (or a blur) on luma;
    at the defaults it returns the frame untouched (no copy)."""

    kind: ClassVar[str] = "adjust"
    ORDER: ClassVar[int] = 300
    CONFIG_SCHEMA: ClassVar[vol.Schema] = ADJUST_SCHEMA

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        super().__init__(options, context)
        b, c = options["brightness"], options["contrast"]
        self._luma = None if b == c == NEUTRAL else luma_table(b, c)
        s = options["saturation"]
        self._hue = options["hue"]
        #: Saturation alone is a lookup table; with a hue turn, U and V mix (per sample math).
        self._chroma = None if s == NEUTRAL or self._hue != NEUTRAL else chroma_table(s)
        self._gain = s / NEUTRAL
        #: Unsharp-mask amount: -1 (a plain blur) at 0, +1.5 at 100.
        sharp = options["sharpness"] - NEUTRAL
        self._sharpen = sharp / NEUTRAL * (1.5 if sharp > 0 else 1.0)

    def process(self, frame: Frame) -> Frame:
        y, u, v = frame.y, frame.u, frame.v
        if self._luma is not None:
            y = cast(Plane, cv2.LUT(y, self._luma))
        if self._sharpen:
            blurred = cv2.GaussianBlur(y, (0, 0), 1.0)
            amount = self._sharpen
            y = cast(Plane, cv2.addWeighted(y, 1.0 + amount, blurred, -amount, 0))
        if self._chroma is not None:
            u, v = chroma(frame)
            u = cast(Plane, cv2.LUT(u, self._chroma))
            v = cast(Plane, cv2.LUT(v, self._chroma))
        elif self._hue != NEUTRAL:
            u, v = turn_hue(*chroma(frame), self._hue, self._gain)
        if y is frame.y and u is frame.u:
            return frame
        return dataclasses.replace(frame, y=y, u=u, v=v)


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``adjust`` available under a channel's ``image:``."""
    register(AdjustStage)
