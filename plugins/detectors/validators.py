"""Small voluptuous validators shared by the detectors' option schemas (numbers, sensitivities, polygons)."""

from __future__ import annotations

from typing import Any

import numpy as np
import voluptuous as vol

MAX_POLYGON_POINTS = 16

COORDINATE = vol.All(vol.Coerce(float), vol.Range(min=0.0, max=1.0))


def whole_number(value: Any) -> int:
    """An integer; unlike voluptuous' ``int`` check, ``true``/``false`` are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected a whole number")
    return value


def polygon_point(value: Any) -> list[float]:
    """One polygon point: ``[x, y]`` in normalised picture coordinates (0..1)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise vol.Invalid("a polygon point is [x, y]: two numbers from 0 to 1")
    point = []
    for index, coordinate in enumerate(value):
        try:
            point.append(COORDINATE(coordinate))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index]) from None
    return point


def _polygon_has_area(points: list[list[float]]) -> list[list[float]]:
    """Reject polygons whose points all lie on one line: they would select no pixel."""
    centred = np.array(points, dtype=np.float64)
    centred -= centred.mean(axis=0)
    if float(np.linalg.svd(centred, compute_uv=False)[-1]) < 1e-4:
        raise vol.Invalid("the polygon encloses no area (its points lie on one line)")
    return points


POLYGON = vol.All(
    [vol.Schema(polygon_point)],
    vol.Length(
        min=3,
        max=MAX_POLYGON_POINTS,
        msg=f"a polygon needs 3 to {MAX_POLYGON_POINTS} points",
    ),
    _polygon_has_area,
)


SENSITIVITY = vol.All(whole_number, vol.Range(min=0, max=100))


def number(value: Any) -> float:
    """A plain number (int or float); strings and ``true``/``false`` are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number")
    return float(value)
