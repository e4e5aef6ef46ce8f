"""The per-frame composition's shortcuts give the picture the fixed tables describe (the
panorama against the ground truth is ``test_stitching.py``'s): the reference sensor's pixels
copied, not resampled, in every plane; hard seams; and a calibration saved with its reference
sensor at odd pixels (before the canvas origin was made even)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from camera_runtime.model import Frame
from camera_runtime_plugins.stitching.homography import HomographyStitcher

from .test_stitching import MIN_PSNR_DB, psnr, sources


def calibrated(**options: Any) -> tuple[HomographyStitcher, dict[str, Any], list[Frame]]:
    frames = [view.render(30) for view in sources()]
    stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA(options))
    saved = stitcher.calibrate(frames)
    return stitcher, saved, frames


def placement(saved: dict[str, Any], sensor: int) -> tuple[int, int]:
    """Where ``sensor`` sits on the canvas, if it is placed by a whole-pixel shift."""
    matrix = np.array(saved["matrices"][sensor])
    x, y = round(matrix[0, 2]), round(matrix[1, 2])
    assert np.allclose(matrix, [[1, 0, x], [0, 1, y], [0, 0, 1]], rtol=0, atol=1e-9)
    return x, y


def test_the_reference_sensor_reaches_the_panorama_unresampled_in_every_plane() -> None:
    stitcher, saved, frames = calibrated()
    ref = len(frames) // 2
    x, y = placement(saved, ref)
    assert x % 2 == 0 and y % 2 == 0  # the chroma planes' origin at whole pixels too
    panorama = stitcher.stitch(frames)
    for name, scale in (("y", 1), ("u", 2), ("v", 2)):
        sensor = getattr(frames[ref], name)
        h, w = sensor.shape
        placed = getattr(panorama, name)[y // scale : y // scale + h, x // scale : x // scale + w]
        middle = np.s_[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]  # away from the seams
        assert np.array_equal(placed[middle], sensor[middle]), name


def test_hard_seams_compose_the_same_scene() -> None:
    feathered, _saved, frames = calibrated()
    hard, _saved, _frames = calibrated(feather=0)
    soft, sharp = feathered.stitch(frames), hard.stitch(frames)
    assert (sharp.width, sharp.height) == (soft.width, soft.height)
    different = soft.y != sharp.y
    # Only the feathered bands differ (about 1 % of the canvas), and only a little.
    assert 0 < different.mean() < 0.05
    assert psnr(soft.y, sharp.y) > MIN_PSNR_DB


def test_a_calibration_with_the_reference_at_odd_pixels_still_stitches() -> None:
    stitcher, saved, frames = calibrated()
    even = stitcher.stitch(frames)
    odd = copy.deepcopy(saved)
    for matrix in odd["matrices"]:
        for column in range(3):  # the canvas origin one pixel further left and up
            matrix[0][column] += matrix[2][column]
            matrix[1][column] += matrix[2][column]
    odd["canvas"] = [even.width + 2, even.height + 2]
    loaded = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA({}))
    loaded.load(odd, [(frame.width, frame.height) for frame in frames])
    shifted = loaded.stitch(frames)
    assert (shifted.width, shifted.height) == (even.width + 2, even.height + 2)
    luma = shifted.y[1 : 1 + even.height, 1 : 1 + even.width].astype(int) - even.y
    assert np.abs(luma).max() <= 1  # the same samples, up to the tables' rounding
    # The chroma planes' grid half a pixel off the reference sensor's: resampled there, each
    # pixel about the mean of the even canvas's four around it.
    ref = len(frames) // 2
    x, y = placement(odd, ref)
    assert x % 2 == 1 and y % 2 == 1
    for name in ("u", "v"):
        plane = getattr(even, name).astype(np.float64)
        between = (plane[:-1, :-1] + plane[1:, :-1] + plane[:-1, 1:] + plane[1:, 1:]) / 4
        h, w = between.shape
        assert psnr(getattr(shifted, name)[1 : 1 + h, 1 : 1 + w], between) > MIN_PSNR_DB
