"""Line crossing detection (manual 6.2.3): an event each time a tracked target crosses a virtual line in a watched direction."""

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
    Line,
    Sides,
    SizeFilter,
    instant,
    required_share,
    rule_fields,
    rules_schema,
    target_data,
)
from .tracker import shared_tracker
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
class _Rule:
    id: int
    name: str
    line: Line
    directions: frozenset[str]
    sensitivity: int
    size_filter: SizeFilter
    sides: Sides


class LineCrossingDetector(Detector):
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
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo(LINE_CROSSING, "Line crossing"),
    )

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._tracker = shared_tracker(context)
        self._rules = [
            _Rule(
                id=rule["id"],
                name=rule["name"],
                line=Line(rule["line"], context.width, context.height),
                directions=frozenset(
                    ("A->B", "B->A") if rule["direction"] == "A<->B" else (rule["direction"],)
                ),
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
                crossed = rule.sides.observe(track.id, rule.line.share_b(track))
                if crossed and crossed in rule.directions and rule.line.spans(track):
                    data = {
                        "rule_id": rule.id,
                        "rule": rule.name,
                        "direction": crossed,
                        "sensitivity": rule.sensitivity,
                        **target_data(track, width, height),
                    }
                    changes += instant(self.context.channel_id, LINE_CROSSING, timestamp, data)
            rule.sides.forget({track.id for track in tracks})
        return changes


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``line_crossing`` available under a channel's ``detectors:``."""
    register(LineCrossingDetector)
