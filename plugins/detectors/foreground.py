"""Noise-adaptive foreground: which pixels of a small grey picture stand out from the learnt background, by more than the scene's own noise and camera shake."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from camera_runtime.model import Plane

#: Time constant of the running-average background (seconds): how fast a change is absorbed.
#: At 0.3 s a walker's box is about twice its width (the trail fades fast); longer times
#: stretch the trail, shorter ones leave only the edges of slow objects. Never below 1.5
#: pictures, so low detect rates still average.
BACKGROUND_TIME = 0.3
#: Time constant of the noise estimate (seconds): noise is a property of the camera and the
#: light, which change slowly; a few seconds keep one odd picture from moving it much.
NOISE_TIME = 3.0
#: The noise estimate never goes below this (mean absolute difference, grey levels): a picture
#: this clean is a synthetic one, and an even lower figure would make every rounding step count.
MIN_NOISE = 0.5
#: After this long without a picture (seconds) the background is stale and is learnt anew.
MAX_GAP = 10.0
#: When more than this fraction of the picture changed at once, the scene changed (lights
#: switched, camera moved, IR cut filter): the background is re-learnt and nothing reported.
SCENE_CHANGE_FRACTION = 0.5
#: The brightness ratio between picture and background is estimated on a grid of blocks
#: (their median, so a moving object covering less than half the blocks does not bias it).
GAIN_BLOCKS = (16, 9)

#: Right after a global brightness step the compensation is only approximate (gamma, clipped
#: highlights, objects that keep their own light): the threshold rises by this fraction of the
#: step times the picture's mean brightness (a 40 % step at mean 125: 7.5 grey levels).
GAIN_ERROR = 0.15
#: A changed pixel that did not change since the previous picture is the fading trail of
#: something that stopped (or left): it counts only when it stands out this many times the
#: threshold, so a trail fades as fast as it did with the fixed thresholds.
STILL_FACTOR = 6

_KERNEL = np.ones((3, 3), dtype=np.uint8)
#: Selective learning protects a target's rim too: its mask dilated this many times by
#: ``_KERNEL`` (pixels beyond the mask).
_RIM = 2
#: The blocks and their background are compared 2 grey levels up, so black blocks (whose
#: ratio is noise) do not dominate the median.
LIFT = 2.0
#: The brightness gain applied to the background is kept within 1 / this and this.
MAX_GAIN = 4.0
#: The sparse sample the blocks are averaged from: 4 x 4 pixels a block.
_SAMPLE = (GAIN_BLOCKS[0] * 4, GAIN_BLOCKS[1] * 4)


@dataclass(frozen=True, slots=True)
class Level:
    """How far a pixel must stand out to be foreground: ``contrast`` times the scene's noise
    (its mean absolute difference from the background), and at least ``floor`` grey levels."""

    contrast: float
    floor: int

    def threshold(self, noise: float) -> int:
        """The grey-level threshold at a noise level."""
        return max(self.floor, math.ceil(self.contrast * max(noise, MIN_NOISE)))


@dataclass(frozen=True, slots=True)
class Foreground:
    """One picture's foreground: a 0/255 mask per requested level, and the noise level and
    grey-level thresholds they were cut at. The masks cover only ``box`` (x, y, w, h in
    pixels of the picture): no pixel outside it stands out at any level, and the work is done
    on that box alone. ``masks`` is empty (and ``box`` all 0) when fewer than ``min_pixels``
    pixels stood out even at the lowest level (nothing that could count: no mask was made)."""

    masks: dict[Level, Plane]
    thresholds: dict[Level, int]
    noise: float
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


class AdaptiveForeground:
    """A running-average background of a small grey picture, and the pixels that differ from it.

    Per picture: a 5x5 Gaussian blur; the background (float, time constant ``BACKGROUND_TIME``)
    scaled by the scene's brightness ratio, so exposure and light-level changes cancel; the
    absolute difference. Three things make the threshold adaptive rather than fixed:

    - **the scene's noise**: the mean absolute difference of the pixels that are not
      foreground, averaged over ``NOISE_TIME``. A threshold of a few times that separates a
      faint target (a person in fog, at dusk, dark clothes against a dark wall) from sensor
      noise on a clean day picture, yet rises by itself on a noisy night picture, where a fixed
      low threshold would fire on every picture;
    - **camera shake**: a pixel's difference counts only beyond the range its 3x3 neighbours
      span in the background (their max minus min). A shift of up to one detect pixel (about
      4 px at 1280x720) moves every value within that range, so the edges of a shaking scene
      drop out, while a target over a flat part keeps its whole contrast;
    - the range is computed only when enough pixels exceed the lowest threshold to matter
      (``min_pixels``): most pictures have nothing moving and pay nothing for it.

    The first picture, and the first after a ``MAX_GAP`` pause, only seed the background; so
    does one in which more than ``SCENE_CHANGE_FRACTION`` of the pixels changed at once.
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        background_time: float = BACKGROUND_TIME,
        still_factor: int = STILL_FACTOR,
        foreground_time: float | None = None,
        protect: Level | None = None,
    ) -> None:
        """``background_time`` and ``still_factor`` replace ``BACKGROUND_TIME`` and
        ``STILL_FACTOR``. With ``foreground_time`` and ``protect`` (one of the levels passed to
        ``update``) the background is learnt selectively: the pixels found at ``protect`` are
        absorbed with that (longer) time constant, the rest with ``background_time``. A
        ``protect`` level well above the lowest lets a faint ghost (what a still object left
        in the background) heal at the fast rate instead of being protected for ever. A user that wants whole objects rather than their
        motion (the tracker) sets it: a walker leaves no trail and a loiterer stays found,
        so the trail test is not needed (``still_factor=1`` turns it off)."""
        self._pixels = width * height
        self._frame_time = 1.0 / (fps if fps > 0 else 10.0)
        self._tau = max(background_time, 1.5 * self._frame_time)
        self._still_factor = still_factor
        self._foreground_tau = foreground_time
        self._protect = protect
        self._background: npt.NDArray[np.float32] | None = None
        #: the blocks' running average, plus ``LIFT``
        self._block_background: npt.NDArray[np.float32] | None = None
        self._noise: float | None = None
        self._previous: Plane | None = None  # the last blurred picture
        self._ratio = 1.0  # the latest picture's brightness against the background (``_ratio``)
        self._last_timestamp = 0.0
        self._sample_steps = _nearest_steps(width, height)

    @property
    def noise(self) -> float:
        """The scene's noise: mean absolute difference of still pixels (grey levels)."""
        return max(self._noise or 0.0, MIN_NOISE)

    @property
    def background(self) -> npt.NDArray[np.float32] | None:
        """The learnt (blurred) background, ``None`` before the first picture: what the
        scene looked like before something was left in it or taken from it."""
        return self._background

    @property
    def picture(self) -> Plane | None:
        """The latest picture, blurred as it was compared with the background."""
        return self._previous

    def reset(self) -> None:
        """Forget the background (the next picture seeds it); the noise level is kept."""
        self._background = None

    def update(
        self, image: Plane, timestamp: float, levels: Sequence[Level], min_pixels: int = 1
    ) -> Foreground | None:
        """Compare a picture (detect size, uint8) with the background, then learn it.

        Returns ``None`` when the picture only seeded the background (first picture, a pause
        longer than ``MAX_GAP``, a scene change). With no ``levels`` the picture is only learnt.
        """
        # OpenCV's stubs type every result as an any-dtype array; these are uint8 like the input
        blurred = cast(Plane, cv2.GaussianBlur(image, (5, 5), 0))
        # the blocks' means from a 4x sparser sample of the blurred picture: the median ratio
        # does not need every pixel, and a 20x area resize costs as much as the blur
        if self._sample_steps is not None:  # the same pixels as a slice: no OpenCV call
            sample = blurred[:: self._sample_steps[1], :: self._sample_steps[0]]
        else:
            sample = cast(Plane, cv2.resize(blurred, _SAMPLE, interpolation=cv2.INTER_NEAREST))
        sampled = cv2.resize(sample, GAIN_BLOCKS, interpolation=cv2.INTER_AREA)
        # the blocks (and their background) are kept 2 grey levels up, as their ratios take
        # them (``_ratio``): one numpy step a picture instead of three
        blocks = cast(npt.NDArray[np.float32], sampled + np.float32(LIFT))
        elapsed = timestamp - self._last_timestamp
        self._last_timestamp = timestamp
        if self._background is None or self._block_background is None or elapsed > MAX_GAP:
            self._seed(blurred, blocks)
            return None
        if elapsed <= 0:  # a wall clock stepped back, or a repeated timestamp
            elapsed = self._frame_time
        found = None
        previous, self._previous = self._previous, blurred
        if levels:
            found = self._compare(blurred, previous, blocks, levels, min_pixels, elapsed)
            if found is None:
                self._seed(blurred, blocks)
                return None
        alpha = 1.0 - math.exp(-elapsed / self._tau)
        if self._foreground_tau is not None and found is not None and self._protect in found.masks:
            _accumulate(blocks, self._block_background, alpha)
            # how much the blocks' background brightened in this step: each block's ratio
            # moved ``alpha`` of the way from 1 to the picture's, and so did their median, the
            # picture's ratio of ``_compare`` (the same as measuring it again, in one step)
            drift = 1.0 + alpha * (self._ratio - 1.0)
            self._learn_selectively(blurred, found, alpha, elapsed, drift)
        else:
            cv2.accumulateWeighted(blurred, self._background, alpha)
            _accumulate(blocks, self._block_background, alpha)
        return found

    def _compare(
        self,
        blurred: Plane,
        previous: Plane | None,
        blocks: npt.NDArray[np.float32],
        levels: Sequence[Level],
        min_pixels: int,
        elapsed: float,
    ) -> Foreground | None:
        assert self._background is not None and self._block_background is not None
        self._ratio = _ratio(blocks, self._block_background)
        gain = min(MAX_GAIN, max(1.0 / MAX_GAIN, self._ratio))
        reference = cast(Plane, cv2.convertScaleAbs(self._background, alpha=gain))
        difference = cast(Plane, cv2.absdiff(blurred, reference))
        if self._noise is None:  # the first comparison: this picture's own mean difference
            self._noise = cv2.sumElems(difference)[0] / self._pixels
        noise = self.noise
        # (numpy, not OpenCV, on the 144 blocks: too few to release the GIL, which every
        # OpenCV call does and must take back)
        step = GAIN_ERROR * abs(1.0 - gain) * (float(blocks.mean()) - LIFT) if gain != 1.0 else 0.0
        thresholds = {level: level.threshold(noise) + math.ceil(step) for level in levels}
        lowest = min(thresholds.values())
        # the differences over the threshold, the rest 0 (every one over it is at least 1): the
        # count, the box and their sum from the one picture
        above = cast(Plane, cv2.threshold(difference, lowest, 0, cv2.THRESH_TOZERO)[1])
        count = cv2.countNonZero(above)
        if count > SCENE_CHANGE_FRACTION * self._pixels:
            return None
        if not count:
            self._learn_noise(difference, 0, 0.0, elapsed)
            return Foreground({}, thresholds, noise)
        # Only the box around the pixels over the lowest threshold (plus the 3x3 neighbourhood's
        # pixel) can hold foreground: the rest of the work is done on that box alone, which is
        # small while one object moves and the whole picture only under shake.
        x, y, w, h = cv2.boundingRect(above)
        height, width = blurred.shape
        x0, y0 = max(0, x - 1), max(0, y - 1)
        x1, y1 = min(width, x + w + 1), min(height, y + h + 1)
        box = (slice(y0, y1), slice(x0, x1))
        # the pixels over the threshold are all in the box: their difference is summed there.
        # A plain sum, not OpenCV's masked mean (on a busy picture's 300x170 box: 4 us against
        # 130-190 us); scaled as that mean was (its sum times 1 / count, times count) so the
        # noise estimate, and every threshold after it, stays the same to the last bit
        over = cv2.sumElems(above[box])[0] * (1.0 / count) * count
        self._learn_noise(difference, count, over, elapsed)
        if count < min_pixels:
            return Foreground({}, thresholds, noise)
        here, ref = blurred[box], reference[box]
        # how far the picture lies outside the range of the background's 3x3 neighbourhood
        excess = cv2.subtract(here, cv2.dilate(ref, _KERNEL))
        cv2.max(excess, cv2.subtract(cv2.erode(ref, _KERNEL), here), dst=excess)
        masks = {}
        # with no trail test (``still_factor`` 1: min(excess, max(change, excess)) is the
        # excess) a mask is one threshold, not five OpenCV calls
        if previous is None or self._still_factor <= 1:
            for level, t in thresholds.items():
                masks[level] = cast(Plane, cv2.threshold(excess, t, 255, cv2.THRESH_BINARY)[1])
        else:
            # the trail test in one pass: a pixel counts when its excess is over t and either it
            # changed by over t since the previous picture or its excess is over STILL_FACTOR x t:
            # min(excess, max(change, excess - (STILL_FACTOR - 1) x t)) > t, saturating uint8
            news = cv2.absdiff(here, previous[box])
            for level, t in thresholds.items():
                # (OpenCV's stubs lack the overload with a scalar)
                either = cv2.subtract(excess, (self._still_factor - 1) * t)  # type: ignore[call-overload]
                cv2.max(either, news, dst=either)
                cv2.min(either, excess, dst=either)
                masks[level] = cast(Plane, cv2.threshold(either, t, 255, cv2.THRESH_BINARY)[1])
        return Foreground(masks, thresholds, noise, (x0, y0, x1 - x0, y1 - y0))

    def _learn_selectively(
        self, blurred: Plane, found: Foreground, alpha: float, elapsed: float, drift: float
    ) -> None:
        """Learn the background pixels at ``alpha``, the foreground (the ``protect`` level's
        mask, in its box) at the slower ``foreground_time``; but a global brightness change
        (``drift``: how much the whole background brightened in this step) reaches the
        protected pixels at once, or a light switched on while someone stood there would leave
        their ghost, protected, behind.

        Every pixel is learnt at the fast rate in one unmasked call, and only the box (grown by
        the protection's 2-pixel rim) is learnt again at the slow rate, from a copy taken
        before, and put back where protected. Two masked calls over the whole picture, the
        inverted mask and a dilation of the whole picture cost 85 us a picture at 320x180
        against 25 us this way (one thread), and one OpenCV call (a GIL round trip) more; the
        background is the same to the last bit (OpenCV's masked and unmasked running averages
        compute a pixel alike)."""
        assert self._background is not None and self._foreground_tau is not None
        assert self._protect is not None
        x, y, w, h = found.box
        height, width = blurred.shape
        # the rim: two 3x3 dilations reach 2 pixels beyond the mask, which lies in the box
        x0, y0 = max(0, x - _RIM), max(0, y - _RIM)
        x1, y1 = min(width, x + w + _RIM), min(height, y + h + _RIM)
        region = (slice(y0, y1), slice(x0, x1))
        inner = (slice(y - y0, y - y0 + h), slice(x - x0, x - x0 + w))
        protected = cast(
            Plane,
            cv2.copyMakeBorder(
                found.masks[self._protect],
                y - y0,
                y1 - y - h,
                x - x0,
                x1 - x - w,
                cv2.BORDER_CONSTANT,
                value=0,
            ),
        )
        # the object's blurred rim, under the threshold, is protected too: learnt at the fast
        # rate it would leave a ghost outline where someone stood
        cv2.dilate(protected, _KERNEL, dst=protected, iterations=_RIM)
        kept = self._background[region].copy()
        if abs(drift - 1.0) > 0.002:
            kept[inner][protected[inner] > 0] *= drift
        cv2.accumulateWeighted(blurred, self._background, alpha)
        slow = 1.0 - math.exp(-elapsed / self._foreground_tau)
        cv2.accumulateWeighted(blurred[region], kept, slow, mask=protected)
        # (OpenCV's masked copy: numpy's ``copyto(..., where=protected > 0)`` cost 20 us a
        # picture on ``busy360`` against 12)
        cv2.copyTo(kept, protected, self._background[region])

    def _learn_noise(self, difference: Plane, count: int, over: float, elapsed: float) -> None:
        """Fold this picture's noise (mean difference of the pixels below the lowest threshold,
        so a moving object does not count as noise) into the running estimate: ``count``
        pixels were over that threshold, their differences summing to ``over``."""
        total = cv2.sumElems(difference)[0] - over
        sample = total / max(1, self._pixels - count)
        if self._noise is None:
            self._noise = sample
        else:
            self._noise += (sample - self._noise) * (1.0 - math.exp(-elapsed / NOISE_TIME))

    def _seed(self, blurred: Plane, blocks: npt.NDArray[np.float32]) -> None:
        self._previous = blurred
        self._background = blurred.astype(np.float32)
        self._block_background = blocks.copy()


