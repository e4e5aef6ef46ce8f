"""The ePTZ window: where it looks (centre and zoom, in fractions of the picture it crops) and
the pure geometry built on it: the crop box in pixels, the crop-and-scale of a frame, 3D
positioning (a click centres a point, a dragged box zooms) and count pixel.

Coordinates: ``pan`` and ``tilt`` are the window's centre in 0..1 of the picture the window
moves over (the channel's picture after rotate, mirror and privacy mask); ``zoom`` 1 shows
all of it, 2 a window of half its width and height. A point the viewer clicks is in 0..1 of
the picture the viewer sees (the window's output).

An output of another shape than the picture (an ePTZ channel's 16:9 window over a wide
panorama) has an ``Extent``: the window's width and height at zoom 1 in fractions of the
picture, the largest window of the output's shape that fits. With it the same window pans at
zoom 1 and is scaled to the output's size without stretching.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np

from ..model import Frame, Plane

#: The window's width and height at zoom 1, in fractions of the picture it moves over.
Extent = tuple[float, float]
#: A window of the picture's own shape: at zoom 1 the whole picture.
FULL: Extent = (1.0, 1.0)
#: An output of its own shape before its first picture: the extent is not known yet, so a
#: window is only kept with its centre in the picture (as it was asked for), and clamped with
#: the real extent at the first frame. Not the ``FULL`` window: at zoom 1 that cannot pan, and
#: a preset called at start would lose its place.
UNKNOWN: Extent = (0.0, 0.0)


def extent_for(size: tuple[int, int] | None, width: int, height: int) -> Extent:
    """The largest window of ``size``'s shape that fits a ``width`` x ``height`` picture, in
    fractions of it (``FULL`` without a size: the output takes the picture's shape)."""
    if size is None:
        return FULL
    out_w, out_h = size
    if out_w * height >= out_h * width:  # the output is the wider: full width, less height
        return 1.0, min(1.0, width * out_h / out_w / height)
    return min(1.0, height * out_w / out_h / width), 1.0


@dataclass(frozen=True, slots=True)
class Window:
    """A window position; ``clamped`` keeps it inside the picture."""

    pan: float = 0.5
    tilt: float = 0.5
    zoom: float = 1.0

    def clamped(self, max_zoom: float, extent: Extent = FULL) -> Window:
        """The nearest window that lies inside the picture with a zoom from 1 to ``max_zoom``:
        at zoom 1 a ``FULL`` window is the whole picture and cannot pan."""
        zoom = min(max(self.zoom, 1.0), max_zoom)
        half_w, half_h = 0.5 * extent[0] / zoom, 0.5 * extent[1] / zoom
        return Window(
            pan=min(max(self.pan, half_w), 1.0 - half_w),
            tilt=min(max(self.tilt, half_h), 1.0 - half_h),
            zoom=zoom,
        )

    @property
    def full(self) -> bool:
        """Whether the window shows the whole picture (nothing to crop)."""
        return self.zoom <= 1.0 + 1e-9

    def to_picture(self, x: float, y: float, extent: Extent = FULL) -> tuple[float, float]:
        """The point of the picture under ``(x, y)`` of the window's output."""
        return (
            self.pan + (x - 0.5) * extent[0] / self.zoom,
            self.tilt + (y - 0.5) * extent[1] / self.zoom,
        )

    def as_dict(self) -> dict[str, float]:
        return {"pan": round(self.pan, 6), "tilt": round(self.tilt, 6), "zoom": round(self.zoom, 6)}

    @classmethod
    def from_dict(cls, data: Any) -> Window:
        return cls(float(data["pan"]), float(data["tilt"]), float(data["zoom"]))


def fit_area(area: Mapping[str, float], extent: Extent, max_zoom: float) -> Window:
    """The window centred on ``area`` (x, y, w, h in 0..1 of the picture): the largest of the
    window's shape that fits inside it (as near as the zoom range allows)."""
    zoom = max(extent[0] / area["w"], extent[1] / area["h"])
    window = Window(area["x"] + area["w"] / 2, area["y"] + area["h"] / 2, zoom)
    return window.clamped(max_zoom, extent)


def lerp(a: Window, b: Window, f: float) -> Window:
    """``f`` (0..1) of the way from ``a`` to ``b``: the centre in a straight line, the zoom
    geometrically (equal zoom factors in equal times, as a zoom lens looks)."""
    f = min(max(f, 0.0), 1.0)
    zoom = math.exp(math.log(a.zoom) + (math.log(b.zoom) - math.log(a.zoom)) * f)
    return Window(a.pan + (b.pan - a.pan) * f, a.tilt + (b.tilt - a.tilt) * f, zoom)


def crop_box(
    window: Window, width: int, height: int, extent: Extent = FULL
) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` of the window in pixels of a ``width`` x ``height`` picture, to the
    sub-pixel: a window moves smoothly even at 16x, where one source pixel is 16 shown."""
    w, h = width * extent[0] / window.zoom, height * extent[1] / window.zoom
    return window.pan * width - w / 2, window.tilt * height - h / 2, w, h


def _scale(
    plane: Plane, x: float, y: float, scale: tuple[float, float], size: tuple[int, int]
) -> Plane:
    """``plane``'s area from ``(x, y)`` at ``scale`` source pixels per output pixel (across,
    down), resampled bilinearly to ``size``: one ``warpAffine`` (an inverse map: output ->
    source)."""
    sx, sy = scale
    # Pixel centres, not corners.
    matrix = np.array(
        [[sx, 0.0, x + 0.5 * sx - 0.5], [0.0, sy, y + 0.5 * sy - 0.5]], dtype=np.float64
    )
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cast(
        Plane, cv2.warpAffine(plane, matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    )


def crop(
    frame: Frame, window: Window, extent: Extent = FULL, size: tuple[int, int] | None = None
) -> Frame:
    """``frame`` cropped to ``window`` and scaled to ``size`` (even; the frame's own by
    default), bilinear: what a viewer, a stream and a detector of the channel get. A full
    window at the frame's size returns ``frame``."""
    out_w, out_h = size or (frame.width, frame.height)
    if window.full and extent == FULL and (out_w, out_h) == (frame.width, frame.height):
        return frame
    x, y, w, h = crop_box(window, frame.width, frame.height, extent)
    scale = (w / out_w, h / out_h)
    luma = _scale(frame.y, x, y, scale, (out_w, out_h))
    u = _scale(frame.u, x / 2, y / 2, scale, (out_w // 2, out_h // 2))
    v = _scale(frame.v, x / 2, y / 2, scale, (out_w // 2, out_h // 2))
    return dataclasses.replace(frame, y=luma, u=u, v=v)


def centre_on(window: Window, x: float, y: float, max_zoom: float, extent: Extent = FULL) -> Window:
    """3D positioning by a click: the picture's point under ``(x, y)`` of the output moves to
    the centre, the zoom unchanged (as near as the picture's edges allow)."""
    pan, tilt = window.to_picture(x, y, extent)
    return Window(pan, tilt, window.zoom).clamped(max_zoom, extent)


def box_zoom(
    window: Window,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    max_zoom: float,
    extent: Extent = FULL,
) -> Window:
    """3D positioning by a dragged box (corners in drag order, 0..1 of the output): dragged
    towards the lower right, the boxed area fills the picture (zoom in); dragged towards the
    upper left, the whole picture shrinks into the box's size (zoom out). Either way the box's
    centre moves to the centre. A box without width or height is a click."""
    bw, bh = abs(x1 - x0), abs(y1 - y0)
    centre = window.to_picture((x0 + x1) / 2, (y0 + y1) / 2, extent)
    if bw < 1e-6 or bh < 1e-6:
        return centre_on(window, (x0 + x1) / 2, (y0 + y1) / 2, max_zoom, extent)
    larger = max(bw, bh)  # the box fits whole: the zoom follows its larger side
    zoom = window.zoom / larger if x1 >= x0 and y1 >= y0 else window.zoom * larger
    return Window(centre[0], centre[1], zoom).clamped(max_zoom, extent)


def count_pixel(
    window: Window,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    width: int,
    height: int,
    scale: float = 1.0,
) -> dict[str, int]:
    """Count pixel (manual 3.1.7): the width and height in pixels of a box drawn on the live
    picture of ``width`` x ``height`` (the channel's), and what they cover of the picture
    under the window (the same at zoom 1 when ``scale``, the picture's pixels per output
    pixel at zoom 1, is 1)."""
    bw, bh = abs(x1 - x0) * width, abs(y1 - y0) * height
    return {
        "width": round(bw),
        "height": round(bh),
        "picture_width": round(bw * scale / window.zoom),
        "picture_height": round(bh * scale / window.zoom),
    }


__all__ = [
    "FULL",
    "Extent",
    "Window",
    "box_zoom",
    "centre_on",
    "count_pixel",
    "crop",
    "crop_box",
    "extent_for",
    "fit_area",
    "lerp",
]
