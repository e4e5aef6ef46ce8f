"""Calibration of overlapping sensors: SIFT features, matches, one homography per neighbour pair.

The sensors are given left to right. Each neighbour pair is matched on the luma planes scaled
down to ``feature_width`` (features of a 1080p picture are found as well at 960 pixels, four
times faster); RANSAC keeps the matches one homography explains. The middle sensor is the
reference plane: every other sensor's matrix is the chain of pair homographies to it, and the
canvas is the box around all of them. Failures say what to change: the pair, how many matches
were found and how many are needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from camera_runtime.exceptions import CalibrationError
from camera_runtime.interfaces.stages import Progress
from camera_runtime.model import Frame

#: Lowe's ratio test: a match counts when clearly better than the second best.
_RATIO = 0.75
#: RANSAC's reprojection threshold, in feature-scale pixels.
_RANSAC_PX = 3.0


@dataclass(frozen=True, slots=True)
class Geometry:
    """What a calibration found: each sensor's matrix to the canvas, and the canvas size."""

    matrices: tuple[npt.NDArray[np.float64], ...]
    canvas: tuple[int, int]
    matches: tuple[int, ...]


def _features(frame: Frame, feature_width: int) -> tuple[Any, Any, float]:
    scale = min(1.0, feature_width / frame.width)
    gray: Any = frame.y
    if scale < 1.0:
        size = (round(frame.width * scale), round(frame.height * scale))
        gray = cv2.resize(np.ascontiguousarray(frame.y), size, interpolation=cv2.INTER_AREA)
    sift: Any = cv2.SIFT_create(nfeatures=4000)  # type: ignore[attr-defined]
    keypoints, descriptors = sift.detectAndCompute(gray, None)
    return keypoints, descriptors, scale


def _pair(
    left: tuple[Any, Any, float],
    right: tuple[Any, Any, float],
    index: int,
    min_matches: int,
) -> tuple[npt.NDArray[np.float64], int]:
    """The homography taking the right sensor's pixels to the left one's, and its inliers."""
    (kp_l, des_l, s_l), (kp_r, des_r, s_r) = left, right
    where = f"sensors {index + 1} and {index + 2}"
    if des_l is None or des_r is None or len(kp_l) < min_matches or len(kp_r) < min_matches:
        raise CalibrationError(
            f"too few features to stitch {where}: the picture has too little detail (a blank "
            "wall, darkness, fog). Point the sensors at a scene with texture and light, then "
            "calibrate again."
        )
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_r, des_l, k=2)
    good = [m for m, *rest in pairs if rest and m.distance < _RATIO * rest[0].distance]
    homography, inliers = None, 0
    if len(good) >= 4:
        src = np.array([kp_r[m.queryIdx].pt for m in good], np.float32) / s_r
        dst = np.array([kp_l[m.trainIdx].pt for m in good], np.float32) / s_l
        homography, mask = cv2.findHomography(src, dst, cv2.RANSAC, _RANSAC_PX / min(s_l, s_r))
        inliers = int(mask.sum()) if mask is not None else 0
    if homography is None or inliers < min_matches:
        raise CalibrationError(
            f"too little overlap between {where}: {inliers} matching features, at least "
            f"{min_matches} needed. Turn the sensors so that neighbours share about a fifth "
            "of their pictures, check that they are given left to right, then calibrate again."
        )
    return np.asarray(homography, np.float64), inliers


