"""Day/night switching ("Scheduled Image Settings": off, auto, scheduled) for detectors' day and night values."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import voluptuous as vol

from .validators import whole_number

DayNight = Literal["day", "night"]
SWITCH_MODES = ("off", "auto", "scheduled")
MINUTES_PER_DAY = 24 * 60


def switch_mode(value: Any) -> str:
    """``off``, ``auto`` or ``scheduled``. YAML 1.1 reads an unquoted ``off`` as ``False``;
    that is accepted as ``off`` so the manual's word works without quotes."""
    if value is False:
        return "off"
    if isinstance(value, str) and value.lower() in SWITCH_MODES:
        return value.lower()
    raise vol.Invalid(f"expected one of {', '.join(SWITCH_MODES)}")


def time_of_day(value: Any) -> str:
    """A local time of day as ``"HH:MM"`` (``"24:00"`` is the end of the day).

    YAML 1.1 reads an unquoted ``18:00`` as the base-60 integer 1080; such integers (60 to
    1440) are accepted and turned back into ``"18:00"``. Anything else must be a string.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value <= MINUTES_PER_DAY:
        return f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str):
        hours, sep, minutes = value.strip().partition(":")
        if sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            h, m = int(hours), int(minutes)
            if (h < 24 and m < 60) or (h == 24 and m == 0):
                return f"{h:02d}:{m:02d}"
    raise vol.Invalid(f"expected a time of day as 'HH:MM' (00:00 to 24:00), got {value!r}")


def minutes_of(hhmm: str) -> int:
    """Minutes after midnight of a validated ``"HH:MM"`` (``"24:00"`` wraps to 0)."""
    hours, _, minutes = hhmm.partition(":")
    return (int(hours) * 60 + int(minutes)) % MINUTES_PER_DAY


def _check_switch(options: dict[str, Any]) -> dict[str, Any]:
    if minutes_of(options["day_start"]) == minutes_of(options["day_end"]):
        raise vol.Invalid("day_start and day_end must differ", path=["day_end"])
    if options["night_luma"] >= options["day_luma"]:
        raise vol.Invalid(
            "night_luma must be lower than day_luma (the gap stops the switch from flickering)",
            path=["night_luma"],
        )
    return options


LUMA = vol.All(whole_number, vol.Range(min=0, max=255))

#: Options of ``day_night_switch``; every key has its default here.
DAY_NIGHT_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional("mode", default="off"): switch_mode,
            # scheduled: day from day_start to day_end (local time), night otherwise
            vol.Optional("day_start", default="06:00"): time_of_day,
            vol.Optional("day_end", default="18:00"): time_of_day,
            # auto: night once the mean luma stays below night_luma for switch_delay seconds,
            # day once it stays above day_luma as long
            vol.Optional("night_luma", default=40): LUMA,
            vol.Optional("day_luma", default=70): LUMA,
            vol.Optional("switch_delay", default=5.0): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=600)
            ),
        }
    ),
    _check_switch,
)


class DayNightSwitch:
    """Decides whether a picture belongs to day or night, as the camera's image switch does.

    ``off``: always day. ``scheduled``: day from ``day_start`` to ``day_end`` in local time (a
    period may run past midnight), night otherwise. ``auto``: by scene brightness with
    hysteresis: night after the mean luma stayed below ``night_luma`` for ``switch_delay``
    seconds, day after it stayed above ``day_luma`` as long, so a passing headlight or
    shadow does not flip it. The first picture decides the starting state directly.
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.mode: str = options["mode"]
        self._day_start = minutes_of(options["day_start"])
        self._day_end = minutes_of(options["day_end"])
        self._night_luma: float = options["night_luma"]
        self._day_luma: float = options["day_luma"]
        self._delay: float = options["switch_delay"]
        self._state: DayNight | None = None
        self._pending_since: float | None = None

    def update(self, mean_luma: float, timestamp: float) -> DayNight:
        """The period of a picture of brightness ``mean_luma`` taken at wall time ``timestamp``."""
        if self.mode == "scheduled":
            return self._scheduled(timestamp)
        if self.mode == "auto":
            return self._auto(mean_luma, timestamp)
        return "day"

    def _scheduled(self, timestamp: float) -> DayNight:
        local = time.localtime(timestamp)
        minute = local.tm_hour * 60 + local.tm_min
        start, end = self._day_start, self._day_end
        is_day = start <= minute < end if start < end else (minute >= start or minute < end)
        return "day" if is_day else "night"

    def _auto(self, mean_luma: float, timestamp: float) -> DayNight:
        if self._state is None:
            self._state = "night" if mean_luma < self._night_luma else "day"
            return self._state
        wants_switch = (
            mean_luma < self._night_luma if self._state == "day" else mean_luma > self._day_luma
        )
        if not wants_switch:
            self._pending_since = None
        elif self._pending_since is None:
            self._pending_since = timestamp
        if self._pending_since is not None and timestamp - self._pending_since >= self._delay:
            self._state = "night" if self._state == "day" else "day"
            self._pending_since = None
        return self._state
