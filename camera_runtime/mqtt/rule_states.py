"""The state of each declared rule of a channel (a smart event's line or region) as MQTT
publishes it: ON while an event of that rule lasts, and the attributes Home Assistant shows on
the rule's binary sensor (its id, name and event type, the last target's box, track id and
direction).

An event belongs to a rule when its data names it (``data.rule_id``, which every detector that
declares rules puts there: ``Detector.rules``); no detector is named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Event, EventPhase

#: The keys of an event's data that describe its target, kept per rule for its attributes.
TARGET_KEYS = ("box", "track_id", "direction")

RuleKey = tuple[str, str, int]  # (channel, event type, rule id)


class RuleStates:
    """Which events of each rule are active, and what the newest one said of its target."""

    def __init__(self) -> None:
        self._active: dict[RuleKey, set[str]] = {}
        self._target: dict[RuleKey, dict[str, Any]] = {}

    def observe(self, phase: EventPhase, event: Event) -> None:
        """Follow one event change (events without a rule are ignored)."""
        rule_id = event.data.get("rule_id")
        if not isinstance(rule_id, int):
            return
        key = (event.channel, event.type, rule_id)
        ids = self._active.setdefault(key, set())
        if phase is EventPhase.END:
            ids.discard(event.id)
        else:
            ids.add(event.id)
        self._target[key] = {name: event.data.get(name) for name in TARGET_KEYS}

    def active(self, channel: str, event_type: str, rule_id: int) -> bool:
        return bool(self._active.get((channel, event_type, rule_id)))

    def attributes(self, channel: str, event_type: str, rule: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's attributes: what it is, and its newest target (``None`` before one)."""
        target = self._target.get((channel, event_type, rule["id"]), {})
        return {
            "rule_id": rule["id"],
            "rule": rule["name"],
            "event_type": event_type,
            **{name: target.get(name) for name in TARGET_KEYS},
        }

    def forget(self, channel: str) -> None:
        """Drop what a removed channel's rules held."""
        for table in (self._active, self._target):
            for key in [k for k in table if k[0] == channel]:
                del table[key]


__all__ = ["TARGET_KEYS", "RuleStates"]
