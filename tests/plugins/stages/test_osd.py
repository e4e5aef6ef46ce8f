"""OSD: the manual's date formats, text pixels exactly the colour in the right place, aligned
left or right, redrawn when the time changes."""

from __future__ import annotations

import time

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.model import Frame
from camera_runtime_plugins.stages.osd import date_time_text, osd_lines

from .frames import REGISTRY, frame, stage

#: Thursday 31 December 2026, 23:59:58 local time.
NEW_YEARS_EVE = time.mktime((2026, 12, 31, 23, 59, 58, 0, 0, -1))


@pytest.mark.parametrize(
    ("date_format", "time_format", "week", "text"),
    [
        ("MM-DD-YYYY", 24, False, "12-31-2026 23:59:58"),
        ("DD-MM-YYYY", 24, True, "31-12-2026 23:59:58 Thu"),
        ("YYYY-MM-DD", 12, False, "2026-12-31 11:59:58 PM"),
        ("MM/DD/YYYY", 12, True, "12/31/2026 11:59:58 PM Thu"),
        ("DD/MM/YYYY", 24, False, "31/12/2026 23:59:58"),
        ("YYYY/MM/DD", 24, False, "2026/12/31 23:59:58"),
    ],
)
def test_the_manual_s_date_and_time_formats(
    date_format: str, time_format: int, week: bool, text: str
) -> None:
    assert date_time_text(NEW_YEARS_EVE, date_format, time_format, week) == text


def test_noon_and_midnight_in_12_hour_time() -> None:
    midnight = time.mktime((2026, 1, 5, 0, 7, 9, 0, 0, -1))
    noon = time.mktime((2026, 1, 5, 12, 7, 9, 0, 0, -1))
    assert date_time_text(midnight, "YYYY-MM-DD", 12, True) == "2026-01-05 12:07:09 AM Mon"
    assert date_time_text(noon, "YYYY-MM-DD", 12, False) == "2026-01-05 12:07:09 PM"


def test_the_lines_name_date_then_texts() -> None:
    schema = REGISTRY.image_stage("osd").CONFIG_SCHEMA
    options = schema({"texts": ["Gate 2", "Keep clear"], "date_format": "YYYY-MM-DD"})
    assert osd_lines(options, "Front door", NEW_YEARS_EVE) == [
        "Front door",
        "2026-12-31 23:59:58",
        "Gate 2",
        "Keep clear",
    ]
    named = schema({"name": "Porch", "show_date": False})
    assert osd_lines(named, "Front door", NEW_YEARS_EVE) == ["Porch"]


def _dark(width: int = 320, height: int = 240, wall_time: float = NEW_YEARS_EVE) -> Frame:
    u = np.full((height // 2, width // 2), 100, np.uint8)
    v = np.full((height // 2, width // 2), 150, np.uint8)
    return frame(np.full((height, width), 30, np.uint8), u, v, wall_time)


def _text(out: Frame) -> np.ndarray:  # type: ignore[type-arg]
    return out.y == 235  # white text on a dark picture


def test_text_pixels_are_the_colour_in_the_top_left_by_default() -> None:
    src = _dark()
    out = stage("osd", {"font_size": 16}, 320, 240).process(src)
    text = _text(out)
    assert text.sum() > 200
    rows, cols = np.nonzero(text)
    assert rows.max() < 60 and cols.max() < 200  # two lines of 16 px near the top left
    assert rows.min() >= 4 and cols.min() >= 4  # inside the margin
    # Every other pixel is untouched; only white or the picture's own luma is present.
    assert set(np.unique(out.y).tolist()) == {30, 235}
    assert (out.u[np.nonzero(text[::2, ::2])] == 128).all()
    assert src.y.max() == 30  # the source planes stay as they were


def test_the_position_moves_the_block_to_the_bottom_right() -> None:
    out = stage("osd", {"font_size": 16, "x": 1.0, "y": 1.0}, 320, 240).process(_dark())
    rows, cols = np.nonzero(_text(out))
    assert rows.min() > 180 and cols.max() > 280 and cols.max() < 320


def _line_extents(out: Frame, font_size: int) -> list[tuple[int, int]]:
    """(first, last) text column of each line band."""
    text = _text(out)
    margin, step = font_size // 4, font_size + font_size // 4
    bands = []
    for index in range(3):
        band = text[margin + index * step : margin + index * step + font_size]
        cols = np.nonzero(band.any(axis=0))[0]
        bands.append((int(cols.min()), int(cols.max())))
    return bands


def test_left_and_right_alignment() -> None:
    options = {"show_date": False, "texts": ["a much longer line", "mid"], "font_size": 24}
    left = _line_extents(stage("osd", options, 320, 240).process(_dark()), 24)
    right = _line_extents(
        stage("osd", {**options, "alignment": "right"}, 320, 240).process(_dark()), 24
    )
    # Left: the lines start together; right: they end together (within the glyphs' sides).
    assert max(s for s, _ in left) - min(s for s, _ in left) <= 3
    assert max(e for _, e in right) - min(e for _, e in right) <= 3
    assert right[2][0] > left[2][0] + 40  # the short line moved right


def test_the_time_is_redrawn_when_it_changes() -> None:
    osd = stage("osd", {"show_name": False, "font_size": 16}, 320, 240)
    first = _text(osd.process(_dark(wall_time=NEW_YEARS_EVE)))
    same = _text(osd.process(_dark(wall_time=NEW_YEARS_EVE + 0.5)))
    later = _text(osd.process(_dark(wall_time=NEW_YEARS_EVE + 1)))
    assert (first == same).all() and not (first == later).all()


def test_a_block_larger_than_the_picture_is_cut() -> None:
    out = stage("osd", {"font_size": 64, "texts": ["x" * 40]}, 64, 48).process(_dark(64, 48))
    assert out.y.shape == (48, 64) and _text(out).any()


def test_bad_options_are_refused() -> None:
    schema = REGISTRY.image_stage("osd").CONFIG_SCHEMA
    for bad in (
        {"texts": ["line"] * 9},
        {"texts": ["caf\u00e9"]},
        {"date_format": "YYYYMMDD"},
        {"time_format": 13},
        {"font_size": 20},
        {"alignment": "center"},
        {"x": 1.5},
    ):
        with pytest.raises(vol.Invalid):
            schema(bad)
