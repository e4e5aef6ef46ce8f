"""Region entrance and region exiting detection (manual 6.2.4, 6.2.5): an event each time a tracked target comes into, or goes out of, a region."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.imaging import downscale_luma
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase, Plane

from .smart_rules import (
    Region,
    Sides,
    SizeFilter,
    instant,
    required_share,
    rule_fields,
    rules_schema,
    target_data,
)
from .tracker import shared_tracker
from .validators import POLYGON

REGION_ENTRANCE = "region_entrance"
REGION_EXITING = "region_exiting"

RULE_SCHEMA = vol.Schema({vol.Required("region"): POLYGON, **rule_fields()})
REGION_SCHEMA = vol.Schema({vol.Required("rules"): rules_schema(RULE_SCHEMA, "region")})


@dataclass(slots=True)
class _Rule:
    id: int
    name: str
    region: Region
    sensitivity: int
    size_filter: SizeFilter
    sides: Sides  # side "A" is outside, "B" inside


class _RegionCrossing(Detector):
    """A crossing of a region's boundary in one direction: side A is outside, side B inside,
    and a target's share "on side B" is the share of its box inside the region; the rest is
    ``Sides`` as for a line (the manual's share across, with hysteresis). A target first seen
    inside has not entered; one that first appears outside and comes in has."""

    CONFIG_SCHEMA: ClassVar[vol.Schema] = REGION_SCHEMA
    EVENT_TYPE: ClassVar[str]
    DIRECTION: ClassVar[str]

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._tracker = shared_tracker(context)
        self._rules = [
            _Rule(
                id=rule["id"],
                name=rule["name"],
                region=Region(rule["region"], context.width, context.height),
                sensitivity=rule["sensitivity"],
                size_filter=SizeFilter.from_options(rule["size_filter"]),
                sides=Sides(required_share(rule["sensitivity"])),
            )
            for rule in options["rules"]
        ]

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        width, height = self.context.width, self.context.height
        if image.shape != (height, width):
            image = downscale_luma(image, width, height)
        tracks = self._tracker.update(image, timestamp)
        changes: list[tuple[EventPhase, Event]] = []
        for rule in self._rules:
            for track in tracks:
                if not (track.seen and track.confirmed):
                    continue
                if not rule.size_filter.accepts(track, width, height):
                    continue
                crossed = rule.sides.observe(track.id, rule.region.share_inside(track))
                if crossed == self.DIRECTION:
                    data = {
                        "rule_id": rule.id,
                        "rule": rule.name,
                        "sensitivity": rule.sensitivity,
                        **target_data(track, width, height),
                    }
                    changes += instant(self.context.channel_id, self.EVENT_TYPE, timestamp, data)
            rule.sides.forget({track.id for track in tracks})
        return changes


class RegionEntranceDetector(_RegionCrossing):
    """Region entrance (6.2.4): an event when a target comes into the region from outside;
    ``data``: ``rule_id``, ``rule``, ``sensitivity``, ``track_id``, ``box``."""

    kind: ClassVar[str] = "region_entrance"
    EVENT_TYPE = REGION_ENTRANCE
    DIRECTION = "A->B"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(REGION_ENTRANCE, "Region entrance"),
    )


class RegionExitingDetector(_RegionCrossing):
    """Region exiting (6.2.5): an event when a target goes out of the region; ``data`` as for
    region entrance."""

    kind: ClassVar[str] = "region_exiting"
    EVENT_TYPE = REGION_EXITING
    DIRECTION = "B->A"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(REGION_EXITING, "Region exiting"),
    )


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``region_entrance`` and ``region_exiting`` available under ``detectors:``."""
    register(RegionEntranceDetector)
    register(RegionExitingDetector)
