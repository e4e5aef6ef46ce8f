"""Helpers the image stages share: the chroma planes of a frame at their exact size, named
colours in YUV, whole-number and choice validators."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from camera_runtime.imaging import COLOURS, chroma, chroma_mask

COLOUR = vol.In(sorted(COLOURS))


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
