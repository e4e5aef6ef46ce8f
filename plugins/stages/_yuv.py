"""Helpers the image stages share: the chroma planes of a frame at their exact size, named
colours in YUV, whole-number and choice validators."""

from __future__ import annotations

from typing import Any

import numpy as np
import voluptuous as vol

from camera_runtime.imaging import COLOURS, chroma
from camera_runtime.model import Plane

COLOUR = vol.In(sorted(COLOURS))


def chroma_mask(mask: Plane) -> Plane:
    """The chroma-size mask of a luma-size 0/1 mask: a chroma sample is in when any of the
    2x2 luma pixels it colours is in (so no colour of a masked pixel leaks)."""
    h, w = mask.shape
    padded = np.zeros((h + h % 2, w + w % 2), dtype=np.uint8)
    padded[:h, :w] = mask
    blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2)
    out: Plane = blocks.max(axis=(1, 3)).astype(np.uint8)
    return out


def whole_number(value: Any) -> int:
    """An integer; unlike voluptuous' ``int`` check, ``true``/``false`` are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected a whole number")
    return value


def fraction(value: Any) -> float:
    """A number from 0 to 1 (a normalised picture coordinate)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number from 0 to 1")
    if not 0.0 <= value <= 1.0:
        raise vol.Invalid("expected a number from 0 to 1")
    return float(value)


LEVEL = vol.All(whole_number, vol.Range(min=0, max=100))


__all__ = [
    "COLOUR",
    "COLOURS",
    "LEVEL",
    "chroma",
    "chroma_mask",
    "fraction",
    "whole_number",
]
