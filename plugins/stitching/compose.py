"""Per-frame composition of several sensors into one canvas: fixed remap tables, feathered seams.

Built once from a calibration (one 3x3 matrix per sensor, sensor pixels to canvas pixels),
then ``compose`` runs per frame on the Y, U and V planes, never converting to BGR (decoded
frames are YUV, and so is what the encoders take).

Why it is fast: the sensors' planes are copied one below the other into one tall buffer, so
a single ``cv2.remap`` over the canvas (CV_16SC2 tables) fetches every output pixel from the
sensor that sees it best (the one whose own border is furthest): the cost of a plain remap of
the canvas. Only a band of ``feather`` pixels along each seam (where two sensors' border
distances are equal) takes a second remap of the other sensor's pixels and a
``cv2.blendLinear``, the share ramping linearly across the band. Where more than two sensors
overlap, the two best are blended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from camera_runtime.model import Frame, Plane

#: What the canvas shows where no sensor sees: black, in limited-range YUV.
_BLACK = (16, 128, 128)
#: Map coordinates that fall outside every sensor (remap paints the border value there).
_NOWHERE = -16.0


@dataclass(frozen=True, slots=True)
class _Seam:
    """One seam's rectangle of the canvas: the second sensor's tables and the feather weights."""

    x: int
    y: int
    w: int
    h: int
    maps: tuple[Any, Any]
    first: Any  # float32 weight of what the single remap fetched
    second: Any  # float32 weight of the second sensor
    scratch: Any  # where the second sensor's pixels are fetched to (no allocation per frame)


@dataclass(frozen=True, slots=True)
class _PlanePlan:
    """The fixed tables of one plane (luma at full size, chroma at half)."""

    width: int
    height: int
    maps: tuple[Any, Any]
    seams: tuple[_Seam, ...]
    black: int


def _to_canvas(matrix: npt.NDArray[np.float64], scale: float) -> npt.NDArray[np.float64]:
    """``matrix`` for planes ``scale`` times the luma's size."""
    s = np.diag([scale, scale, 1.0])
    return s @ matrix @ np.linalg.inv(s)


def _plan(
    matrices: Sequence[npt.NDArray[np.float64]],
    sizes: Sequence[tuple[int, int]],
    offsets: Sequence[int],
    canvas: tuple[int, int],
    feather: float,
    black: int,
) -> _PlanePlan:
    """For each canvas pixel: the best and second-best sensor (by feather weight) and where
    each sees it in the stacked buffer; the seams are the regions with a second sensor."""
    width, height = canvas
    best_w: Any = np.zeros((height, width), np.float32)
    second_w: Any = np.zeros_like(best_w)
    best: list[Any] = [np.full_like(best_w, _NOWHERE), np.full_like(best_w, _NOWHERE)]
    second: list[Any] = [np.full_like(best_w, _NOWHERE), np.full_like(best_w, _NOWHERE)]
    label: Any = np.full((height, width), -1, np.int8)
    boxes: list[tuple[int, int, int, int]] = []
    for index, (matrix, (w, h), offset) in enumerate(zip(matrices, sizes, offsets, strict=True)):
        # Only the box around this sensor's picture on the canvas: a quarter of it, or less.
        corners = np.array([[[0, 0]], [[w - 1, 0]], [[w - 1, h - 1]], [[0, h - 1]]], np.float32)
        placed = cv2.perspectiveTransform(corners, matrix).reshape(-1, 2)
        bx0, by0 = np.clip(np.floor(placed.min(axis=0)).astype(int), 0, [width, height])
        bx1, by1 = np.clip(np.ceil(placed.max(axis=0)).astype(int) + 1, 0, [width, height])
        box = np.s_[by0:by1, bx0:bx1]
        boxes.append((int(bx0), int(by0), int(bx1), int(by1)))
        xs, ys = np.meshgrid(
            np.arange(bx0, bx1, dtype=np.float32), np.arange(by0, by1, dtype=np.float32)
        )
        grid = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2)
        src = cv2.perspectiveTransform(grid, np.linalg.inv(matrix)).reshape(by1 - by0, bx1 - bx0, 2)
        sx, sy = src[..., 0], src[..., 1]
        # How deep inside this sensor's picture the pixel is (the product of its distances
        # to the nearest side and to the top or bottom): each pixel comes from the sensor
        # that sees it deepest, so seams run midway through the overlaps.
        across = np.minimum(sx, w - 1 - sx)
        down = np.minimum(sy, h - 1 - sy)
        inside = (across >= 0) & (down >= 0)
        weight = np.where(inside, (across + 1.0) * (down + 1.0), 0.0).astype(np.float32)
        sy = sy + offset
        beats_best = weight > best_w[box]
        beats_second = ~beats_best & (weight > second_w[box])
        # The old best becomes the second where this sensor beats it.
        for values, coord in ((second_w, best_w), *zip(second, best, strict=True)):
            np.copyto(values[box], coord[box], where=beats_best)
        for values, coord in ((second_w, weight), (second[0], sx), (second[1], sy)):
            np.copyto(values[box], coord, where=beats_second)
        for values, coord in ((best_w, weight), (best[0], sx), (best[1], sy)):
            np.copyto(values[box], coord, where=beats_best)
        np.copyto(label[box], np.int8(index), where=beats_best)
    maps = cv2.convertMaps(best[0], best[1], cv2.CV_16SC2)
    seams: list[_Seam] = []
    if feather > 0:
        # The feathered band: within ``feather / 2`` pixels of a seam (a pixel's distance to
        # the nearest pixel another sensor gives), the share ramps linearly from 1/2 on the
        # seam to all of its own sensor's.
        depth: Any = np.zeros((height, width), np.float32)
        margin = int(feather) // 2 + 2  # distances past the band need not be exact
        for index, (bx0, by0, bx1, by1) in enumerate(boxes):
            area = np.s_[
                max(0, by0 - margin) : min(height, by1 + margin),
                max(0, bx0 - margin) : min(width, bx1 + margin),
            ]
            own = ((label[area] == index) | (label[area] < 0)).astype(np.uint8)
            distance = cv2.distanceTransform(own, cv2.DIST_L2, 3)
            np.copyto(depth[area], distance, where=label[area] == index)
        band = (second_w > 0) & (depth < feather / 2)
        for x, y, w, h in _rects(band):
            area = np.s_[y : y + h, x : x + w]
            has = band[area]
            sx = np.where(has, second[0][area], best[0][area]).astype(np.float32)
            sy = np.where(has, second[1][area], best[1][area]).astype(np.float32)
            first = np.where(has, 0.5 + depth[area] / feather, 1.0).astype(np.float32)
            maps_b = cv2.convertMaps(sx, sy, cv2.CV_16SC2)
            scratch = np.empty((h, w), np.uint8)
            seams.append(_Seam(x, y, w, h, maps_b, first, 1.0 - first, scratch))
    return _PlanePlan(width, height, maps, tuple(seams), black)


