"""downscale_luma: the detect picture from a full-resolution (possibly strided) luma plane."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from camera_runtime.imaging import downscale_luma


def texture(height: int, width: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    """A busy picture: smooth shapes plus fine detail, the hard case for a shortcut."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(
        rng.uniform(0, 255, (12, 20)), (width, height), interpolation=cv2.INTER_CUBIC
    )
    fine = cv2.GaussianBlur(rng.normal(0, 25, (height, width)), (3, 3), 0)
    return np.clip(coarse + fine, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ((1080, 1920), (320, 180)),
        ((720, 1280), (320, 180)),
        ((1944, 2592), (320, 240)),
        ((1081, 1921), (320, 180)),
    ],
)
def test_result_is_close_to_a_single_area_resize(
    source: tuple[int, int], target: tuple[int, int]
) -> None:
    y = texture(*source)
    small = downscale_luma(y, *target)
    reference = cv2.resize(y, target, interpolation=cv2.INTER_AREA)
    assert small.shape == (target[1], target[0]) and small.dtype == np.uint8
    difference = np.abs(small.astype(np.int16) - reference.astype(np.int16))
    assert difference.mean() < 2.5 and np.percentile(difference, 99) < 12


def test_a_strided_decoder_plane_gives_the_same_result_as_a_contiguous_copy() -> None:
    padded = texture(1080, 2048)
    view = padded[:, :1920]  # a decoder plane with line padding: not contiguous
    assert not view.flags.c_contiguous
    small = downscale_luma(view, 320, 180)
    assert np.array_equal(small, downscale_luma(np.ascontiguousarray(view), 320, 180))
    assert small.flags.c_contiguous and not np.shares_memory(small, padded)


def test_a_picture_already_at_detect_size_is_copied_not_shared() -> None:
    y = texture(180, 320)
    small = downscale_luma(y, 320, 180)
    assert np.array_equal(small, y) and not np.shares_memory(small, y)


def test_a_smaller_source_is_scaled_up() -> None:
    y = texture(90, 160)
    assert downscale_luma(y, 320, 180).shape == (180, 320)


def test_a_bright_square_stays_where_it_was() -> None:
    y = np.zeros((1080, 1920), dtype=np.uint8)
    y[540:720, 960:1200] = 255  # x 960..1200, y 540..720 -> 160..200, 90..120 at 320x180
    small = downscale_luma(y, 320, 180)
    ys, xs = np.nonzero(small > 127)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (160, 199, 90, 119)


@pytest.mark.parametrize(
    ("array", "size"),
    [(np.zeros((4, 4, 3), np.uint8), (2, 2)), (np.zeros((4, 4), np.uint8), (0, 2))],
)
def test_bad_input_is_refused(array: npt.NDArray[np.uint8], size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        downscale_luma(array, *size)
