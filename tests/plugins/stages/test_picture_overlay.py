"""Picture overlay: the BMP's pixels exactly where they belong, from a file or base64; 32-bit,
too large and non-BMP pictures refused with a clear error."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_runtime.config import validate_config
from camera_runtime.exceptions import ConfigError
from camera_runtime_plugins.stages.picture_overlay import decode_bmp

from .frames import REGISTRY, frame, stage


def bmp(bgr: np.ndarray, bits: int = 24, top_down: bool = False) -> bytes:  # type: ignore[type-arg]
    """A BMP file of ``bgr`` (h x w x 3), rows bottom-up unless ``top_down``; at 32 bits
    each pixel gets an alpha byte."""
    h, w, _ = bgr.shape
    channels = bits // 8
    stride = (w * channels + 3) // 4 * 4
    pixels = bytearray()
    rows = bgr if top_down else bgr[::-1]
    for row in rows:
        if channels == 4:
            row = np.concatenate([row, np.full((w, 1), 255, np.uint8)], axis=1)
        line = row.astype(np.uint8).tobytes()
        pixels += line + b"\0" * (stride - len(line))
    header = struct.pack(
        "<2sIHHIIiiHHIIiiII",
        b"BM",
        54 + len(pixels),
        0,
        0,
        54,
        40,
        w,
        -h if top_down else h,
        1,
        bits,
        0,
        len(pixels),
        2835,
        2835,
        0,
        0,
    )
    return header + bytes(pixels)


def two_colours(w: int = 6, h: int = 4) -> np.ndarray:  # type: ignore[type-arg]
    """Left half white, right half black; the top-left pixel red (to see the orientation)."""
    bgr = np.zeros((h, w, 3), np.uint8)
    bgr[:, : w // 2] = 255
    bgr[0, 0] = (0, 0, 255)
    return bgr


def _grey(width: int = 64, height: int = 48) -> object:
    return frame(np.full((height, width), 90, np.uint8))


def test_the_bmp_is_read_right_way_up() -> None:
    picture = two_colours()
    np.testing.assert_array_equal(decode_bmp(bmp(picture)), picture)
    np.testing.assert_array_equal(decode_bmp(bmp(picture, top_down=True)), picture)


def test_the_pixels_land_at_the_position(tmp_path: Path) -> None:
    path = tmp_path / "logo.bmp"
    path.write_bytes(bmp(two_colours()))
    src = _grey()
    out = stage("picture_overlay", {"file": str(path), "x": 0.5, "y": 1.0}, 64, 48).process(src)
    # x 0.5: left at round(0.5 * (64 - 6)) = 29 -> 28 (even); y 1: top at 48 - 4 = 44.
    expected = np.full((48, 64), 90, np.uint8)
    expected[44:48, 28:31] = 235  # white
    expected[44:48, 31:34] = 16  # black
    expected[44, 28] = 81  # red: 16 + 65.481 * 255 / 255
    np.testing.assert_array_equal(out.y, expected)
    # The colours come back through the runtime's own conversion (within 4:2:0's rounding).
    bgr = cv2.cvtColor(
        np.concatenate([out.y, out.u.reshape(-1, 64), out.v.reshape(-1, 64)]),
        cv2.COLOR_YUV2BGR_I420,
    )
    assert (bgr[46, 28:31] >= 250).all() and (bgr[46, 32:34] <= 5).all()


def test_base64_data_and_the_default_top_left() -> None:
    data = base64.b64encode(bmp(np.full((2, 2, 3), 255, np.uint8))).decode()
    out = stage("picture_overlay", {"data": data}, 64, 48).process(_grey())
    assert (out.y[:2, :2] == 235).all() and out.y[2, 2] == 90 and out.y[0, 2] == 90
    assert (out.u[0, 0], out.v[0, 0]) == (128, 128)


def _errors(options: dict[str, object]) -> list[str]:
    data = {
        "channels": [
            {"id": "cam", "source": {"type": "synthetic"}, "image": {"picture_overlay": options}}
        ]
    }
    with pytest.raises(ConfigError) as caught:
        validate_config(data, REGISTRY)
    return caught.value.errors


def test_a_32_bit_bmp_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alpha.bmp"
    path.write_bytes(bmp(two_colours(), bits=32))
    assert _errors({"file": str(path)}) == [
        "channels[0].image.picture_overlay.file: a 32-bit BMP: the overlay must be a 24-bit BMP"
    ]


def test_a_200_by_200_bmp_is_refused() -> None:
    data = base64.b64encode(bmp(np.zeros((200, 200, 3), np.uint8))).decode()
    assert _errors({"data": data}) == [
        "channels[0].image.picture_overlay.data: the picture is 200 x 200 pixels: at most 128 x 128"
    ]


def test_a_png_a_missing_file_and_bad_base64_are_refused(tmp_path: Path) -> None:
    png = tmp_path / "logo.png"
    png.write_bytes(cv2.imencode(".png", two_colours())[1].tobytes())
    assert _errors({"file": str(png)}) == [
        "channels[0].image.picture_overlay.file: not a BMP picture: the overlay must be a 24-bit BMP"
    ]
    (missing,) = _errors({"file": str(tmp_path / "gone.bmp")})
    assert missing.startswith("channels[0].image.picture_overlay.file: cannot read ")
    assert _errors({"data": "not base64!"}) == [
        "channels[0].image.picture_overlay.data: data is not base64"
    ]
    assert _errors({}) == [
        "channels[0].image.picture_overlay: give the picture as either file or data (base64)"
    ]


def test_a_file_gone_after_the_check_stops_the_stage(tmp_path: Path) -> None:
    from camera_runtime.exceptions import CameraRuntimeError
    from camera_runtime.interfaces import StageContext

    path = tmp_path / "logo.bmp"
    path.write_bytes(bmp(two_colours()))
    cls = REGISTRY.image_stage("picture_overlay")
    options = cls.CONFIG_SCHEMA({"file": str(path)})
    path.unlink()
    with pytest.raises(CameraRuntimeError, match="picture overlay: cannot read"):
        cls(options, StageContext("cam", "Cam", 64, 48, 25.0))
