"""Motion detection options: defaults from the schema, and a clear error with its key path for each mistake."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import voluptuous as vol
import yaml

from camera_runtime.config_yaml import format_path
from camera_runtime.exceptions import ConfigError
from camera_runtime.interfaces import DetectorContext
from camera_runtime_plugins.detectors.motion import MotionDetector
from camera_runtime_plugins.detectors.motion_areas import build_areas, grid_mask, polygon_mask

PREFIX = ["channels", 0, "detectors", "motion"]
ROW_OFF = "0" * 22
ROW_ON = "1" * 22


def errors(options: Any) -> list[str]:
    """The lines the core shows for these options (same key-path format)."""
    with pytest.raises(vol.Invalid) as info:
        MotionDetector.CONFIG_SCHEMA(options)
    err = info.value
    found = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    return [f"{format_path(PREFIX + list(e.path))}: {e.msg}" for e in found]


def area(**fields: Any) -> dict[str, Any]:
    return {"areas": [fields]}


def test_defaults_live_in_the_schema() -> None:
    options = MotionDetector.CONFIG_SCHEMA({})
    assert options["mode"] == "normal" and options["sensitivity"] == 50
    assert (options["day_sensitivity"], options["night_sensitivity"]) == (50, 50)
    assert options["hold_time"] == 5.0 and options["dynamic_analysis"] is True
    assert options["day_night_switch"]["mode"] == "off"
    assert options["areas"] == [
        {"name": "area_1", "polygon": [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]}
    ]


def test_unnamed_areas_are_numbered() -> None:
    options = MotionDetector.CONFIG_SCHEMA(
        {
            "areas": [
                {"grid": [ROW_ON] * 18},
                {"name": "gate", "grid": [ROW_ON] * 18},
                {"grid": [ROW_ON] * 18},
            ]
        }
    )
    assert [a["name"] for a in options["areas"]] == ["area_1", "gate", "area_3"]


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            {"sensitivity": 101},
            "channels[0].detectors.motion.sensitivity: value must be at most 100",
        ),
        ({"sensitivity": -1}, "channels[0].detectors.motion.sensitivity: value must be at least 0"),
        (
            {"sensitivity": True},
            "channels[0].detectors.motion.sensitivity: expected a whole number",
        ),
        (
            {"night_sensitivity": 200},
            "channels[0].detectors.motion.night_sensitivity: value must be at most 100",
        ),
        (
            {"mode": "auto"},
            "channels[0].detectors.motion.mode: value must be one of ['expert', 'normal']",
        ),
        ({"hold_time": 601}, "channels[0].detectors.motion.hold_time: value must be at most 600"),
        ({"hold_time": "5"}, "channels[0].detectors.motion.hold_time: expected a number"),
        (
            {"dynamic_analysis": "yes"},
            "channels[0].detectors.motion.dynamic_analysis: expected bool",
        ),
        ({"sensitivty": 10}, "channels[0].detectors.motion.sensitivty: extra keys not allowed"),
    ],
)
def test_option_errors_name_the_key_and_the_rule(options: dict[str, Any], line: str) -> None:
    assert errors(options) == [line]


@pytest.mark.parametrize(
    ("grid", "line"),
    [
        ([ROW_ON] * 17, "areas[0].grid: a grid has 18 rows, got 17"),
        (
            [ROW_ON] * 3 + ["1" * 21] + [ROW_ON] * 14,
            "areas[0].grid[3]: row 4 must have 22 characters, got 21",
        ),
        (
            [ROW_ON] * 5 + ["1" * 21 + "x"] + [ROW_ON] * 12,
            "areas[0].grid[5]: row 6 may hold only '0' and '1', found 'x'",
        ),
        ([ROW_OFF] * 18, "areas[0].grid: the grid selects no cell (every row is all '0')"),
        ("1" * 22, "areas[0].grid: a grid is a list of 18 strings of 22 '0'/'1'"),
    ],
)
def test_grid_errors_say_what_is_wrong(grid: Any, line: str) -> None:
    assert errors(area(grid=grid)) == [f"channels[0].detectors.motion.{line}"]


def test_unquoted_grid_rows_get_a_hint_to_quote_them() -> None:
    # YAML reads an unquoted row of digits as a number, losing its leading zeros
    text = "areas:\n  - grid:\n" + "".join(f"      - {ROW_OFF[:-1]}1\n" for _ in range(18))
    assert errors(yaml.safe_load(text)) == [
        "channels[0].detectors.motion.areas[0].grid[0]: row 1 must be a quoted string of 22 "
        "'0'/'1' characters (YAML reads unquoted digits as a number)"
    ]


@pytest.mark.parametrize(
    ("polygon", "line"),
    [
        ([[0, 0], [1, 0]], "areas[0].polygon: a polygon needs 3 to 16 points"),
        (
            [[i / 20, (i % 2) / 2] for i in range(17)],
            "areas[0].polygon: a polygon needs 3 to 16 points",
        ),
        ([[0, 0], [1.5, 0], [1, 1]], "areas[0].polygon[1][0]: value must be at most 1.0"),
        ([[0, 0], [1, -0.1], [1, 1]], "areas[0].polygon[1][1]: value must be at least 0.0"),
        (
            [[0, 0], [1, 0, 1], [1, 1]],
            "areas[0].polygon[1]: a polygon point is [x, y]: two numbers from 0 to 1",
        ),
        (
            [[0, 0], [0.5, 0.5], [1, 1]],
            "areas[0].polygon: the polygon encloses no area (its points lie on one line)",
        ),
    ],
)
def test_polygon_errors_say_what_is_wrong(polygon: Any, line: str) -> None:
    assert errors(area(polygon=polygon)) == [f"channels[0].detectors.motion.{line}"]


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            area(name="x"),
            "areas[0]: an area needs either `polygon` or `grid` (exactly one of them)",
        ),
        (
            area(grid=[ROW_ON] * 18, polygon=[[0, 0], [1, 0], [1, 1]]),
            "areas[0]: an area needs either `polygon` or `grid` (exactly one of them)",
        ),
        (
            {"areas": [{"name": "a", "grid": [ROW_ON] * 18}, {"name": "a", "grid": [ROW_ON] * 18}]},
            "areas[1].name: area name 'a' is used twice",
        ),
        ({"areas": []}, "areas: give 1 to 8 areas"),
        ({"areas": [{"grid": [ROW_ON] * 18}] * 9}, "areas: give 1 to 8 areas"),
        (
            area(grid=[ROW_ON] * 18, day_sensitivity=80),
            "areas[0].day_sensitivity: day_sensitivity of an area applies only with mode: expert",
        ),
    ],
)
def test_area_errors_say_what_is_wrong(options: dict[str, Any], line: str) -> None:
    assert errors(options) == [f"channels[0].detectors.motion.{line}"]


def test_expert_mode_takes_per_area_sensitivities() -> None:
    options = MotionDetector.CONFIG_SCHEMA(
        {"mode": "expert", **area(grid=[ROW_ON] * 18, day_sensitivity=80, night_sensitivity=20)}
    )
    assert options["areas"][0]["day_sensitivity"] == 80
    assert options["areas"][0]["night_sensitivity"] == 20


def test_the_manuals_words_work_unquoted_in_yaml() -> None:
    # YAML 1.1 reads `off` as false and 18:30 as the base-60 number 1110
    text = "day_night_switch:\n  mode: off\n  day_start: 06:00\n  day_end: 18:30\n"
    options = MotionDetector.CONFIG_SCHEMA(yaml.safe_load(text))
    switch = options["day_night_switch"]
    assert (switch["mode"], switch["day_start"], switch["day_end"]) == ("off", "06:00", "18:30")


@pytest.mark.parametrize(
    ("switch", "line"),
    [
        ({"mode": "night"}, "day_night_switch.mode: expected one of off, auto, scheduled"),
        (
            {"day_start": "25:00"},
            "day_night_switch.day_start: expected a time of day as 'HH:MM' (00:00 to 24:00), got '25:00'",
        ),
        (
            {"day_end": "7pm"},
            "day_night_switch.day_end: expected a time of day as 'HH:MM' (00:00 to 24:00), got '7pm'",
        ),
        (
            {"day_start": "07:00", "day_end": "07:00"},
            "day_night_switch.day_end: day_start and day_end must differ",
        ),
        (
            {"night_luma": 80, "day_luma": 60},
            "day_night_switch.night_luma: night_luma must be lower than day_luma (the gap stops the switch from flickering)",
        ),
        ({"day_luma": 300}, "day_night_switch.day_luma: value must be at most 255"),
    ],
)
def test_day_night_switch_errors_say_what_is_wrong(switch: dict[str, Any], line: str) -> None:
    assert errors({"day_night_switch": switch}) == [f"channels[0].detectors.motion.{line}"]


def test_grid_cells_map_to_pixels_at_detect_size() -> None:
    rows = [ROW_OFF] * 18
    rows[0] = "1" + "0" * 21  # top-left cell
    rows[17] = "0" * 21 + "1"  # bottom-right cell
    mask = grid_mask(rows, 320, 180)
    assert mask.shape == (180, 320) and mask.dtype == np.uint8
    # a cell is 320/22 (14 or 15) pixels wide and 180/18 = 10 pixels high
    assert mask[:10, :15].all() and mask[170:, 306:].all()
    assert set(np.unique(mask)) == {0, 255}
    assert np.count_nonzero(mask) == 15 * 10 + 14 * 10


def test_polygon_mask_fills_the_polygon_at_detect_size() -> None:
    mask = polygon_mask([[0.25, 0.0], [0.75, 0.0], [0.75, 1.0], [0.25, 1.0]], 320, 180)
    assert mask[:, 82:238].all() and not mask[:, :78].any() and not mask[:, 242:].any()


def test_whole_picture_area_needs_no_mask() -> None:
    whole, half = build_areas(
        MotionDetector.CONFIG_SCHEMA(
            {"areas": [{"grid": [ROW_ON] * 18}, {"grid": ["1" * 11 + "0" * 11] * 18}]}
        )["areas"],
        320,
        180,
        4,
    )
    assert whole.mask is None and whole.pixels == 320 * 180
    assert half.mask is not None and half.pixels == 160 * 180


def test_an_area_too_small_for_the_detect_size_is_a_config_error() -> None:
    options = MotionDetector.CONFIG_SCHEMA(
        area(name="speck", polygon=[[0.5, 0.5], [0.505, 0.5], [0.5, 0.505]])
    )
    with pytest.raises(
        ConfigError,
        match=r"motion area 'speck' covers 1 pixel\(s\) at the detect size 64x36, fewer than the 4",
    ):
        MotionDetector(options, DetectorContext("cam", 64, 36, 5.0))
