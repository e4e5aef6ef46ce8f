"""Motion detection areas: validate polygons and the camera's 22x18 grid, and build their masks once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import voluptuous as vol

from camera_runtime.exceptions import ConfigError

from .validators import POLYGON, SENSITIVITY

GRID_COLUMNS = 22
GRID_ROWS = 18
MAX_AREAS = 8


def grid(value: Any) -> list[str]:
    """The camera's motion grid: 18 rows of 22 characters, ``1`` for a selected cell.

    Unquoted rows of digits are numbers to YAML (leading zeros lost), so a non-string row gets
    an error that says to quote it.
    """
    if not isinstance(value, list):
        raise vol.Invalid(f"a grid is a list of {GRID_ROWS} strings of {GRID_COLUMNS} '0'/'1'")
    if len(value) != GRID_ROWS:
        raise vol.Invalid(f"a grid has {GRID_ROWS} rows, got {len(value)}")
    for index, row in enumerate(value):
        if not isinstance(row, str):
            raise vol.Invalid(
                f"row {index + 1} must be a quoted string of {GRID_COLUMNS} '0'/'1' characters "
                f"(YAML reads unquoted digits as a number)",
                path=[index],
            )
        if len(row) != GRID_COLUMNS:
            raise vol.Invalid(
                f"row {index + 1} must have {GRID_COLUMNS} characters, got {len(row)}",
                path=[index],
            )
        bad = sorted(set(row) - {"0", "1"})
        if bad:
            raise vol.Invalid(
                f"row {index + 1} may hold only '0' and '1', found {''.join(bad)!r}",
                path=[index],
            )
    if not any("1" in row for row in value):
        raise vol.Invalid("the grid selects no cell (every row is all '0')")
    return list(value)


def _one_shape(area: dict[str, Any]) -> dict[str, Any]:
    if ("polygon" in area) == ("grid" in area):
        raise vol.Invalid("an area needs either `polygon` or `grid` (exactly one of them)")
    return area


AREA_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional("name"): vol.All(str, vol.Length(min=1, max=64)),
            vol.Optional("polygon"): POLYGON,
            vol.Optional("grid"): grid,
            # expert mode only: this area's own sensitivity by day / by night
            vol.Optional("day_sensitivity"): SENSITIVITY,
            vol.Optional("night_sensitivity"): SENSITIVITY,
        }
    ),
    _one_shape,
)


def _name_areas(areas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give unnamed areas the names ``area_1``, ``area_2``... and reject duplicate names, which
    would make an event's ``areas`` list ambiguous."""
    named: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, area in enumerate(areas):
        name = area.get("name") or f"area_{index + 1}"
        if name in seen:
            raise vol.Invalid(f"area name {name!r} is used twice", path=[index, "name"])
        seen.add(name)
        named.append({**area, "name": name})
    return named


#: One whole-picture area, the default when no area is drawn.
WHOLE_PICTURE = [{"name": "area_1", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}]

AREAS_SCHEMA = vol.All(
    [AREA_SCHEMA],
    vol.Length(min=1, max=MAX_AREAS, msg=f"give 1 to {MAX_AREAS} areas"),
    _name_areas,
)

Mask = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class MotionArea:
    """One area at detect resolution. ``mask`` is ``None`` when the area is the whole picture,
    so the common case needs no masking at all."""

    name: str
    mask: Mask | None
    pixels: int
    day_sensitivity: int | None
    night_sensitivity: int | None


def grid_mask(rows: Sequence[str], width: int, height: int) -> Mask:
    """Scale the 22x18 cell grid to a ``height`` x ``width`` mask (255 = selected)."""
    cells = np.array([[c == "1" for c in row] for row in rows], dtype=np.uint8) * 255
    row_of = (np.arange(height) * GRID_ROWS) // height
    col_of = (np.arange(width) * GRID_COLUMNS) // width
    return np.ascontiguousarray(cells[row_of][:, col_of])


def polygon_mask(points: Sequence[Sequence[float]], width: int, height: int) -> Mask:
    """Fill a normalised polygon at ``width`` x ``height``, with 1/16-pixel vertex precision."""
    mask = np.zeros((height, width), dtype=np.uint8)
    scaled = np.array(points, dtype=np.float64) * (width, height) * 16.0
    cv2.fillPoly(mask, [np.round(scaled).astype(np.int32)], 255, cv2.LINE_8, 4)
    return mask


def build_areas(
    areas: Sequence[Mapping[str, Any]], width: int, height: int, min_pixels: int
) -> list[MotionArea]:
    """Build every area's mask once, at detect resolution (never per frame).

    Raises ``ConfigError`` for an area smaller than ``min_pixels`` at this size: it could
    never report motion, and a silent dead area is worse than an error.
    """
    built = []
    for area in areas:
        if "grid" in area:
            mask = grid_mask(area["grid"], width, height)
        else:
            mask = polygon_mask(area["polygon"], width, height)
        pixels = int(cv2.countNonZero(mask))
        if pixels < min_pixels:
            raise ConfigError(
                f"motion area {area['name']!r} covers {pixels} pixel(s) at the detect size "
                f"{width}x{height}, fewer than the {min_pixels} that can count as motion; "
                "draw it larger"
            )
        built.append(
            MotionArea(
                name=area["name"],
                mask=None if pixels == width * height else mask,
                pixels=pixels,
                day_sensitivity=area.get("day_sensitivity"),
                night_sensitivity=area.get("night_sensitivity"),
            )
        )
    return built
