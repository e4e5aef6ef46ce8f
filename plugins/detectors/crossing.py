"""What line crossing, region entrance and region exiting share: a target's side of a boundary, and one event per crossing in a watched direction."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from camera_runtime.interfaces import DetectorContext
from camera_runtime.model import Event, EventPhase, Plane

from .smart_rules import Sides, SizeFilter, SmartDetector, instant, required_share, target_data
from .tracker import Track


@dataclass(slots=True)
class CrossingRule:
    """One rule: its id, name, sensitivity, size filter and targets' sides. A subclass says
    what side B is (``share_b``) and which crossings count (``counts``)."""

    id: int
    name: str
    sensitivity: int
    size_filter: SizeFilter
    sides: Sides

    @classmethod
    def base(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """The fields every rule takes from its options."""
        return {
            "id": options["id"],
            "name": options["name"],
            "sensitivity": options["sensitivity"],
            "size_filter": SizeFilter.from_options(options["size_filter"]),
            "sides": Sides(required_share(options["sensitivity"])),
        }

    @abstractmethod
    def share_b(self, track: Track) -> float:
        """The share of the target on side B."""

    @abstractmethod
    def counts(self, crossed: str, track: Track) -> bool:
        """Whether a crossing (``"A->B"`` or ``"B->A"``) of this target raises an event."""

    def data(self, crossed: str) -> dict[str, Any]:
        """The rule's part of an event's data."""
        return {"rule_id": self.id, "rule": self.name, "sensitivity": self.sensitivity}


class CrossingDetector(SmartDetector):
    """One event (starting and ending at once) per counted crossing of a rule's boundary by a
    target: a confirmed track of the channel's shared tracker, seen in this picture, that
    passes the rule's size filter; ``Sides`` decides when it crossed."""

    EVENT_TYPE: ClassVar[str]

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._rules = [self.rule(rule, context) for rule in options["rules"]]

    @abstractmethod
    def rule(self, options: Mapping[str, Any], context: DetectorContext) -> CrossingRule:
        """Build one rule from its (validated) options, at the detect size."""

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        width, height = self.context.width, self.context.height
        tracks = self._tracker.update(image, timestamp)
        changes: list[tuple[EventPhase, Event]] = []
        # the targets and the ids kept are the same for every rule: found once a picture
        targets = [track for track in tracks if track.seen and track.confirmed]
        kept = {track.id for track in tracks}
        for rule in self._rules:
            for track in targets:
                if not rule.size_filter.accepts(track, width, height):
                    continue
                crossed = rule.sides.observe(track.id, rule.share_b(track))
                if crossed and rule.counts(crossed, track):
                    data = {**rule.data(crossed), **target_data(track, width, height)}
                    changes += instant(self.context.channel_id, self.EVENT_TYPE, timestamp, data)
            rule.sides.forget(kept)
        return changes
