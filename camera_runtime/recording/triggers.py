"""Which events record, by a channel's record type (manual 5.2.1), within its weekly schedule.

Pure bookkeeping, no I/O: ``RecordTrigger.update`` turns an event change into the clips to
open and close, and the service does them. ``motion``, ``alarm``, ``motion_or_alarm`` and
``event`` open one clip per matching event (from its start minus pre-record to its end plus
post-record). ``motion_and_alarm`` records only while a motion event and an alarm event both
last: one clip from the moment the second of the two kinds began until either kind has no
event left. An event that starts outside the schedule records nothing (an event already
recording when the period ends records to its end, as a camera's event recording does).

The core knows no event type by name: ``motion_events`` and ``alarm_events`` say which types
are motion and which are alarms (alarm inputs are plugins declaring their own types).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model import EventPhase, EventUpdate
from ..schedule import ArmingSchedule
from .settings import ALARM, MOTION

#: Event types that never start a recording: exceptions about the channel itself.
NOT_RECORDED = frozenset({"video_loss"})
#: The key and reason of the Motion & Alarm clip (one at a time per channel).
BOTH = f"{MOTION}_and_{ALARM}"
_KINDS = {
    MOTION: {MOTION},
    ALARM: {ALARM},
    f"{MOTION}_or_{ALARM}": {MOTION, ALARM},
    BOTH: {MOTION, ALARM},
}


@dataclass(frozen=True, slots=True)
class Open:
    """Open a clip ``key`` recording from ``start`` (pre-record included)."""

    key: str
    start: float
    reason: str


@dataclass(frozen=True, slots=True)
class Close:
    """End the clip ``key`` at ``until`` (post-record included)."""

    key: str
    until: float


Action = Open | Close


class RecordTrigger:
    """One channel's record type applied to its events; ``settings`` is its validated
    ``record`` section. Not thread-safe: the service calls it from its one event thread."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.record_type: str = settings["record_type"]
        self.schedule: ArmingSchedule = settings["schedule"]
        self._pre = float(settings["pre_record"])
        self._post = float(settings["post_record"])
        self._events = frozenset(settings["events"])
        self._motion = frozenset(settings["motion_events"])
        self._alarm = frozenset(settings["alarm_events"])
        #: Motion & Alarm: the lasting events of each kind, and whether its clip is open.
        self._lasting: dict[str, set[str]] = {MOTION: set(), ALARM: set()}
        self._both_open = False

    def kind(self, event_type: str) -> str | None:
        """What ``event_type`` is to this record type: ``motion``, ``alarm``, ``event`` or
        ``None`` (it records nothing)."""
        if self.record_type == "continuous" or event_type in NOT_RECORDED:
            return None
        if self.record_type == "event":
            return "event" if not self._events or event_type in self._events else None
        wanted = _KINDS[self.record_type]
        if MOTION in wanted and event_type in self._motion:
            return MOTION
        if ALARM in wanted and event_type in self._alarm:
            return ALARM
        return None

    def update(self, update: EventUpdate) -> list[Action]:
        """The clips ``update`` opens or closes."""
        event = update.event
        kind = self.kind(event.type)
        if kind is None or update.phase is EventPhase.UPDATE:
            return []
        if self.record_type == BOTH:
            return self._both(update, kind)
        if update.phase is EventPhase.NEW:
            if not self.schedule.is_armed(event.start):
                return []
            return [Open(event.id, event.start - self._pre, event.type)]
        end = event.end if event.end is not None else event.start
        return [Close(event.id, end + self._post)]

    def _both(self, update: EventUpdate, kind: str) -> list[Action]:
        event = update.event
        lasting = self._lasting[kind]
        if update.phase is EventPhase.NEW:
            lasting.add(event.id)
            if (
                not self._both_open
                and all(self._lasting.values())
                and self.schedule.is_armed(event.start)
            ):
                self._both_open = True
                return [Open(BOTH, event.start - self._pre, BOTH)]
            return []
        lasting.discard(event.id)
        if self._both_open and not lasting:
            self._both_open = False
            end = event.end if event.end is not None else event.start
            return [Close(BOTH, end + self._post)]
        return []


__all__ = ["BOTH", "NOT_RECORDED", "Action", "Close", "Open", "RecordTrigger"]
