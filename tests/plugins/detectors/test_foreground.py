"""The adaptive foreground's cheaper steps give what the OpenCV calls they replace give."""

from __future__ import annotations

import math

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


def _learn_on_the_whole_picture(
    background: np.ndarray,
    blurred: np.ndarray,
    box: tuple[int, int, int, int],
    mask: np.ndarray,
    alpha: float,
    slow: float,
    drift: float,
) -> None:
    """Selective learning as it was done on the whole picture: the protected pixels (the mask
    dilated twice) at ``slow``, after the drift, the rest at ``alpha``, each by a masked call."""
    full = np.zeros_like(blurred)
    x, y, w, h = box
    full[y : y + h, x : x + w] = mask
    cv2.dilate(full, np.ones((3, 3), np.uint8), dst=full, iterations=2)
    if abs(drift - 1.0) > 0.002:
        protected = full[y : y + h, x : x + w] > 0
        background[y : y + h, x : x + w][protected] *= drift
    cv2.accumulateWeighted(blurred, background, slow, mask=full)
    cv2.accumulateWeighted(blurred, background, alpha, mask=cv2.bitwise_not(full))


@pytest.mark.parametrize(
    "box",
    [(100, 60, 40, 50), (0, 0, 30, 20), (290, 150, 30, 30), (0, 0, 320, 180), (5, 170, 60, 10)],
    ids=["inside", "top-left corner", "bottom-right corner", "whole picture", "bottom edge"],
)
@pytest.mark.parametrize("drift", [1.0, 1.3], ids=["steady light", "brightness step"])
def test_selective_learning_on_the_box_gives_the_whole_picture_s_background(
    box: tuple[int, int, int, int], drift: float
) -> None:
    """The fast rate over the whole picture in one call, then the box's protected pixels
    again at the slow rate: the same background, bit for bit, as the two masked calls over the
    whole picture."""
    rng = np.random.default_rng(5)
    protect = Level(12.0, 10)
    learner = AdaptiveForeground(320, 180, 10.0, 0.3, 1, 60.0, protect)
    learner.update(rng.integers(0, 256, (180, 320), dtype=np.uint8), 1_750_000_000.0, ())
    assert learner.background is not None
    _, _, w, h = box
    for _ in range(3):
        blurred = rng.integers(0, 256, (180, 320), dtype=np.uint8)
        mask = np.where(rng.random((h, w)) < 0.3, 255, 0).astype(np.uint8)
        found = foreground.Foreground({protect: mask}, {protect: 20}, 1.0, box)
        expected = learner.background.copy()
        slow = 1.0 - math.exp(-0.1 / 60.0)  # 0.1 s elapsed at foreground_time 60 s
        _learn_on_the_whole_picture(expected, blurred, box, mask, 0.28, slow, drift)
        learner._learn_selectively(blurred, found, 0.28, 0.1, drift)
        assert np.array_equal(learner.background, expected)


@pytest.mark.parametrize("step", [1.0, 1.4, 0.7], ids=["steady", "brighter", "darker"])
def test_the_drift_is_the_blocks_background_brightening_in_the_step(step: float) -> None:
    """The drift that reaches the protected pixels is taken from the picture's ratio of the
    comparison, not measured again on the blocks' background after the step: it is the
    median of the blocks' background ratios after / before the step, to float32 rounding."""
    rng = np.random.default_rng(6)
    protect = Level(12.0, 10)
    learner = AdaptiveForeground(320, 180, 10.0, 0.3, 1, 60.0, protect)
    scene = rng.integers(40, 160, (180, 320)).astype(np.float32)
    drifts: list[float] = []
    learn = learner._learn_selectively

    def spy(*args: object) -> None:
        drifts.append(float(args[-1]))  # type: ignore[arg-type]
        learn(*args)  # type: ignore[arg-type]

    learner._learn_selectively = spy  # type: ignore[method-assign]
    t = 1_750_000_000.0
    for index in range(4):
        learner.update(np.clip(scene, 0, 255).astype(np.uint8), t + index / 10, (protect,))
    lit = scene * step
    lit[60:100, 100:130] = 250.0  # someone there: protected pixels
    assert learner._block_background is not None
    before = learner._block_background.copy()
    learner.update(np.clip(lit, 0, 255).astype(np.uint8), t + 0.4, (protect,), 1)
    after = learner._block_background
    ratios = (after / before).ravel()
    measured = float(np.partition(ratios, ratios.size // 2)[ratios.size // 2])
    assert drifts and drifts[-1] == pytest.approx(measured, abs=1e-5)
    if step != 1.0:
        assert abs(drifts[-1] - 1.0) > 0.05  # a step the protected pixels follow
