"""Frames and stage builders for the image stage tests: planes built with numpy, read-only like
a decoder's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame, Plane
from camera_runtime.registry import build_plugins

REGISTRY = build_plugins()[1]


def readonly(plane: Plane) -> Plane:
    plane = np.array(plane, dtype=np.uint8, order="C", copy=True)
    plane.flags.writeable = False
    return plane


def frame(
    y: Plane, u: Plane | None = None, v: Plane | None = None, wall_time: float = 0.0
) -> Frame:
    """A frame from its planes; chroma defaults to neutral (128)."""
    h, w = y.shape
    ch = ((h + 1) // 2, (w + 1) // 2)
    u = np.full(ch, 128, np.uint8) if u is None else u
    v = np.full(ch, 128, np.uint8) if v is None else v
    return Frame(readonly(y), readonly(u), readonly(v), 0.0, wall_time, 0.0)


def gradient(width: int = 64, height: int = 48) -> Frame:
    """Every pixel different enough to tell where it went: y = row*width + col (mod 256),
    u and v distinct per chroma sample."""
    y = (np.arange(width * height, dtype=np.int64).reshape(height, width) % 256).astype(np.uint8)
    ch, cw = (height + 1) // 2, (width + 1) // 2
    u = (np.arange(ch * cw).reshape(ch, cw) % 200 + 20).astype(np.uint8)
    v = (np.arange(ch * cw).reshape(ch, cw)[::-1] % 200 + 30).astype(np.uint8)
    return frame(y, u, v)


def stage(kind: str, options: Mapping[str, Any], width: int, height: int) -> ImageStage:
    """A built-in stage built as a channel builds it: options checked by its schema."""
    cls = REGISTRY.image_stage(kind)
    return cls(cls.CONFIG_SCHEMA(dict(options)), StageContext("cam", "Cam", width, height, 25.0))
