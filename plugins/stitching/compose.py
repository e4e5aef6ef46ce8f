"""Per-frame composition of several sensors into one canvas: fixed remap tables, feathered seams.

Built once from a calibration (one 3x3 matrix per sensor, sensor pixels to canvas pixels),
then ``compose`` runs per frame on the Y, U and V planes, never converting to BGR (decoded
frames are YUV, and so is what the encoders take).

Why it is fast: the sensors' planes are copied one below the other into one tall buffer, so
``cv2.remap`` over the canvas (CV_16SC2 tables) could fetch every output pixel from the sensor
that sees it best (the one whose own border is furthest). Three things make the whole cost
about two thirds of that one plain remap of the canvas (``bench/stitch.py``):

- Each sensor's own part: the largest rectangle it fills by itself (no seam, no other
  sensor; together nearly nine tenths of a four-sensor canvas) is drawn straight from it
  with one ``cv2.warpPerspective`` (measured with OpenCV 5.1: 2-2.5 times as fast as a remap
  of the same pixels, which reads 6 bytes of table per pixel where the warp computes the
  coordinates), or copied where the sensor sits at whole pixels: the calibration places its
  reference sensor so (at even pixels, so in the half-size chroma planes too), where a
  bilinear remap only copies. The rest of the canvas, slivers along the seams and the
  edges, is remapped with the tables in a dozen rectangles around them.
- The seams: a band of ``feather`` pixels along each (where two sensors' border distances are
  equal) needs both sensors' pixels, the share ramping linearly across it. Its pixels are
  packed row after row into an *atlas* below the sensors in the tall buffer; per frame two
  remaps fetch them from their two sensors and one ``cv2.blendLinear`` mixes them there, then
  the canvas's remap picks each up at whole pixels like any sensor pixel. Three calls per
  plane, whatever the seams' shape (rectangles around slanted or bent seams took a hundred
  calls and twice the pixels). Where more than two sensors overlap, the two best are blended.
- Each output pixel is computed once, straight into the canvas (``dst=`` views).

The picture is that of one remap of the whole canvas and a blend of the seams: the copies and
the remapped parts bit for bit, the warped parts within 3 levels (the warp rounds its
coordinates and weights otherwise than the tables' 1/32 pixel).
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
class _Atlas:
    """The feathered seams' pixels, packed row after row into ``rows`` rows of the stacked
    buffer from row ``top`` on: each fetched from its two sensors and blended there once per
    frame, then picked up by the canvas's remap like any sensor pixel (at whole pixels)."""

    top: int
    rows: int
    first_maps: tuple[Any, Any]  # the sensor that sees the pixel deepest
    second_maps: tuple[Any, Any]  # the next one
    first: Any  # float32 weights of the first sensor ...
    second: Any  # ... and of the second
    scratch: tuple[Any, Any]  # the two fetches (no allocation per frame)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A rectangle of the canvas remapped through its own (contiguous) part of the tables."""

    x: int
    y: int
    w: int
    h: int
    maps: tuple[Any, Any]


@dataclass(frozen=True, slots=True)
class _Own:
    """A rectangle of the canvas that one sensor fills by itself (no seam, no other sensor),
    drawn straight from it: a copy from ``sx``, ``sy`` where it sits at whole pixels (what the
    remap would fetch, exactly), else one ``cv2.warpPerspective`` through ``inverse``."""

    x: int
    y: int
    w: int
    h: int
    top: int  # the sensor's first row in the stacked buffer
    size: tuple[int, int]  # the sensor's plane, width and height
    inverse: Any  # rectangle pixel -> sensor pixel (3x3); None: a copy
    sx: int
    sy: int


@dataclass(frozen=True, slots=True)
class _PlanePlan:
    """The fixed tables of one plane (luma at full size, chroma at half)."""

    width: int
    height: int
    pieces: tuple[_Piece, ...]
    owns: tuple[_Own, ...]
    atlas: _Atlas | None
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
    stack: tuple[int, int],
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
    band: Any = np.zeros((height, width), bool)
    atlas = None
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
        atlas = _pack(band, best, second, 0.5 + depth / feather, stack)
    owns = _owns(matrices, sizes, offsets, label, band)
    pieces = tuple(
        _Piece(
            x,
            y,
            w,
            h,
            cv2.convertMaps(
                best[0][y : y + h, x : x + w], best[1][y : y + h, x : x + w], cv2.CV_16SC2
            ),
        )
        for x, y, w, h in _around([(o.x, o.y, o.w, o.h) for o in owns], width, height)
    )
    return _PlanePlan(width, height, pieces, owns, atlas, black)


