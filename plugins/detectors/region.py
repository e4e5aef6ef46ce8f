"""Region entrance and region exiting detection (manual 6.2.4, 6.2.5): an event each time a tracked target comes into, or goes out of, a region."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.interfaces import Detector, DetectorContext

from .crossing import CrossingDetector, CrossingRule
from .smart_rules import Region, rule_fields, rules_schema, shared_region
from .tracker import Track
from .validators import POLYGON

REGION_ENTRANCE = "region_entrance"
REGION_EXITING = "region_exiting"

RULE_SCHEMA = vol.Schema({vol.Required("region"): POLYGON, **rule_fields()})
REGION_SCHEMA = vol.Schema({vol.Required("rules"): rules_schema(RULE_SCHEMA, "region")})


@dataclass(slots=True)
class _RegionRule(CrossingRule):
    region: Region
    direction: str  # "A->B": entrance, "B->A": exiting

    def share_b(self, track: Track) -> float:
        return self.region.share_inside(track)

    def counts(self, crossed: str, track: Track) -> bool:
        return crossed == self.direction


class _RegionCrossing(CrossingDetector):
    """A crossing of a region's boundary in one direction: side A is outside, side B inside,
    and a target's share "on side B" is the share of its box inside the region; the rest is
    ``Sides`` as for a line (the manual's share across, with hysteresis). A target first seen
    inside has not entered; one that first appears outside and comes in has."""

    CONFIG_SCHEMA: ClassVar[vol.Schema] = REGION_SCHEMA
    DIRECTION: ClassVar[str]

    def rule(self, options: Mapping[str, Any], context: DetectorContext) -> CrossingRule:
        return _RegionRule(
            **CrossingRule.base(options),
            region=shared_region(context, options["region"]),
            direction=self.DIRECTION,
        )


class RegionEntranceDetector(_RegionCrossing):
    """Region entrance (6.2.4): an event when a target comes into the region from outside;
    ``data``: ``rule_id``, ``rule``, ``sensitivity``, ``track_id``, ``box``."""

    kind: ClassVar[str] = "region_entrance"
    EVENT_TYPE = REGION_ENTRANCE
    DIRECTION = "A->B"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(REGION_ENTRANCE, "Region entrance", snapshot=True),
    )


class RegionExitingDetector(_RegionCrossing):
    """Region exiting (6.2.5): an event when a target goes out of the region; ``data`` as for
    region entrance."""

    kind: ClassVar[str] = "region_exiting"
    EVENT_TYPE = REGION_EXITING
    DIRECTION = "B->A"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(REGION_EXITING, "Region exiting", snapshot=True),
    )


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``region_entrance`` and ``region_exiting`` available under ``detectors:``."""
    register(RegionEntranceDetector)
    register(RegionExitingDetector)
