"""Arming schedules (manual 8.1): the weekly periods in which an event type may trigger."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: "Up to 8 periods can be configured for one day."
MAX_PERIODS_PER_DAY = 8
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _minutes(hours: str, minutes: str) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise vol.Invalid(f"{h:02d}:{m:02d} is not a time of day (00:00 to 24:00)")
    return h * 60 + m


def parse_period(text: Any) -> tuple[int, int]:
    """``"08:00-12:30"`` -> (480, 750) minutes since midnight; end may be 24:00."""
    if not isinstance(text, str):
        raise vol.Invalid("expected a period like 08:00-18:00")
    match = _PERIOD.match(text)
    if match is None:
        raise vol.Invalid(f"{text!r} is not a period like 08:00-18:00")
    start = _minutes(match[1], match[2])
    end = _minutes(match[3], match[4])
    if end <= start:
        raise vol.Invalid(f"period {text!r} ends before it starts")
    return start, end


def _day_periods(value: Any) -> list[tuple[int, int]]:
    if not isinstance(value, list):
        raise vol.Invalid("expected a list of periods like ['08:00-18:00']")
    if len(value) > MAX_PERIODS_PER_DAY:
        raise vol.Invalid(f"at most {MAX_PERIODS_PER_DAY} periods a day, got {len(value)}")
    periods = sorted(parse_period(item) for item in value)
    for (_, end), (start, _) in itertools.pairwise(periods):
        if start < end:
            raise vol.Invalid("periods of one day must not overlap")
    return periods


def _schedule(value: Any) -> ArmingSchedule:
    if isinstance(value, ArmingSchedule):
        return value
    if value is None or value == "always":
        return ArmingSchedule.always()
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected 'always' or a mapping of weekday to periods")
    unknown = set(value) - set(DAYS)
    if unknown:
        raise vol.Invalid(
            f"unknown day(s) {', '.join(sorted(map(str, unknown)))}; use {', '.join(DAYS)}"
        )
    days: dict[str, tuple[tuple[int, int], ...]] = {}
    problems: list[vol.Invalid] = []
    for day in DAYS:  # every bad day is reported, not only the first
        try:
            days[day] = tuple(_day_periods(value.get(day, [])))
        except vol.Invalid as err:
            problems.append(vol.Invalid(err.msg, path=[day]))
    if problems:
        raise vol.MultipleInvalid(problems)
    return ArmingSchedule(days)


#: Voluptuous validator: ``always`` (the default) or ``{monday: ["08:00-18:00"], ...}``;
#: a day left out has no armed period.
ARMING_SCHEDULE = _schedule


@dataclass(frozen=True)
class ArmingSchedule:
    """Weekly periods in local time; ``is_armed`` answers for a wall-clock timestamp."""

    days: Mapping[str, tuple[tuple[int, int], ...]]

    @classmethod
    def always(cls) -> ArmingSchedule:
        return cls({day: ((0, 24 * 60),) for day in DAYS})

    def is_armed(self, timestamp: float) -> bool:
        local = dt.datetime.fromtimestamp(timestamp)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[DAYS[local.weekday()]])

    def as_config(self) -> dict[str, list[str]]:
        def fmt(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        return {
            day: [f"{fmt(s)}-{fmt(e)}" for s, e in periods] for day, periods in self.days.items()
        }
