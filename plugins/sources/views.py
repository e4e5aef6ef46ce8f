"""Overlapping sensor views cut from one wide synthetic scene: the stitching tests' ground truth.

A multi-sensor camera's sensors see overlapping parts of one scene, each from its own angle.
``SensorViews`` reproduces that from the synthetic scene: the scene is drawn once, wide, and
view ``index`` of ``count`` is the part of it starting at ``index * (1 - overlap)`` view widths,
seen through a slight perspective (its outer edge squeezed by up to ``perspective`` of the
height), so a stitcher must find real homographies, not shifts. ``homography`` says exactly
which scene pixel each view pixel shows: a test compares a stitched panorama with the scene.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import voluptuous as vol

from camera_runtime.model import Frame

from ..stitching.compose import remap


def _index_below_count(views: dict[str, Any]) -> dict[str, Any]:
    if views["index"] >= views["count"]:
        raise vol.Invalid("must be below count", path=["index"])
    return views


VIEWS_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("count"): vol.All(vol.Coerce(int), vol.Range(min=2, max=8)),
            vol.Required("index"): vol.All(vol.Coerce(int), vol.Range(min=0, max=7)),
            # Share of a view's width it has in common with its neighbour.
            vol.Optional("overlap", default=0.3): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=0.8)
            ),
            vol.Optional("perspective", default=0.04): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=0.2)
            ),
        }
    ),
    _index_below_count,
)


def scene_width(width: int, count: int, overlap: float) -> int:
    """Width of the wide scene ``count`` views of ``width`` overlapping by ``overlap`` cover."""
    step = width * (1.0 - overlap)
    return round((width + (count - 1) * step) / 2) * 2


def view_homography(
    width: int, height: int, count: int, index: int, overlap: float, perspective: float
) -> npt.NDArray[np.float64]:
    """The 3x3 matrix taking view ``index``'s pixels to the wide scene's pixels."""
    x0 = index * width * (1.0 - overlap)
    x1 = x0 + width - 1
    middle = (count - 1) / 2
    lean = perspective * (index - middle) / middle if middle else 0.0
    squeeze = abs(lean) * (height - 1)
    left = squeeze if lean < 0 else 0.0
    right = squeeze if lean > 0 else 0.0
    bottom = height - 1
    view = np.array([[0, 0], [width - 1, 0], [width - 1, bottom], [0, bottom]], np.float32)
    scene = np.array(
        [[x0, left], [x1, right], [x1, bottom - right], [x0, bottom - left]], np.float32
    )
    return cv2.getPerspectiveTransform(view, scene).astype(np.float64)


def _maps(matrix: npt.NDArray[np.float64], width: int, height: int) -> tuple[Any, Any]:
    """Fixed remap tables (CV_16SC2) reading, for each pixel of a ``width`` x ``height``
    picture, the point ``matrix`` takes it to."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    points = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(points, matrix).reshape(height, width, 2)
    return cv2.convertMaps(
        np.ascontiguousarray(mapped[..., 0]), np.ascontiguousarray(mapped[..., 1]), cv2.CV_16SC2
    )


class SensorViews:
    """One sensor's view of the wide scene, as fixed remap tables built once."""

    def __init__(self, options: Mapping[str, Any], width: int, height: int) -> None:
        self.width, self.height = width, height
        self.scene_width = scene_width(width, options["count"], options["overlap"])
        self.homography = view_homography(
            width,
            height,
            options["count"],
            options["index"],
            options["overlap"],
            options["perspective"],
        )
        half = np.diag([0.5, 0.5, 1.0])
        chroma = half @ self.homography @ np.linalg.inv(half)
        self._luma = _maps(self.homography, width, height)
        self._chroma = _maps(chroma, width // 2, height // 2)

    def cut(self, scene: Frame) -> Frame:
        """This view of ``scene`` (a frame of the wide scene)."""
        y = remap(scene.y, self._luma, 16)
        u = remap(scene.u, self._chroma, 128)
        v = remap(scene.v, self._chroma, 128)
        for plane in (y, u, v):
            plane.flags.writeable = False
        return dataclasses.replace(scene, y=y, u=u, v=v, source=None)
