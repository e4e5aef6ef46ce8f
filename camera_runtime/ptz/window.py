"""The ePTZ window: where it looks (centre and zoom, in fractions of the picture it crops) and
the pure geometry built on it: the crop box in pixels, the crop-and-scale of a frame, 3D
positioning (a click centres a point, a dragged box zooms) and count pixel.

Coordinates: ``pan`` and ``tilt`` are the window's centre in 0..1 of the picture the window
moves over (the channel's picture after rotate, mirror and privacy mask); ``zoom`` 1 shows
all of it, 2 a window of half its width and height. A point the viewer clicks is in 0..1 of
the picture the viewer sees (the window's output).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np

from ..model import Frame, Plane


@dataclass(frozen=True, slots=True)
class Window:
    """A window position; ``clamped`` keeps it inside the picture."""

    pan: float = 0.5
    tilt: float = 0.5
    zoom: float = 1.0

    def clamped(self, max_zoom: float) -> Window:
        """The nearest window that lies inside the picture with a zoom from 1 to ``max_zoom``:
        at zoom 1 the window is the whole picture and cannot pan."""
        zoom = min(max(self.zoom, 1.0), max_zoom)
        half = 0.5 / zoom
        return Window(
            pan=min(max(self.pan, half), 1.0 - half),
            tilt=min(max(self.tilt, half), 1.0 - half),
            zoom=zoom,
        )

    @property
    def full(self) -> bool:
        """Whether the window shows the whole picture (nothing to crop)."""
        return self.zoom <= 1.0 + 1e-9

    def to_picture(self, x: float, y: float) -> tuple[float, float]:
        """The point of the picture under ``(x, y)`` of the window's output."""
        return self.pan + (x - 0.5) / self.zoom, self.tilt + (y - 0.5) / self.zoom

    def as_dict(self) -> dict[str, float]:
        return {"pan": round(self.pan, 6), "tilt": round(self.tilt, 6), "zoom": round(self.zoom, 6)}

    @classmethod
    def from_dict(cls, data: Any) -> Window:
        return cls(float(data["pan"]), float(data["tilt"]), float(data["zoom"]))


def lerp(a: Window, b: Window, f: float) -> Window:
    """``f`` (0..1) of the way from ``a`` to ``b``: the centre in a straight line, the zoom
    geometrically (equal zoom factors in equal times, as a zoom lens looks)."""
    f = min(max(f, 0.0), 1.0)
    zoom = math.exp(math.log(a.zoom) + (math.log(b.zoom) - math.log(a.zoom)) * f)
    return Window(a.pan + (b.pan - a.pan) * f, a.tilt + (b.tilt - a.tilt) * f, zoom)


def crop_box(window: Window, width: int, height: int) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` of the window in pixels of a ``width`` x ``height`` picture, to the
    sub-pixel: a window moves smoothly even at 16x, where one source pixel is 16 shown."""
    w, h = width / window.zoom, height / window.zoom
    return window.pan * width - w / 2, window.tilt * height - h / 2, w, h


def _scale(plane: Plane, x: float, y: float, scale: float, size: tuple[int, int]) -> Plane:
    """``plane``'s area from ``(x, y)`` at ``scale`` source pixels per output pixel, resampled
    bilinearly to ``size``: one ``warpAffine`` (an inverse map: output -> source)."""
    offset = 0.5 * scale - 0.5  # pixel centres, not corners
    matrix = np.array([[scale, 0.0, x + offset], [0.0, scale, y + offset]], dtype=np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cast(
        Plane, cv2.warpAffine(plane, matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    )


def crop(frame: Frame, window: Window) -> Frame:
    """``frame`` cropped to ``window`` and scaled back to the frame's size (bilinear): what a
    viewer, a stream and a detector of the channel get. A full window returns ``frame``."""
    if window.full:
        return frame
    x, y, _, _ = crop_box(window, frame.width, frame.height)
    scale = 1.0 / window.zoom
    half = (frame.width // 2, frame.height // 2)
    luma = _scale(frame.y, x, y, scale, (frame.width, frame.height))
    u = _scale(frame.u, x / 2, y / 2, scale, half)
    v = _scale(frame.v, x / 2, y / 2, scale, half)
    return dataclasses.replace(frame, y=luma, u=u, v=v)


def centre_on(window: Window, x: float, y: float, max_zoom: float) -> Window:
    """3D positioning by a click: the picture's point under ``(x, y)`` of the output moves to
    the centre, the zoom unchanged (as near as the picture's edges allow)."""
    pan, tilt = window.to_picture(x, y)
    return Window(pan, tilt, window.zoom).clamped(max_zoom)


def box_zoom(window: Window, x0: float, y0: float, x1: float, y1: float, max_zoom: float) -> Window:
    """3D positioning by a dragged box (corners in drag order, 0..1 of the output): dragged
    towards the lower right, the boxed area fills the picture (zoom in); dragged towards the
    upper left, the whole picture shrinks into the box's size (zoom out). Either way the box's
    centre moves to the centre. A box without width or height is a click."""
    bw, bh = abs(x1 - x0), abs(y1 - y0)
    centre = window.to_picture((x0 + x1) / 2, (y0 + y1) / 2)
    if bw < 1e-6 or bh < 1e-6:
        return centre_on(window, (x0 + x1) / 2, (y0 + y1) / 2, max_zoom)
    larger = max(bw, bh)  # the box fits whole: the zoom follows its larger side
    zoom = window.zoom / larger if x1 >= x0 and y1 >= y0 else window.zoom * larger
    return Window(centre[0], centre[1], zoom).clamped(max_zoom)


def count_pixel(
    window: Window, x0: float, y0: float, x1: float, y1: float, width: int, height: int
) -> dict[str, int]:
    """Count pixel (manual 3.1.7): the width and height in pixels of a box drawn on the live
    picture of ``width`` x ``height`` (the channel's), and what they cover of the picture
    under the window (the same at zoom 1)."""
    bw, bh = abs(x1 - x0) * width, abs(y1 - y0) * height
    return {
        "width": round(bw),
        "height": round(bh),
        "picture_width": round(bw / window.zoom),
        "picture_height": round(bh / window.zoom),
    }


__all__ = ["Window", "box_zoom", "centre_on", "count_pixel", "crop", "crop_box", "lerp"]
