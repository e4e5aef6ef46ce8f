"""Per-frame composition of several sensors into one canvas: fixed remap tables, feathered seams.

Built once from a calibration (one 3x3 matrix per sensor, sensor pixels to canvas pixels),
then ``compose`` runs per frame on the Y, U and V planes, never converting to BGR (decoded
frames are YUV, and so is what the encoders take).

Why it is fast: the sensors' planes are copied one below the other into one tall buffer, so
a single ``cv2.remap`` over the canvas (CV_16SC2 tables) fetches every output pixel from the
sensor that sees it best: the cost of a plain remap of the canvas. Only the seams, where two
sensors overlap, take a second remap of the other sensor's pixels and a ``cv2.blendLinear``
with feather weights (each sensor's weight grows with the distance from its own border, as
OpenCV's FeatherBlender does). Where more than two sensors overlap, the two best are blended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

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


@dataclass(frozen=True, slots=True)
class _PlanePlan:
    """The fixed tables of one plane (luma at full size, chroma at half)."""

    width: int
    height: int
    maps: tuple[Any, Any]
    seams: tuple[_Seam, ...]
    black: int


def _to_canvas(matrix: np.ndarray, scale: float) -> np.ndarray:
    """``matrix`` for planes ``scale`` times the luma's size."""
    s = np.diag([scale, scale, 1.0])
    return s @ matrix @ np.linalg.inv(s)  # type: ignore[no-any-return]


def _plan(
    matrices: Sequence[np.ndarray],
    sizes: Sequence[tuple[int, int]],
    offsets: Sequence[int],
    canvas: tuple[int, int],
    feather: float,
    black: int,
) -> _PlanePlan:
    """For each canvas pixel: the best and second-best sensor (by feather weight) and where
    each sees it in the stacked buffer; the seams are the regions with a second sensor."""
    width, height = canvas
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2)
    best_w = np.zeros((height, width), np.float32)
    second_w = np.zeros_like(best_w)
    best = [np.full_like(best_w, _NOWHERE), np.full_like(best_w, _NOWHERE)]
    second = [np.full_like(best_w, _NOWHERE), np.full_like(best_w, _NOWHERE)]
    for matrix, (w, h), offset in zip(matrices, sizes, offsets, strict=True):
        src = cv2.perspectiveTransform(grid, np.linalg.inv(matrix)).reshape(height, width, 2)
        sx, sy = src[..., 0], src[..., 1]
        edge = np.minimum(np.minimum(sx, w - 1 - sx), np.minimum(sy, h - 1 - sy))
        weight = np.where(edge >= 0, np.minimum(edge + 1.0, max(feather, 1.0)), 0.0)
        weight = weight.astype(np.float32)
        sy = sy + offset
        beats_best = weight > best_w
        beats_second = ~beats_best & (weight > second_w)
        # The old best becomes the second where this sensor beats it.
        for i, coord in enumerate((sx, sy)):
            second[i] = np.where(beats_best, best[i], np.where(beats_second, coord, second[i]))
            best[i] = np.where(beats_best, coord, best[i])
        second_w = np.where(beats_best, best_w, np.where(beats_second, weight, second_w))
        best_w = np.where(beats_best, weight, best_w)
    maps = cv2.convertMaps(best[0], best[1], cv2.CV_16SC2)
    seams: list[_Seam] = []
    if feather > 0:
        overlap = (second_w > 0).astype(np.uint8)
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(overlap, connectivity=8)
        total = best_w + second_w
        for label in range(1, count):
            x, y, w, h = (int(v) for v in stats[label, :4])
            area = np.s_[y : y + h, x : x + w]
            has = second_w[area] > 0
            sx = np.where(has, second[0][area], best[0][area]).astype(np.float32)
            sy = np.where(has, second[1][area], best[1][area]).astype(np.float32)
            first = np.where(has, best_w[area] / np.maximum(total[area], 1e-6), 1.0)
            seams.append(
                _Seam(
                    x,
                    y,
                    w,
                    h,
                    cv2.convertMaps(sx, sy, cv2.CV_16SC2),
                    first.astype(np.float32),
                    (1.0 - first).astype(np.float32),
                )
            )
    return _PlanePlan(width, height, maps, tuple(seams), black)


class Composer:
    """Composes frames of the calibrated sizes into the canvas; one thread at a time."""

    def __init__(
        self,
        matrices: Sequence[np.ndarray],
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


def _compose_plane(stack: Plane, plan: _PlanePlan) -> Plane:
    out: Plane = cv2.remap(
        stack,
        plan.maps[0],
        plan.maps[1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=plan.black,
    )
    for seam in plan.seams:
        area = out[seam.y : seam.y + seam.h, seam.x : seam.x + seam.w]
        other = cv2.remap(
            stack,
            seam.maps[0],
            seam.maps[1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=plan.black,
        )
        area[:] = cv2.blendLinear(area, other, seam.first, seam.second)
    return out