def _ratio(blocks: npt.NDArray[np.float32], block_background: npt.NDArray[np.float32]) -> float:
    """Brightness of the picture relative to the background: the median of the block ratios,
    both ``LIFT`` up (so black blocks do not dominate); the gain applied is this clamped to
    ``MAX_GAIN``."""
    ratios = blocks / block_background
    flat = ratios.ravel()
    middle = flat.size // 2
    return float(np.partition(flat, middle)[middle])


def _accumulate(
    blocks: npt.NDArray[np.float32], block_background: npt.NDArray[np.float32], alpha: float
) -> None:
    """``cv2.accumulateWeighted`` of the 144 blocks, in numpy: too few values for numpy to
    release the GIL, which the OpenCV call does and must take back (the same running average,
    to within a float32 rounding step)."""
    block_background += (blocks - block_background) * np.float32(alpha)


def _nearest_steps(width: int, height: int) -> tuple[int, int] | None:
    """The column and row steps with which ``cv2.resize(..., _SAMPLE, INTER_NEAREST)`` of a
    ``width`` x ``height`` picture picks its pixels, when it picks every n-th from the first
    (320x180: every 5th; 640x360: every 10th), so a slice gives the same sample without an
    OpenCV call (a GIL round trip); ``None`` when it does not (another aspect ratio)."""
    columns = np.arange(width, dtype=np.float32)[None, :].repeat(2, axis=0)
    rows = np.arange(height, dtype=np.float32)[:, None].repeat(2, axis=1)
    xs = cv2.resize(columns, (_SAMPLE[0], 2), interpolation=cv2.INTER_NEAREST)[0]
    ys = cv2.resize(rows, (2, _SAMPLE[1]), interpolation=cv2.INTER_NEAREST)[:, 0]
    steps = []
    for picked, size in ((xs, width), (ys, height)):
        step = int(picked[1] - picked[0]) if len(picked) > 1 else 1
        expected = np.arange(0, size, step, dtype=np.float32) if step > 0 else picked[:0]
        if not np.array_equal(picked, expected):
            return None
        steps.append(step)
    return steps[0], steps[1]
