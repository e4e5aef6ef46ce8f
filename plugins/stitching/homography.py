"""The `homography` stitcher: features and homographies once, fixed remap tables per frame.

Calibration (``calibrate.py``) takes about 0.1-0.3 s per 1080p sensor on one core (SIFT at
960 pixels wide), building the tables about 0.7 s for four; composing four 1080p sensors
(``compose.py``) costs about two thirds of one plain ``cv2.remap`` of the panorama: see
``bench/stitch.py`` and docs/stitching.md for the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import cv2
import numpy as np
import numpy.typing as npt
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import CalibrationError
from camera_runtime.interfaces import Stitcher
from camera_runtime.interfaces.stages import Progress
from camera_runtime.model import Frame

from .calibrate import calibrate
from .compose import Composer

#: The format of the saved calibration; a different one is calibrated again.
VERSION = 1


def _within(kind: type, low: float, high: float) -> Any:
    """A number of ``kind`` from ``low`` to ``high``."""
    return vol.All(vol.Coerce(kind), vol.Range(min=low, max=high))


class HomographyStitcher(Stitcher):
    """Planar stitching: each sensor's pixels go to the panorama through one 3x3 matrix."""

    kind: ClassVar[str] = "homography"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            # Manual ch. 10: where seams are exact, in metres from the lens (see ``parallax``).
            vol.Optional("best_stitching_distance", default=10.0): _within(float, 1, 100),
            # Distance between neighbouring lenses (m); 0: one optical centre, as in a
            # multi-sensor camera, where the distance changes nothing.
            vol.Optional("sensor_spacing", default=0.0): _within(float, 0, 2),
            vol.Optional("horizontal_fov", default=90.0): _within(float, 20, 170),
            vol.Optional("feature_width", default=960): _within(int, 240, 3840),
            vol.Optional("min_matches", default=30): _within(int, 8, 1000),
            # Width of the feathered seam's ramp, in pixels; 0: a hard seam.
            vol.Optional("feather", default=32): _within(int, 0, 1000),
        }
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._composer: Composer | None = None
        self._matrices: tuple[npt.NDArray[np.float64], ...] = ()

    def calibrate(
        self, frames: Sequence[Frame], progress: Progress | None = None
    ) -> dict[str, Any]:
        geometry = calibrate(frames, dict(self.options), progress)
        sizes = [(frame.width, frame.height) for frame in frames]
        self._use(geometry.matrices, sizes, geometry.canvas)
        return {
            "version": VERSION,
            "stitcher": self.kind,
            "sizes": [list(size) for size in sizes],
            "canvas": list(geometry.canvas),
            "matrices": [m.tolist() for m in geometry.matrices],
            "matches": list(geometry.matches),
            "options": dict(self.options),
        }

    def load(self, calibration: Mapping[str, Any], sizes: Sequence[tuple[int, int]]) -> None:
        try:
            if calibration["version"] != VERSION or calibration["stitcher"] != self.kind:
                raise CalibrationError("the saved calibration is of another kind")
            saved = [tuple(size) for size in calibration["sizes"]]
            matrices = tuple(np.array(m, dtype=np.float64) for m in calibration["matrices"])
            canvas = (int(calibration["canvas"][0]), int(calibration["canvas"][1]))
            same_options = dict(calibration["options"]) == dict(self.options)
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise CalibrationError(f"the saved calibration is damaged ({err})") from err
        if saved != [tuple(size) for size in sizes] or len(matrices) != len(sizes):
            raise CalibrationError("the sensors changed since the calibration was saved")
        if not same_options:
            raise CalibrationError("the stitching options changed since the calibration")
        self._use(matrices, sizes, canvas)

    def _use(
        self,
        matrices: tuple[npt.NDArray[np.float64], ...],
        sizes: Sequence[tuple[int, int]],
        canvas: tuple[int, int],
    ) -> None:
        self._matrices = matrices
        self._composer = Composer(matrices, sizes, canvas, float(self.options["feather"]))

    def _ready(self) -> Composer:
        if self._composer is None:
            raise CalibrationError("the stitcher is not calibrated")
        return self._composer

    def output_size(self) -> tuple[int, int]:
        return self._ready().canvas

    def stitch(self, frames: Sequence[Frame]) -> Frame:
        return self._ready().compose(frames)

    def to_output(
        self, sensor: int, points: Sequence[tuple[float, float]]
    ) -> list[tuple[float, float]]:
        self._ready()
        array = np.array(points, np.float32).reshape(-1, 1, 2)
        mapped = cv2.perspectiveTransform(array, self._matrices[sensor]).reshape(-1, 2)
        return [(float(x), float(y)) for x, y in mapped]


@hookimpl
def register_stitchers(register: Callable[[type[Stitcher]], None]) -> None:
    """Register the `homography` stitcher."""
    register(HomographyStitcher)
