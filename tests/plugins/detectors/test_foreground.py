"""The adaptive foreground's cheaper steps give what the OpenCV calls they replace give."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from camera_runtime_plugins.detectors import foreground
from camera_runtime_plugins.detectors.foreground import AdaptiveForeground, Level


@pytest.mark.parametrize(
    ("width", "height", "steps"),
    [(320, 180, (5, 5)), (640, 360, (10, 10)), (256, 144, (4, 4)), (320, 240, None)],
)
def test_the_blocks_sample_is_a_slice_exactly_when_nearest_picks_every_nth_pixel(
    width: int, height: int, steps: tuple[int, int] | None
) -> None:
    assert foreground._nearest_steps(width, height) == steps
    picture = np.random.default_rng(1).integers(0, 256, (height, width), dtype=np.uint8)
    nearest = cv2.resize(picture, foreground._SAMPLE, interpolation=cv2.INTER_NEAREST)
    if steps is not None:
        assert np.array_equal(picture[:: steps[1], :: steps[0]], nearest)


def test_the_blocks_running_average_in_numpy_follows_opencv_s() -> None:
    rng = np.random.default_rng(2)
    ours = rng.uniform(0, 255, (9, 16)).astype(np.float32)
    theirs = ours.copy()
    for _ in range(200):
        blocks = rng.integers(0, 256, (9, 16), dtype=np.uint8)
        alpha = float(rng.uniform(0.05, 1.0))
        foreground._accumulate(blocks, ours, alpha)
        cv2.accumulateWeighted(blocks, theirs, alpha)
    assert ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < 1e-3


def test_without_the_trail_test_a_mask_is_the_excess_over_the_threshold() -> None:
    """``still_factor`` 1 (the tracker's) keeps a changed pixel that did not change since the
    previous picture: an object that stopped stays found, as the trail formula says when
    its factor is 1."""
    level = Level(6.0, 4)
    rng = np.random.default_rng(4)
    found = {}
    for factor in (1, 6):
        learner = AdaptiveForeground(320, 180, 10.0, still_factor=factor)
        for index in range(32):
            picture = rng.normal(100, 2, (180, 320)).clip(0, 255).astype(np.uint8)
            if index >= 30:  # a faint square appears, and stays put in the next picture
                picture[60:100, 100:140] = 115
            result = learner.update(picture, 1_750_000_000.0 + index / 10, (level,))
        assert result is not None
        found[factor] = cv2.countNonZero(result.masks[level]) if result.masks else 0
    assert found[1] > 1000  # the still square, all of it but its blurred rim
    assert found[6] < found[1] / 4  # the trail test drops what did not change again
