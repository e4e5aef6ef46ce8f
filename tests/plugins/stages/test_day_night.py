"""Day/night: neutral chroma by night, auto switching with hysteresis, the schedule."""

from __future__ import annotations

import time

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.model import Frame

from .frames import REGISTRY, frame, stage


def _scene(level: int, wall_time: float = 0.0) -> Frame:
    u = np.full((24, 32), 60, np.uint8)
    v = np.full((24, 32), 200, np.uint8)
    return frame(np.full((48, 64), level, np.uint8), u, v, wall_time)


def _is_grey(out: Frame) -> bool:
    return bool((out.u == 128).all() and (out.v == 128).all())


def test_night_is_a_grey_picture_with_the_luma_untouched() -> None:
    src = _scene(90)
    out = stage("day_night", {"mode": "night"}, 64, 48).process(src)
    assert _is_grey(out)
    assert out.y is src.y
    assert out.u.shape == src.u.shape


def test_day_passes_the_frame_itself() -> None:
    src = _scene(5)
    assert stage("day_night", {"mode": "day"}, 64, 48).process(src) is src


def test_auto_switches_with_hysteresis() -> None:
    day_night = stage("day_night", {"mode": "auto", "threshold": 50, "hysteresis": 10}, 64, 48)
    seen = [_is_grey(day_night.process(_scene(level))) for level in (120, 55, 49, 55, 60, 61, 55)]
    # Day at 120 and 55; night below 50; stays night up to 60 (threshold + hysteresis);
    # day again above 60, and stays day at 55 (above the threshold).
    assert seen == [False, False, True, True, True, False, False]


def test_auto_measures_the_whole_picture() -> None:
    y = np.full((48, 64), 10, np.uint8)
    y[:, :32] = 200  # half bright: mean 105
    coloured = frame(y, np.full((24, 32), 60, np.uint8), np.full((24, 32), 200, np.uint8))
    day_night = stage("day_night", {"threshold": 100, "hysteresis": 0}, 64, 48)
    assert not _is_grey(day_night.process(coloured))
    y[:, :32] = 180  # mean 95
    darker = frame(y, np.full((24, 32), 60, np.uint8), np.full((24, 32), 200, np.uint8))
    assert _is_grey(day_night.process(darker))


def test_scheduled_follows_local_time() -> None:
    def at(hour: int, minute: int) -> float:
        return time.mktime((2026, 6, 15, hour, minute, 0, 0, 0, -1))

    day_night = stage(
        "day_night", {"mode": "scheduled", "day_start": "07:30", "day_end": "19:00"}, 64, 48
    )
    assert _is_grey(day_night.process(_scene(200, at(7, 29))))
    assert not _is_grey(day_night.process(_scene(5, at(7, 30))))
    assert not _is_grey(day_night.process(_scene(5, at(18, 59))))
    assert _is_grey(day_night.process(_scene(200, at(19, 0))))
    overnight = stage(
        "day_night", {"mode": "scheduled", "day_start": "22:00", "day_end": "02:00"}, 64, 48
    )
    assert not _is_grey(overnight.process(_scene(5, at(23, 0))))
    assert not _is_grey(overnight.process(_scene(5, at(1, 0))))
    assert _is_grey(overnight.process(_scene(5, at(12, 0))))


def test_bad_options_are_refused() -> None:
    schema = REGISTRY.image_stage("day_night").CONFIG_SCHEMA
    for bad in ({"mode": "dusk"}, {"day_start": "24:00"}, {"day_end": "7:00"}, {"threshold": 0}):
        with pytest.raises(vol.Invalid):
            schema(bad)
