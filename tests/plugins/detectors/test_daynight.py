"""Expert mode: day and night sensitivities, switched by schedule (local time) or by scene brightness."""

from __future__ import annotations

import time
from typing import Any

import pytest

from camera_runtime_plugins.detectors.daynight import DAY_NIGHT_SCHEMA, DayNightSwitch

from .scenes import Scene, make_detector, phases, run, walker


def local(hour: int, minute: int = 0, day: int = 12) -> float:
    """Wall time of a local time of day (in whatever time zone the tests run)."""
    return time.mktime((2025, 6, day, hour, minute, 0, 0, 0, -1))


def switch(**options: Any) -> DayNightSwitch:
    return DayNightSwitch(DAY_NIGHT_SCHEMA(options))


def test_off_is_always_day() -> None:
    day_night = switch()
    assert day_night.update(5.0, local(12)) == "day"
    assert day_night.update(5.0, local(0)) == "day"


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (5, 59, "night"),
        (6, 0, "day"),
        (12, 0, "day"),
        (17, 59, "day"),
        (18, 0, "night"),
        (0, 0, "night"),
    ],
)
def test_scheduled_is_day_within_the_period(hour: int, minute: int, expected: str) -> None:
    day_night = switch(mode="scheduled", day_start="06:00", day_end="18:00")
    assert day_night.update(200.0, local(hour, minute)) == expected


@pytest.mark.parametrize(
    ("hour", "expected"), [(21, "day"), (2, "day"), (4, "night"), (12, "night")]
)
def test_a_scheduled_period_may_run_past_midnight(hour: int, expected: str) -> None:
    day_night = switch(mode="scheduled", day_start="20:00", day_end="04:00")
    assert day_night.update(200.0, local(hour)) == expected


def test_auto_switches_by_brightness_after_the_delay_with_hysteresis() -> None:
    day_night = switch(mode="auto", night_luma=40, day_luma=70, switch_delay=5)
    t = 1000.0
    assert day_night.update(120, t) == "day"  # the first picture decides
    assert day_night.update(30, t + 1) == "day"  # dark, but not for long enough yet
    assert day_night.update(30, t + 5.9) == "day"
    assert day_night.update(120, t + 6) == "day"  # a bright moment resets the wait
    assert day_night.update(30, t + 7) == "day"
    assert day_night.update(30, t + 12) == "night"  # dark for 5 s
    assert day_night.update(55, t + 20) == "night"  # between the two levels: no change
    assert day_night.update(55, t + 60) == "night"
    assert day_night.update(80, t + 61) == "night"
    assert day_night.update(80, t + 66) == "day"


def test_auto_starts_at_night_in_a_dark_scene() -> None:
    assert switch(mode="auto").update(10, 0.0) == "night"


EXPERT = {"mode": "expert", "day_sensitivity": 0, "night_sensitivity": 90, "hold_time": 1}


def test_scheduled_expert_mode_uses_the_night_sensitivity_at_night() -> None:
    options = {
        **EXPERT,
        "day_night_switch": {"mode": "scheduled", "day_start": "07:00", "day_end": "19:00"},
    }
    detector = make_detector(options)
    noon = run(detector, Scene(), local(12), 8, walker(1, 5))
    night = run(detector, Scene(), local(23), 8, walker(1, 5))
    assert noon == []  # day sensitivity 0: nothing by day
    assert phases(night)[0] == "new" and phases(night)[-1] == "end"
    assert all(e.data["day_night"] == "night" and e.data["sensitivity"] == 90 for _, e in night)


def test_scheduled_expert_mode_uses_the_day_sensitivity_by_day() -> None:
    # a faint object: seen with the day sensitivity (90), missed with the night one (20)
    options = {
        "mode": "expert",
        "day_sensitivity": 90,
        "night_sensitivity": 20,
        "hold_time": 1,
        "day_night_switch": {"mode": "scheduled", "day_start": "07:00", "day_end": "19:00"},
    }
    faint = walker(1, 5, value=None, delta=14)
    detector = make_detector(options)
    day = run(detector, Scene(), local(9), 8, faint)
    night = run(detector, Scene(), local(21), 8, faint)
    assert phases(day).count("new") == 1 and day[0][1].data["day_night"] == "day"
    assert day[0][1].data["sensitivity"] == 90
    assert night == []


def test_auto_expert_mode_switches_with_the_light_level() -> None:
    options = {**EXPERT, "day_night_switch": {"mode": "auto", "switch_delay": 5}}
    detector = make_detector(options)
    t0 = 1_750_000_000.0
    bright = run(detector, Scene(), t0, 8, walker(1, 5))
    assert bright == []  # day: sensitivity 0
    # dusk falls: the picture turns dark (mean luma about 18); within the switch delay it is
    # still day, so a walker then goes unseen...
    dark = run(detector, Scene(), t0 + 8, 4, walker(1, 3, value=120), gain=lambda t: 0.15)
    assert dark == []
    # ...once it stayed dark for the delay, night sensitivity applies
    back = walker(1, 5, start=(280, 70), end=(20, 70), value=120)
    night = run(detector, Scene(), t0 + 12, 8, back, gain=lambda t: 0.15)
    assert phases(night)[0] == "new" and phases(night)[-1] == "end"
    assert night[0][1].start >= t0 + 13 and night[0][1].data["day_night"] == "night"
