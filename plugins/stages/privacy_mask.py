"""Privacy mask (manual 4.8): up to 4 polygons per channel covered with a solid colour in every
frame before anything is shown, stored or detected, switched on and off at run time."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import Control, switch
from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame, Plane

from ._yuv import COLOUR, COLOURS, chroma, chroma_mask, fraction

MAX_AREAS = 4
MIN_POINTS, MAX_POINTS = 3, 10


def _point(value: Any) -> list[float]:
    """``[x, y]`` in normalised picture coordinates (0..1 of the width and height)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise vol.Invalid("a point is [x, y]: two numbers from 0 to 1")
    out = []
    for index, coordinate in enumerate(value):
        try:
            out.append(fraction(coordinate))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index]) from None
    return out


def _cross(o: Sequence[float], a: Sequence[float], b: Sequence[float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Sequence[float], q: Sequence[float], r: Sequence[float]) -> bool:
    """``r`` (collinear with ``p``-``q``) lies within the segment's box."""
    return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(p[1], q[1])


def segments_meet(
    p1: Sequence[float], p2: Sequence[float], q1: Sequence[float], q2: Sequence[float]
) -> bool:
    """Whether the closed segments p1-p2 and q1-q2 share a point (touching counts)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(q1, q2, p1))
        or (d2 == 0 and _on_segment(q1, q2, p2))
        or (d3 == 0 and _on_segment(p1, p2, q1))
        or (d4 == 0 and _on_segment(p1, p2, q2))
    )


def _simple_polygon(points: list[list[float]]) -> list[list[float]]:
    """Refuse a polygon whose edges cross or touch (other than neighbours at their shared
    corner) and one that encloses no area: which side would be masked is then unclear."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a corner
            if segments_meet(*edges[i], *edges[j]):
                raise vol.Invalid(
                    f"the polygon crosses itself (edges {i + 1} and {j + 1}): draw its "
                    "corners in order around the area"
                )
    twice_area = sum(a[0] * b[1] - b[0] * a[1] for a, b in edges)
    if abs(twice_area) < 1e-6:
        raise vol.Invalid("the polygon encloses no area")
    return points


POLYGON = vol.All(
    [vol.Schema(_point)],
    vol.Length(
        min=MIN_POINTS,
        max=MAX_POINTS,
        msg=f"a privacy mask area has {MIN_POINTS} to {MAX_POINTS} points",
    ),
    _simple_polygon,
)

PRIVACY_MASK_SCHEMA = vol.Schema(
    {
        vol.Required("areas"): vol.All(
            [POLYGON],
            vol.Length(
                min=1, max=MAX_AREAS, msg=f"a channel has 1 to {MAX_AREAS} privacy mask areas"
            ),
        ),
        vol.Optional("color", default="black"): COLOUR,
    },
    extra=vol.PREVENT_EXTRA,
)


def rasterise(areas: Sequence[Sequence[Sequence[float]]], width: int, height: int) -> Plane:
    """A ``height`` x ``width`` mask, 1 inside any area: corner (x, y) is at (x * width,
    y * height) in pixel edges, and a pixel is in when its centre is (an area from 0 to 1 covers
    the whole picture, one from 0.25 to 0.75 of a 64-wide picture columns 16 to 47).

    A scanline fill, once per build: each row's centre line crosses the area's edges at sorted
    points, and the pixels whose centres lie between a pair of them are in.
    """
    mask = np.zeros((height, width), dtype=np.uint8)
    centres = np.arange(height, dtype=np.float64) + 0.5
    for area in areas:
        corners = np.array(area, dtype=np.float64) * np.array([width, height], dtype=np.float64)
        ends = np.roll(corners, -1, axis=0)
        crossings: list[list[float]] = [[] for _ in range(height)]
        for (x0, y0), (x1, y1) in zip(corners, ends, strict=True):
            if y0 == y1:
                continue  # a level edge crosses no centre line (its ends count for its neighbours)
            low, high = min(y0, y1), max(y0, y1)
            rows = np.nonzero((centres >= low) & (centres < high))[0]
            xs = x0 + (centres[rows] - y0) * (x1 - x0) / (y1 - y0)
            for row, x in zip(rows.tolist(), xs.tolist(), strict=True):
                crossings[row].append(x)
        for row, xs_row in enumerate(crossings):
            xs_row.sort()
            for a, b in zip(xs_row[::2], xs_row[1::2], strict=False):
                first = max(0, math.ceil(a - 0.5))
                last = min(width, math.ceil(b - 0.5))
                if last > first:
                    mask[row, first:last] = 1
    return mask


class _Region:
    """The masked pixels of one plane size: their bounding box and the mask within it, so a
    frame's fill touches only that box."""

    def __init__(self, mask: Plane) -> None:
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if rows.size == 0:
            self.box: tuple[slice, slice] | None = None
            self.inside = mask.astype(bool)
        else:
            self.box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
            self.inside = mask[self.box].astype(bool)

    def fill(self, plane: Plane, value: int) -> None:
        if self.box is not None:
            np.copyto(plane[self.box], np.uint8(value), where=self.inside)


class PrivacyMaskStage(ImageStage):
    """Covers its areas with ``color``: each masked pixel is exactly that colour in the frame
    every later stage, encoder, snapshot and detector receives."""

    kind: ClassVar[str] = "privacy_mask"
    ORDER: ClassVar[int] = 500
    PRIVACY: ClassVar[bool] = True
    CONFIG_SCHEMA: ClassVar[vol.Schema] = PRIVACY_MASK_SCHEMA

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        super().__init__(options, context)
        mask = rasterise(options["areas"], context.width, context.height)
        self._luma = _Region(mask)
        self._chroma = _Region(chroma_mask(mask))
        self._fill = COLOURS[options["color"]]

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        return (switch("privacy_mask", "Privacy mask", config=True, icon="mdi:eye-off"),)

    def process(self, frame: Frame) -> Frame:
        fy, fu, fv = self._fill
        u, v = chroma(frame)
        y = frame.y.copy()
        u, v = u.copy(), v.copy()
        self._luma.fill(y, fy)
        self._chroma.fill(u, fu)
        self._chroma.fill(v, fv)
        return dataclasses.replace(frame, y=y, u=u, v=v)


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``privacy_mask`` available under a channel's ``image:``."""
    register(PrivacyMaskStage)
