"""Intrusion detection (manual 6.2.2): an event while a tracked target stays in a region longer than the rule's threshold."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase, Plane

from .smart_rules import (
    RegionRule,
    SmartDetector,
    region_rules,
    rule_fields,
    rules_schema,
    target_data,
)
from .tracker import Track
from .validators import POLYGON, number

#: The event type this detector raises.
INTRUSION = "intrusion"
#: The manual's threshold range (seconds a target must stay before the alarm).
MAX_THRESHOLD = 10.0

RULE_SCHEMA = vol.Schema(
    {
        vol.Required("region"): POLYGON,
        vol.Optional("threshold", default=0.0): vol.All(
            number, vol.Range(min=0.0, max=MAX_THRESHOLD)
        ),
        **rule_fields(),
    }
)

INTRUSION_SCHEMA = vol.Schema({vol.Required("rules"): rules_schema(RULE_SCHEMA, "region")})


@dataclass(slots=True)
class _Stay:
    """One target inside one rule's region: since when, and its event once raised."""

    since: float
    event: Event | None = None


@dataclass(slots=True)
class _Rule(RegionRule):
    stays: dict[int, _Stay] = field(default_factory=dict)


class IntrusionDetector(SmartDetector):
    """An intrusion event per target and rule: it starts when the target has been inside the
    region for the rule's ``threshold`` (0 to 10 s) and ends when the target leaves or is
    lost (the tracker keeps a target that stops moving for as long as it stays; one that
    vanishes is dropped after ``tracker.COAST_TIME``).

    A target (a confirmed track passing the size filter) is inside while the manual's share
    of it (``required_share`` of the sensitivity, measured on its box) is in the region, and
    leaves when under half that share is (hysteresis, so a target on the edge does not come
    and go). ``data`` holds ``rule_id``, ``rule``, ``sensitivity``, ``threshold``,
    ``entered`` (when it came in, wall clock), ``track_id`` and ``box`` (0..1), updated once
    a second at most while it moves.
    """

    kind: ClassVar[str] = "intrusion"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = INTRUSION_SCHEMA
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(INTRUSION, "Intrusion", device_class="occupancy", snapshot=True),
    )

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._rules = region_rules(_Rule, options, context)
        self._last_update: dict[str, float] = {}

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        width, height = self.context.width, self.context.height
        tracks = {track.id: track for track in self._tracker.update(image, timestamp)}
        changes: list[tuple[EventPhase, Event]] = []
        for rule in self._rules:
            for track in tracks.values():
                if track.confirmed and rule.size_filter.accepts(track, width, height):
                    changes += self._observe(rule, track, timestamp)
            for track_id in [t for t in rule.stays if t not in tracks]:
                changes += self._leave(rule, track_id, timestamp)
        return changes

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        changes: list[tuple[EventPhase, Event]] = []
        for rule in self._rules:
            for track_id in list(rule.stays):
                changes += self._leave(rule, track_id, timestamp)
        return changes

    def _observe(
        self, rule: _Rule, track: Track, timestamp: float
    ) -> list[tuple[EventPhase, Event]]:
        share = rule.region.share_inside(track)
        stay = rule.stays.get(track.id)
        if stay is None:
            if share >= rule.required:
                rule.stays[track.id] = stay = _Stay(timestamp)
            else:
                return []
        elif share < rule.required / 2:
            return self._leave(rule, track.id, timestamp)
        # the event's data is built only when it is sent (its start, an update a second)
        if stay.event is None:
            if timestamp - stay.since < rule.threshold:
                return []
            data = self._data(rule, track, stay)
            stay.event = Event(self.context.channel_id, INTRUSION, timestamp, data=data)
            self._last_update[stay.event.id] = timestamp
            return [(EventPhase.NEW, stay.event)]
        if track.seen and timestamp - self._last_update[stay.event.id] >= 1.0:
            self._last_update[stay.event.id] = timestamp
            stay.event = dataclasses.replace(stay.event, data=self._data(rule, track, stay))
            return [(EventPhase.UPDATE, stay.event)]
        return []

    def _leave(
        self, rule: _Rule, track_id: int, timestamp: float
    ) -> list[tuple[EventPhase, Event]]:
        stay = rule.stays.pop(track_id)
        if stay.event is None:
            return []
        self._last_update.pop(stay.event.id, None)
        return [(EventPhase.END, dataclasses.replace(stay.event, end=timestamp))]

    def _data(self, rule: _Rule, track: Track, stay: _Stay) -> dict[str, Any]:
        return {
            "rule_id": rule.id,
            "rule": rule.name,
            "sensitivity": rule.sensitivity,
            "threshold": rule.threshold,
            "entered": stay.since,
            **target_data(track, self.context.width, self.context.height),
        }


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``intrusion`` available under a channel's ``detectors:``."""
    register(IntrusionDetector)
