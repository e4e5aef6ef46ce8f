"""Line crossing detection (manual 6.2.3): an event each time a tracked target crosses a virtual line in a watched direction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.interfaces import Detector, DetectorContext

from .crossing import CrossingDetector, CrossingRule
from .smart_rules import Line, rule_fields, rules_schema
from .tracker import Track
from .validators import polygon_point

#: The event type this detector raises.
LINE_CROSSING = "line_crossing"
DIRECTIONS = ("A<->B", "A->B", "B->A")


def _line(value: Any) -> list[list[float]]:
    """Two distinct points ``[[x, y], [x, y]]`` (0..1)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise vol.Invalid("a line is two points: [[x, y], [x, y]], each number from 0 to 1")
    points = []
    for index, point in enumerate(value):
        try:
            points.append(polygon_point(point))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index, *err.path]) from None
    if abs(points[0][0] - points[1][0]) + abs(points[0][1] - points[1][1]) < 0.01:
        raise vol.Invalid("the line's two points are the same point")
    return points


RULE_SCHEMA = vol.Schema(
    {
        vol.Required("line"): _line,
        vol.Optional("direction", default="A<->B"): vol.In(DIRECTIONS),
        **rule_fields(),
    }
)

LINE_CROSSING_SCHEMA = vol.Schema({vol.Required("rules"): rules_schema(RULE_SCHEMA, "line")})


@dataclass(slots=True)
class _LineRule(CrossingRule):
    line: Line
    directions: frozenset[str]

    def share_b(self, track: Track) -> float:
        return self.line.share_b(track)

    def counts(self, crossed: str, track: Track) -> bool:
        return crossed in self.directions and self.line.spans(track)

    def data(self, crossed: str) -> dict[str, Any]:
        return {**CrossingRule.data(self, crossed), "direction": crossed}


class LineCrossingDetector(CrossingDetector):
    """One event per crossing of a line by a tracked target, for each rule whose direction it
    matches: ``A->B``, ``B->A`` or both (``A<->B``). Side A is on the left of someone walking
    the line from its first point to its second as drawn on the picture, side B on the right.

    A target is a confirmed track of the channel's shared ``Tracker`` whose size passes the
    rule's size filter. It crosses when the manual's share of it (``required_share`` of the
    sensitivity, measured on its box) is on the other side while its centre is beside the
    line (not beyond either end); see ``Sides`` for the hysteresis that keeps a target on the
    line from crossing back and forth. The event starts and ends in the same picture; its
    ``data`` holds ``rule_id``, ``rule``, ``direction``, ``sensitivity``, ``track_id`` and
    ``box`` (0..1).
    """

    kind: ClassVar[str] = "line_crossing"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = LINE_CROSSING_SCHEMA
    EVENT_TYPE = LINE_CROSSING
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(LINE_CROSSING, "Line crossing", snapshot=True),
    )

    def rule(self, options: Mapping[str, Any], context: DetectorContext) -> CrossingRule:
        both = options["direction"] == "A<->B"
        return _LineRule(
            **CrossingRule.base(options),
            line=Line(options["line"], context.width, context.height),
            directions=frozenset(("A->B", "B->A") if both else (options["direction"],)),
        )


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``line_crossing`` available under a channel's ``detectors:``."""
    register(LineCrossingDetector)
