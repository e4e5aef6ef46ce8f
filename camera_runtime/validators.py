"""Voluptuous validators shared by config sections that live in different modules."""

from __future__ import annotations

from typing import Any

import voluptuous as vol


def resolution(value: Any) -> tuple[int, int]:
    """``"640x480"`` (the manual's "Cropping Resolution") as ``(640, 480)``: even, 32-7680."""
    text = str(value).lower().replace(" ", "")
    width, sep, height = text.partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise vol.Invalid("expected a resolution like 640x480")
    w, h = int(width), int(height)
    if not (32 <= w <= 7680 and 32 <= h <= 7680) or w % 2 or h % 2:
        raise vol.Invalid("width and height must be even, from 32 to 7680")
    return w, h