def refine(
    left: Frame, right: Frame, homography: npt.NDArray[np.float64], scale: float
) -> npt.NDArray[np.float64]:
    """``homography`` refined by dense alignment (ECC) of the overlap, at feature scale.

    Features sit in the overlap only, so their homography's perspective terms are loose and
    a chain of them drifts at the far sensors; aligning every pixel of the overlap pins them
    down. When ECC does not converge the feature estimate stands.
    """
    s = np.diag([scale, scale, 1.0])
    small = s @ homography @ np.linalg.inv(s)

    def plane(frame: Frame) -> Any:
        size = (round(frame.width * scale), round(frame.height * scale))
        y = np.ascontiguousarray(frame.y)
        return cv2.resize(y, size, interpolation=cv2.INTER_AREA) if scale < 1 else y

    template = plane(left).astype(np.float32)
    moving = plane(right).astype(np.float32)
    # Only the columns of the left picture the right one covers: the overlap is what aligns.
    h, w = moving.shape
    corners = np.array([[[0, 0]], [[w - 1, 0]], [[w - 1, h - 1]], [[0, h - 1]]], np.float32)
    xs = cv2.perspectiveTransform(corners, small).reshape(-1, 2)[:, 0]
    x0 = int(np.clip(np.floor(xs.min()), 0, template.shape[1] - 16))
    x1 = int(np.clip(np.ceil(xs.max()), x0 + 16, template.shape[1]))
    template = np.ascontiguousarray(template[:, x0:x1])
    offset = np.array([[1, 0, x0], [0, 1, 0], [0, 0, 1.0]])
    warp = np.linalg.inv(small) @ offset
    warp = (warp / warp[2, 2]).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-5)
    try:
        ecc: Any = cv2.findTransformECC
        _, warp = ecc(template, moving, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
    except cv2.error:
        return homography
    warp = warp.astype(np.float64) @ np.linalg.inv(offset)
    return np.linalg.inv(s) @ np.linalg.inv(warp) @ s  # type: ignore[no-any-return]


def parallax(width: int, horizontal_fov: float, spacing: float, distance: float) -> float:
    """Pixels a point at ``distance`` (m) shifts between two sensors ``spacing`` (m) apart:
    the correction that makes seams exact at the best stitching distance."""
    if spacing <= 0:
        return 0.0
    focal = (width / 2) / math.tan(math.radians(horizontal_fov) / 2)
    return focal * spacing / distance


def calibrate(
    frames: Sequence[Frame], options: dict[str, Any], progress: Progress | None = None
) -> Geometry:
    """Find each sensor's matrix to a common canvas from one set of overlapping frames."""
    report = progress or (lambda _share, _what: None)
    count = len(frames)
    if count < 2:
        raise CalibrationError("stitching needs at least two sensors")
    steps = count + (count - 1) + 1
    found = []
    for i, frame in enumerate(frames):
        report(i / steps, f"features of sensor {i + 1}")
        found.append(_features(frame, options["feature_width"]))
    to_left: list[npt.NDArray[np.float64]] = []
    matches: list[int] = []
    for i in range(count - 1):
        report((count + i) / steps, f"matching sensors {i + 1} and {i + 2}")
        homography, inliers = _pair(found[i], found[i + 1], i, options["min_matches"])
        scale = min(found[i][2], found[i + 1][2])
        homography = refine(frames[i], frames[i + 1], homography, scale)
        shift = parallax(
            frames[i + 1].width,
            options["horizontal_fov"],
            options["sensor_spacing"],
            options["best_stitching_distance"],
        )
        # A near point shows further left in the right sensor: move it back by the parallax
        # of the best stitching distance, so that the seam is exact at that distance.
        to_left.append(homography @ np.array([[1, 0, shift], [0, 1, 0], [0, 0, 1.0]]))
        matches.append(inliers)
    report((2 * count - 1) / steps, "placing the sensors")
    ref = count // 2
    to_ref: list[npt.NDArray[np.float64]] = [np.eye(3) for _ in frames]
    for i in range(ref + 1, count):
        to_ref[i] = to_ref[i - 1] @ to_left[i - 1]
    for i in range(ref - 1, -1, -1):
        to_ref[i] = to_ref[i + 1] @ np.linalg.inv(to_left[i])
    corners = []
    for matrix, frame in zip(to_ref, frames, strict=True):
        w, h = frame.width - 1, frame.height - 1
        box = np.array([[[0, 0]], [[w, 0]], [[w, h]], [[0, h]]], np.float32)
        corners.append(cv2.perspectiveTransform(box, matrix).reshape(-1, 2))
    points = np.concatenate(corners)
    # The origin at even pixels, so the reference sensor sits at whole pixels in the chroma
    # planes too (half size), where the composer copies its pixels instead of remapping them.
    x0, y0 = np.floor(points.min(axis=0) / 2) * 2
    x1, y1 = np.ceil(points.max(axis=0))
    width, height = int(x1 - x0) + 1, int(y1 - y0) + 1
    budget = 2 * sum(frame.width for frame in frames)
    if width > budget or height > 4 * max(frame.height for frame in frames):
        raise CalibrationError(
            f"the sensors' pictures do not fit together (a {width}x{height} panorama): the "
            "matches are wrong, usually repeated patterns or a moving scene. Calibrate again "
            "on a still scene with varied detail."
        )
    to_canvas = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1.0]])
    matrices = tuple(to_canvas @ m for m in to_ref)
    canvas = (width + width % 2, height + height % 2)
    report(1.0, "done")
    return Geometry(matrices, canvas, tuple(matches))
