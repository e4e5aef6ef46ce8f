"""Arming schedules (manual 8.1): weekly periods, at most 8 a day, validated."""

from __future__ import annotations

import datetime as dt

import pytest
import voluptuous as vol

from camera_runtime.schedule import ARMING_SCHEDULE, ArmingSchedule


def at(weekday: int, hour: int, minute: int = 0) -> float:
    """A local timestamp on the given weekday (0 = Monday) of a fixed week."""
    monday = dt.datetime(2026, 11, 16)
    return (monday + dt.timedelta(days=weekday, hours=hour, minutes=minute)).timestamp()


def test_always_is_the_default() -> None:
    schedule = ARMING_SCHEDULE("always")
    assert all(schedule.is_armed(at(day, hour)) for day in range(7) for hour in (0, 12, 23))


def test_periods_arm_only_inside_them() -> None:
    schedule = ARMING_SCHEDULE(
        {"monday": ["08:00-12:00", "13:30-24:00"], "sunday": ["00:00-01:00"]}
    )
    assert schedule.is_armed(at(0, 8)) and schedule.is_armed(at(0, 11, 59))
    assert not schedule.is_armed(at(0, 12)) and not schedule.is_armed(at(0, 13, 29))
    assert schedule.is_armed(at(0, 23, 59))
    assert not schedule.is_armed(at(1, 9))  # a day left out has no armed period
    assert schedule.is_armed(at(6, 0, 30)) and not schedule.is_armed(at(6, 1))


def test_round_trip_through_config_text() -> None:
    text = {"tuesday": ["00:00-06:00", "22:00-24:00"]}
    schedule = ARMING_SCHEDULE(text)
    assert ArmingSchedule(ARMING_SCHEDULE(schedule.as_config()).days) == schedule
    assert schedule.as_config()["tuesday"] == text["tuesday"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"monday": [f"{h:02d}:00-{h:02d}:30" for h in range(9)]},
            "at most 8 periods a day, got 9",
        ),
        ({"monday": ["08:00-10:00", "09:00-11:00"]}, "periods of one day must not overlap"),
        ({"monday": ["10:00-09:00"]}, "ends before it starts"),
        ({"monday": ["25:00-26:00"]}, "is not a time of day"),
        ({"monday": ["24:30-24:45"]}, "is not a time of day"),
        ({"monday": ["8am-9am"]}, "is not a period like 08:00-18:00"),
        ({"funday": ["08:00-09:00"]}, "unknown day(s) funday"),
        ({"monday": "08:00-09:00"}, "expected a list of periods"),
        ("sometimes", "expected 'always' or a mapping"),
    ],
)
def test_the_manuals_rules_are_enforced(value: object, message: str) -> None:
    with pytest.raises(vol.Invalid) as info:
        ARMING_SCHEDULE(value)
    assert message in str(info.value)


def test_eight_periods_are_allowed() -> None:
    schedule = ARMING_SCHEDULE({"friday": [f"{h:02d}:00-{h:02d}:30" for h in range(8)]})
    assert len(schedule.days["friday"]) == 8
