"""Picture overlay (manual 4.9): a 24-bit BMP picture of at most 128 x 128 pixels, laid over
the picture at a position, given as a file or inline as base64."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError
from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame, Plane

from ._yuv import chroma, fraction

MAX_SIZE = 128
_HEADER = 54  # the file header (14 bytes) and the smallest info header (40)


def decode_bmp(data: bytes) -> npt.NDArray[np.uint8]:
    """The pixels of an uncompressed 24-bit BMP as an ``h x w x 3`` BGR array; ``ValueError``
    saying why for anything else (another depth, too large, not a BMP, cut short)."""
    if len(data) < _HEADER or data[:2] != b"BM":
        raise ValueError("not a BMP picture: the overlay must be a 24-bit BMP")
    offset, info_size = struct.unpack_from("<II", data, 10)
    width, height, planes, bits, compression = struct.unpack_from("<iiHHI", data, 18)
    if info_size < 40 or planes != 1:
        raise ValueError("not a BMP picture: the overlay must be a 24-bit BMP")
    if bits != 24:
        raise ValueError(f"a {bits}-bit BMP: the overlay must be a 24-bit BMP")
    if compression != 0:
        raise ValueError("a compressed BMP: the overlay must be an uncompressed 24-bit BMP")
    rows = abs(height)
    if not (1 <= width <= MAX_SIZE and 1 <= rows <= MAX_SIZE):
        raise ValueError(f"the picture is {width} x {rows} pixels: at most {MAX_SIZE} x {MAX_SIZE}")
    stride = (width * 3 + 3) // 4 * 4
    if offset + stride * rows > len(data):
        raise ValueError("the BMP file is cut short")
    pixels = np.frombuffer(data, np.uint8, stride * rows, offset).reshape(rows, stride)
    bgr = pixels[:, : width * 3].reshape(rows, width, 3)
    return np.ascontiguousarray(bgr[::-1] if height > 0 else bgr)  # rows are stored bottom-up


def bgr_to_yuv(bgr: npt.NDArray[np.uint8]) -> tuple[Plane, Plane, Plane]:
    """Y, U and V of a BGR picture, BT.601 limited range (what the runtime's JPEG conversion
    reads); U and V at half size, each the mean of its 2 x 2 pixels (the last row or column
    of an odd size alone)."""
    b, g, r = (bgr[..., i].astype(np.float64) for i in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    h, w = y.shape

    def half(plane: npt.NDArray[np.float64]) -> Plane:
        padded = np.pad(plane, ((0, h % 2), (0, w % 2)), mode="edge")
        blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2)
        out: Plane = np.clip(np.round(blocks.mean(axis=(1, 3))), 0, 255).astype(np.uint8)
        return out

    luma: Plane = np.clip(np.round(y), 0, 255).astype(np.uint8)
    return luma, half(u), half(v)


def picture_bytes(options: Mapping[str, Any]) -> bytes:
    """The BMP file's bytes, from ``file`` or ``data`` (``ValueError`` saying why not)."""
    if "data" in options:
        try:
            return base64.b64decode(options["data"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data is not base64") from None
    try:
        return Path(options["file"]).read_bytes()
    except OSError as err:
        raise ValueError(f"cannot read {options['file']}: {err.strerror or err}") from None


def _readable_picture(options: dict[str, Any]) -> dict[str, Any]:
    """Exactly one of ``file`` and ``data``, and it holds a BMP the overlay can show."""
    given = [key for key in ("file", "data") if key in options]
    if len(given) != 1:
        raise vol.Invalid("give the picture as either file or data (base64)")
    try:
        decode_bmp(picture_bytes(options))
    except ValueError as err:
        raise vol.Invalid(str(err), path=[given[0]]) from None
    return options


PICTURE_OVERLAY_SCHEMA = vol.Schema(
    vol.All(
        vol.Schema(
            {
                vol.Optional("file"): vol.All(str, vol.Length(min=1)),
                vol.Optional("data"): vol.All(str, vol.Length(min=1)),
                vol.Optional("x", default=0.0): fraction,
                vol.Optional("y", default=0.0): fraction,
            },
            extra=vol.PREVENT_EXTRA,
        ),
        _readable_picture,
    )
)


class PictureOverlayStage(ImageStage):
    """Copies the picture's pixels over the frame's: its top-left corner at ``x * (width -
    picture width)``, ``y * (height - picture height)`` (0: the left or top edge, 1: the right
    or bottom edge), on even pixels so that its chroma lines up."""

    kind: ClassVar[str] = "picture_overlay"
    ORDER: ClassVar[int] = 700
    CONFIG_SCHEMA: ClassVar[vol.Schema] = PICTURE_OVERLAY_SCHEMA

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        super().__init__(options, context)
        try:
            bgr = decode_bmp(picture_bytes(options))
        except ValueError as err:  # the file changed or went since the config was checked
            raise CameraRuntimeError(f"picture overlay: {err}") from None
        bgr = bgr[: context.height, : context.width]
        self._y, self._u, self._v = bgr_to_yuv(bgr)
        h, w = self._y.shape
        self.left = round(options["x"] * (context.width - w)) // 2 * 2
        self.top = round(options["y"] * (context.height - h)) // 2 * 2

    def process(self, frame: Frame) -> Frame:
        left, top = self.left, self.top
        y = frame.y.copy()
        u, v = (plane.copy() for plane in chroma(frame))
        h, w = self._y.shape
        y[top : top + h, left : left + w] = self._y
        area = (
            slice(top // 2, top // 2 + self._u.shape[0]),
            slice(left // 2, left // 2 + self._u.shape[1]),
        )
        ch, cw = u[area].shape
        u[area] = self._u[:ch, :cw]
        v[area] = self._v[:ch, :cw]
        return dataclasses.replace(frame, y=y, u=u, v=v)


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``picture_overlay`` available under a channel's ``image:``."""
    register(PictureOverlayStage)