#: Rows per band of the seam search: a seam's rectangles hug it (a slanted seam, or one
#: that bends along a picture's top edge, would otherwise span the whole overlap).
_BAND_ROWS = 64


def _rects(mask: Any) -> list[tuple[int, int, int, int]]:
    """Rectangles (x, y, w, h) covering ``mask``'s pixels, tight per band of rows."""
    rects = []
    for top in range(0, mask.shape[0], _BAND_ROWS):
        rows = mask[top : top + _BAND_ROWS].astype(np.uint8)
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(rows, connectivity=8)
        rects += [(int(x), int(y) + top, int(w), int(h)) for x, y, w, h, _ in stats[1:count]]
    return rects


class Composer:
    """Composes frames of the calibrated sizes into the canvas; one thread at a time."""

    def __init__(
        self,
        matrices: Sequence[npt.NDArray[np.float64]],
        sizes: Sequence[tuple[int, int]],
        canvas: tuple[int, int],
        feather: float,
    ) -> None:
        self.sizes = [tuple(size) for size in sizes]
        self.canvas = canvas
        offsets, row = [], 0
        for _w, h in sizes:
            offsets.append(row)
            row += h
        stack_w = max(w for w, _h in sizes)
        self._offsets = offsets
        self._luma = _plan(matrices, sizes, offsets, canvas, feather, _BLACK[0])
        half = [_to_canvas(m, 0.5) for m in matrices]
        half_sizes = [(w // 2, h // 2) for w, h in sizes]
        half_canvas = (canvas[0] // 2, canvas[1] // 2)
        self._chroma = _plan(
            half, half_sizes, [o // 2 for o in offsets], half_canvas, feather / 2, _BLACK[1]
        )
        self._stack = (
            np.full((row, stack_w), _BLACK[0], np.uint8),
            np.full((row // 2, stack_w // 2), _BLACK[1], np.uint8),
            np.full((row // 2, stack_w // 2), _BLACK[2], np.uint8),
        )

    def compose(self, frames: Sequence[Frame]) -> Frame:
        """One canvas from one frame per sensor (in calibration order)."""
        if len(frames) != len(self.sizes):
            raise ValueError(f"expected {len(self.sizes)} frames, got {len(frames)}")
        for frame, offset, (w, h) in zip(frames, self._offsets, self.sizes, strict=True):
            if (frame.width, frame.height) != (w, h):
                raise ValueError(f"a {frame.width}x{frame.height} frame for a {w}x{h} sensor")
            self._stack[0][offset : offset + h, :w] = frame.y
            half = offset // 2
            self._stack[1][half : half + h // 2, : w // 2] = frame.u[: h // 2, : w // 2]
            self._stack[2][half : half + h // 2, : w // 2] = frame.v[: h // 2, : w // 2]
        y = _compose_plane(self._stack[0], self._luma)
        u = _compose_plane(self._stack[1], self._chroma)
        v = _compose_plane(self._stack[2], self._chroma)
        for plane in (y, u, v):
            plane.flags.writeable = False
        first = frames[0]
        return Frame(
            y=y,
            u=u,
            v=v,
            pts=first.pts,
            wall_time=first.wall_time,
            demux_time=min(frame.demux_time for frame in frames),
            keyframe=all(frame.keyframe for frame in frames),
        )


def remap(plane: Plane, maps: tuple[Any, Any], border: int, dst: Any = None) -> Plane:
    """``plane`` through fixed tables (CV_16SC2), bilinear; ``border`` where they point off
    it; into ``dst`` when given (of the tables' size)."""
    out = cv2.remap(
        plane,
        maps[0],
        maps[1],
        cv2.INTER_LINEAR,
        dst=dst,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
    return cast(Plane, out)


def _compose_plane(stack: Plane, plan: _PlanePlan) -> Plane:
    out = remap(stack, plan.maps, plan.black)
    for seam in plan.seams:
        area = out[seam.y : seam.y + seam.h, seam.x : seam.x + seam.w]
        other = remap(stack, seam.maps, plan.black, seam.scratch)
        cv2.blendLinear(area, other, seam.first, seam.second, dst=area)
    return out