def _pack(
    band: Any, best: list[Any], second: list[Any], share: Any, stack: tuple[int, int]
) -> _Atlas | None:
    """The atlas of ``band``'s pixels (``share``: the first sensor's weight), below the
    sensors in the ``stack`` (width, rows) buffer; points ``best``'s tables at it."""
    ys, xs = np.nonzero(band)
    count = ys.size
    if count == 0:
        return None
    width, top = stack
    rows = -(-count // width)

    def packed(values: Any, fill: float) -> Any:
        cells: Any = np.full(rows * width, fill, np.float32)
        cells[:count] = values[ys, xs]
        return cells.reshape(rows, width)

    first_maps = cv2.convertMaps(packed(best[0], _NOWHERE), packed(best[1], _NOWHERE), cv2.CV_16SC2)
    second_maps = cv2.convertMaps(
        packed(second[0], _NOWHERE), packed(second[1], _NOWHERE), cv2.CV_16SC2
    )
    first = packed(share, 1.0)
    cell = np.arange(count)
    best[0][ys, xs] = cell % width
    best[1][ys, xs] = top + cell // width
    scratch = (np.empty((rows, width), np.uint8), np.empty((rows, width), np.uint8))
    return _Atlas(top, rows, first_maps, second_maps, first, 1.0 - first, scratch)


def _owns(
    matrices: Sequence[npt.NDArray[np.float64]],
    sizes: Sequence[tuple[int, int]],
    offsets: Sequence[int],
    label: Any,
    band: Any,
) -> tuple[_Own, ...]:
    """The largest rectangle each sensor fills by itself, side by side (none sharing a
    column, so that the rest of the canvas is a few rectangles too)."""
    found = []
    for index in range(len(matrices)):
        rect = _inner_rect((label == index) & ~band)
        if rect is not None:
            found.append((rect, index))
    found.sort(key=lambda item: -item[0][2] * item[0][3])
    owns: list[_Own] = []
    for (x, y, w, h), index in found:
        if any(x < o.x + o.w and o.x < x + w for o in owns):
            continue
        m = matrices[index] / matrices[index][2, 2]
        shift = np.round(m[:2, 2])
        whole = (
            np.allclose(m[:2, :2], np.eye(2), rtol=0, atol=1e-9)
            and np.allclose(m[2, :2], 0, rtol=0, atol=1e-12)
            and np.allclose(m[:2, 2], shift, rtol=0, atol=1e-6)
        )
        sx, sy = x - int(shift[0]), y - int(shift[1])
        inverse = (
            None if whole else np.linalg.inv(m) @ np.array([[1, 0, x], [0, 1, y], [0, 0, 1.0]])
        )
        owns.append(_Own(x, y, w, h, offsets[index], sizes[index], inverse, sx, sy))
    return tuple(sorted(owns, key=lambda o: o.x))


def _inner_rect(mask: Any) -> tuple[int, int, int, int] | None:
    """The largest rectangle (x, y, w, h) of ``mask`` crossing its middle column (a sensor's
    own part of the canvas lies between two seams, so its middle column crosses it)."""
    height, width = mask.shape
    columns = np.flatnonzero(mask.any(axis=0))
    if columns.size == 0:
        return None
    middle = int(columns[columns.size // 2])
    leftwards = mask[:, middle::-1]
    rightwards = mask[:, middle:]
    lo = middle + 1 - np.where(leftwards.all(axis=1), middle + 1, np.argmin(leftwards, axis=1))
    hi = middle + np.where(rightwards.all(axis=1), width - middle, np.argmin(rightwards, axis=1))
    best, found = 0, None
    for top in range(height):
        if hi[top] <= lo[top]:
            continue
        left = np.maximum.accumulate(lo[top:])
        right = np.minimum.accumulate(hi[top:])
        areas = np.maximum(right - left, 0) * np.arange(1, height - top + 1)
        rows = int(np.argmax(areas))
        if areas[rows] > best:
            best = int(areas[rows])
            found = (int(left[rows]), top, int(right[rows] - left[rows]), rows + 1)
    return found


def _around(
    rects: Sequence[tuple[int, int, int, int]], width: int, height: int
) -> list[tuple[int, int, int, int]]:
    """The canvas but ``rects`` (none sharing a column), as rectangles: the columns between
    them, the rows above and below each."""
    pieces, cursor = [], 0
    for x, y, w, h in sorted(rects):
        pieces += [(cursor, 0, x - cursor, height), (x, 0, w, y), (x, y + h, w, height - y - h)]
        cursor = x + w
    pieces.append((cursor, 0, width - cursor, height))
    return [(x, y, w, h) for x, y, w, h in pieces if w > 0 and h > 0]


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
        self._luma = _plan(matrices, sizes, offsets, canvas, feather, _BLACK[0], (stack_w, row))
        half = [_to_canvas(m, 0.5) for m in matrices]
        half_sizes = [(w // 2, h // 2) for w, h in sizes]
        half_canvas = (canvas[0] // 2, canvas[1] // 2)
        self._chroma = _plan(
            half,
            half_sizes,
            [o // 2 for o in offsets],
            half_canvas,
            feather / 2,
            _BLACK[1],
            (stack_w // 2, row // 2),
        )
        luma_rows = row + (self._luma.atlas.rows if self._luma.atlas else 0)
        chroma_rows = row // 2 + (self._chroma.atlas.rows if self._chroma.atlas else 0)
        self._stack = (
            np.full((luma_rows, stack_w), _BLACK[0], np.uint8),
            np.full((chroma_rows, stack_w // 2), _BLACK[1], np.uint8),
            np.full((chroma_rows, stack_w // 2), _BLACK[2], np.uint8),
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
    atlas = plan.atlas
    if atlas is not None:  # first the seams' blend, where the canvas's remap fetches it
        sensors = stack[: atlas.top]
        first = remap(sensors, atlas.first_maps, plan.black, atlas.scratch[0])
        second = remap(sensors, atlas.second_maps, plan.black, atlas.scratch[1])
        blended = stack[atlas.top : atlas.top + atlas.rows]
        cv2.blendLinear(first, second, atlas.first, atlas.second, dst=blended)
    out: Plane = np.empty((plan.height, plan.width), np.uint8)
    for piece in plan.pieces:
        area = out[piece.y : piece.y + piece.h, piece.x : piece.x + piece.w]
        remap(stack, piece.maps, plan.black, area)
    for own in plan.owns:
        area = out[own.y : own.y + own.h, own.x : own.x + own.w]
        sensor = stack[own.top : own.top + own.size[1], : own.size[0]]
        if own.inverse is None:
            area[...] = sensor[own.sy : own.sy + own.h, own.sx : own.sx + own.w]
        else:
            cv2.warpPerspective(
                sensor,
                own.inverse,
                (own.w, own.h),
                dst=area,
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=plan.black,
            )
    return out
