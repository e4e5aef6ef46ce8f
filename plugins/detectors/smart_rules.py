"""What the smart-event detectors share: the size filter, the manual's sensitivity, the share of a target across a line or inside a region, and side changes with hysteresis."""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
import voluptuous as vol

from camera_runtime.capabilities import Control, RuleInfo, switch
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase
from camera_runtime.schedule import ARMING_SCHEDULE, ArmingSchedule

from .motion_areas import polygon_mask
from .tracker import Track, shared_tracker
from .validators import SENSITIVITY, polygon_point, whole_number

#: None of the smart events has Home Assistant's ``motion`` device class: the camera entity's
#: "motion detection" is the switch of the detector whose events have it, which must stay the
#: motion detector. Intrusion (on while someone is in the region) is ``occupancy``; the
#: crossings, which start and end at once, are plain binary sensors (their event entity and
#: device triggers are what automations use).
#: Rules per detector and channel (the manual's camera offers four lines / regions).
MAX_RULES = 4
#: The share of a target across a line or inside a region is counted on a grid of this many
#: points each way over its box.
GRID = 6


def _min_below_max(value: dict[str, Any]) -> dict[str, Any]:
    low, high = value["min"], value["max"]
    if low[0] > high[0] or low[1] > high[1]:
        raise vol.Invalid("the minimum size is larger than the maximum size")
    return value


#: The manual's size filter (6.2.9): only a target between the minimum and the maximum size
#: (width and height as fractions of the picture) is detected.
SIZE_FILTER_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional("min", default=lambda: [0.0, 0.0]): polygon_point,
            vol.Optional("max", default=lambda: [1.0, 1.0]): polygon_point,
        }
    ),
    _min_below_max,
)


def _schedule_data(value: Any) -> dict[str, list[str]]:
    """A rule's arming schedule, checked as every arming schedule is, kept as config data
    (``{monday: ["08:00-18:00"], ...}``, every day listed) so the options stay plain JSON for
    the API, the overrides file and the web page."""
    schedule = ARMING_SCHEDULE(value)
    assert isinstance(schedule, ArmingSchedule)
    return schedule.as_config()


def rule_fields() -> dict[Any, Any]:
    """The keys every rule has: a name, on or off, the manual's sensitivity, the size filter,
    and its own arming schedule (manual 8.1; left out: always armed)."""
    return {
        vol.Optional("name"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Optional("enabled", default=True): bool,
        vol.Optional("sensitivity", default=50): SENSITIVITY,
        vol.Optional("size_filter", default=dict): SIZE_FILTER_SCHEMA,
        vol.Optional("arming_schedule"): _schedule_data,
    }


#: A rule's ``id``: its number (1 to ``MAX_RULES``), the manual's "line 1".."line 4". It is kept
#: with the rule (config, API, web page), so deleting rule 1 leaves rule 2 (its events, MQTT
#: entities and Home Assistant entities) rule 2.
RULE_ID = vol.All(
    whole_number, vol.Range(min=1, max=MAX_RULES, msg=f"a rule's id is 1 to {MAX_RULES}")
)


def rules_schema(rule: vol.Schema, prefix: str) -> Any:
    """1 to ``MAX_RULES`` rules with unique ids and names. A rule without an ``id`` takes the
    lowest one free (so a new list's rules are 1, 2, 3...); an unnamed one is named
    ``<prefix>_<id>``."""

    def numbered(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        taken: set[int] = set()
        for index, item in enumerate(rules):
            if "id" in item:
                if item["id"] in taken:
                    raise vol.Invalid(f"rule id {item['id']} is used twice", path=[index, "id"])
                taken.add(item["id"])
        free = (n for n in range(1, MAX_RULES + 1) if n not in taken)
        named, seen = [], set()
        for index, item in enumerate(rules):
            number = item["id"] if "id" in item else next(free)
            value = item.get("name") or f"{prefix}_{number}"
            if value in seen:
                raise vol.Invalid(f"rule name {value!r} is used twice", path=[index, "name"])
            seen.add(value)
            named.append({**item, "name": value, "id": number})
        return named

    return vol.All(
        [rule.extend({vol.Optional("id"): RULE_ID})],
        vol.Length(min=1, max=MAX_RULES, msg=f"give 1 to {MAX_RULES} rules"),
        numbered,
    )


def declared_rules(options: Mapping[str, Any]) -> tuple[RuleInfo, ...]:
    """A smart detector's rules as it declares them (``Detector.rules``): id, name, arming
    schedule (``None``: always armed) and on or off."""
    return tuple(
        RuleInfo(
            rule["id"],
            rule["name"],
            ARMING_SCHEDULE(rule["arming_schedule"]) if "arming_schedule" in rule else None,
            rule.get("enabled", True),
        )
        for rule in options["rules"]
    )


class SmartDetector(Detector):
    """A smart event detector (manual 6.2): it declares its rules, works on the channel's
    shared tracker (``self._tracker``), and is a smart event to the stitching modes."""

    SMART: ClassVar[bool] = True

    @classmethod
    def rules(cls, options: Mapping[str, Any]) -> tuple[RuleInfo, ...]:
        return declared_rules(options)

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        """The detector's switch, and one per rule (``<kind>_rule_<id>_enabled``: its
        ``enabled`` key), so a rule can be switched off from every face."""
        label = cls.kind.replace("_", " ").capitalize()
        return super().controls(options) + tuple(
            switch(
                f"{cls.kind}_rule_{rule['id']}_enabled",
                f"{label} rule {rule['name']}",
                sets=f"rules.{index}.enabled",
                config=True,
            )
            for index, rule in enumerate(options["rules"])
        )

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._tracker = shared_tracker(context)


def required_share(sensitivity: int) -> float:
    """The manual's ``Sensitivity = 100 - S1/ST x 100`` solved for S1/ST: the share of the
    target that must be across the line (or inside the region). At 100 any part counts (a
    twentieth of it, so a one-pixel overlap of a box's edge does not), at 0 all of it."""
    return max(0.05, (100 - sensitivity) / 100.0)


@dataclass(frozen=True, slots=True)
class SizeFilter:
    """Targets whose width or height is under the minimum's, or over the maximum's, are
    ignored (fractions of the picture)."""

    min_w: float
    min_h: float
    max_w: float
    max_h: float

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SizeFilter:
        low, high = options["min"], options["max"]
        return cls(low[0], low[1], high[0], high[1])

    def accepts(self, track: Track, width: int, height: int) -> bool:
        w, h = track.box[2] / width, track.box[3] / height
        return self.min_w <= w <= self.max_w and self.min_h <= h <= self.max_h


@dataclass(slots=True)
class RegionRule:
    """A rule over a region with a time threshold (intrusion, unattended baggage, object
    removal): what each keeps of its validated options, at the detect size."""

    id: int
    name: str
    region: Region
    threshold: float
    sensitivity: int
    required: float
    size_filter: SizeFilter

    @staticmethod
    def fields(options: Mapping[str, Any], context: DetectorContext) -> dict[str, Any]:
        """The constructor's arguments from one rule's options."""
        return {
            "id": options["id"],
            "name": options["name"],
            "region": shared_region(context, options["region"]),
            "threshold": options["threshold"],
            "sensitivity": options["sensitivity"],
            "required": required_share(options["sensitivity"]),
            "size_filter": SizeFilter.from_options(options["size_filter"]),
        }


def region_rules[R: RegionRule](
    rule_class: type[R], options: Mapping[str, Any], context: DetectorContext
) -> list[R]:
    """A detector's region rules, from its validated options, at the detect size."""
    return [rule_class(**RegionRule.fields(rule, context)) for rule in options["rules"]]


#: Where the grid's points lie across a box, as shares of its width and height (their
#: centres: ``(i + 0.5) / GRID``).
_STEPS = tuple((i + 0.5) / GRID for i in range(GRID))


def grid_points(track: Track) -> tuple[list[float], list[float]]:
    """The grid's columns (x) and rows (y) over the target's box, in detect pixels.

    Plain floats, not arrays: a busy picture has tens of targets and every rule asks for
    each, and numpy's per-call overhead (tens of microseconds, all of it holding the GIL) is
    far more than the 36 points' arithmetic (``docs/smart-events.md#cost``)."""
    x, y, w, h = track.box
    return [x + s * w for s in _STEPS], [y + s * h for s in _STEPS]


class Line:
    """A line from ``start`` to ``end`` (detect pixels). Side A is on the left of someone
    walking from start to end as drawn on the picture, side B on the right."""

    def __init__(self, points: Sequence[Sequence[float]], width: int, height: int) -> None:
        (ax, ay), (bx, by) = points
        self.x0, self.y0 = ax * width, ay * height
        self.dx, self.dy = (bx - ax) * width, (by - ay) * height
        self.length2 = self.dx * self.dx + self.dy * self.dy

    def share_b(self, track: Track) -> float:
        """The share of the target's box on side B (of its ``GRID`` x ``GRID`` points)."""
        gx, gy = grid_points(track)
        dx, dy, x0, y0 = self.dx, self.dy, self.x0, self.y0
        across = [dy * (x - x0) for x in gx]
        # the side is linear in x and y: a box whose four corner points are on one side is
        # all on that side (the common case, a target away from the line)
        top, bottom = dx * (gy[0] - y0), dx * (gy[-1] - y0)
        corners = (top - across[0], top - across[-1], bottom - across[0], bottom - across[-1])
        if min(corners) > 0:
            return 1.0
        if max(corners) <= 0:
            return 0.0
        inside = sum(1 for y in gy for a in across if dx * (y - y0) - a > 0)
        return inside / (GRID * GRID)

    def spans(self, track: Track) -> bool:
        """Whether the target's centre lies beside the segment (not beyond either end)."""
        cx, cy = track.centre
        t = ((cx - self.x0) * self.dx + (cy - self.y0) * self.dy) / self.length2
        return 0.0 <= t <= 1.0


class Region:
    """A polygon's mask at detect size, and the share of a target's box inside it."""

    def __init__(self, points: Sequence[Sequence[float]], width: int, height: int) -> None:
        self.mask = polygon_mask(points, width, height)
        self.width, self.height = width, height
        # the mask as Python rows, and the span of rows and columns it covers: a target
        # outside that box is not inside at all (most of a busy picture's targets, for a
        # region of a part of it), and one beside it costs 36 list look-ups, no numpy call
        self._rows = cast(list[list[bool]], (self.mask > 0).tolist())
        ys, xs = np.nonzero(self.mask)
        self._span = (
            (int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())) if xs.size else None
        )
        self._shares: dict[tuple[float, float, float, float], float] = {}

    def share_inside(self, track: Track) -> float:
        """The share of the target's box in the region (of its ``GRID`` x ``GRID`` points,
        each the mask's pixel it falls in, clamped to the picture).

        Remembered by box (it depends on nothing else): a channel's region entrance, region
        exiting and intrusion rules on one region share it (``shared_region``) and ask for
        every target each picture, and a coasting target keeps its box."""
        share = self._shares.get(track.box)
        if share is None:
            if len(self._shares) >= _SHARES_KEPT:
                self._shares.clear()
            share = self._shares[track.box] = self._share_inside(track)
        return share

    def _share_inside(self, track: Track) -> float:
        span = self._span
        if span is None:
            return 0.0
        gx, gy = grid_points(track)
        xs, ys = [int(x) for x in gx], [int(y) for y in gy]
        # the points ascend: only the first can lie left of (above) the picture, the last
        # right of (below) it, and clamping them keeps them in order
        right, bottom = self.width - 1, self.height - 1
        if xs[0] < 0 or xs[-1] > right:
            xs = [min(max(x, 0), right) for x in xs]
        if ys[0] < 0 or ys[-1] > bottom:
            ys = [min(max(y, 0), bottom) for y in ys]
        if xs[-1] < span[0] or xs[0] > span[1] or ys[-1] < span[2] or ys[0] > span[3]:
            return 0.0
        rows = self._rows
        inside = sum(1 for y in ys for row in (rows[y],) for x in xs if row[x])
        return inside / (GRID * GRID)


#: ``Region.share_inside`` remembers at most this many boxes (then starts again): a busy
#: picture has tens of targets, and a box once gone seldom comes back.
_SHARES_KEPT = 1024
#: The key of a channel's regions in ``DetectorContext.shared`` (``shared_region``).
REGION_KEY = "camera_runtime_plugins.regions"


def shared_region(context: DetectorContext, points: Sequence[Sequence[float]]) -> Region:
    """The channel's one ``Region`` of a polygon at its detect size: the rules of its
    detectors on the same region (the demo yard's lawn: intrusion, region entrance, region
    exiting) share its mask and the shares it remembers, so each target's share is counted
    once a picture, not once per rule (``share_inside``).

    The channel keeps its regions weakly (one map in ``DetectorContext.service``): a region
    lives as long as a rule uses it, so one edited to another polygon does not leave its old
    mask behind for the channel's lifetime."""
    regions = context.service(REGION_KEY, weakref.WeakValueDictionary, weakref.WeakValueDictionary)
    key = (tuple(tuple(point) for point in points), context.width, context.height)
    region: Region | None = regions.get(key)
    if region is None:
        region = regions[key] = Region(points, context.width, context.height)
    return region


class Sides:
    """Which side (``"A"`` or ``"B"``) each target is on, and when it changes.

    A target starts on the side where most of it is. It crosses to the other side when the
    required share (``required_share``) of it is there, and may cross back only after it has
    settled on its new side (at least ``max(1 - required, 0.6)`` of it there): without that
    hysteresis a target straddling the line at the required share would cross with every
    jitter of its outline.
    """

    def __init__(self, required: float) -> None:
        self._required = required
        self._settle = max(1.0 - required, 0.6)
        self._state: dict[int, tuple[str, bool]] = {}  # track id -> (side, settled)

    def observe(self, track_id: int, share_b: float) -> str | None:
        """Feed a target's share on side B; returns ``"A->B"`` or ``"B->A"`` on a crossing."""
        state = self._state.get(track_id)
        if state is None:
            side = "B" if share_b > 0.5 else "A"
            here = share_b if side == "B" else 1.0 - share_b
            self._state[track_id] = (side, here >= self._settle)
            return None
        side, settled = state
        other = 1.0 - share_b if side == "B" else share_b
        if settled and other >= self._required:
            new = "A" if side == "B" else "B"
            self._state[track_id] = (new, other >= self._settle)
            return f"{side}->{new}"
        if not settled and 1.0 - other >= self._settle:
            self._state[track_id] = (side, True)
        return None

    def forget(self, keep: set[int]) -> None:
        """Drop the targets no longer tracked."""
        for track_id in [t for t in self._state if t not in keep]:
            del self._state[track_id]


def instant(
    channel: str, event_type: str, timestamp: float, data: dict[str, Any]
) -> list[tuple[EventPhase, Event]]:
    """An event that happens at one moment (a crossing, an entrance): it starts and ends in the
    same picture, as two changes of one event (NEW, then END)."""
    event = Event(channel=channel, type=event_type, start=timestamp, data=data)
    return [
        (EventPhase.NEW, event),
        (EventPhase.END, dataclasses.replace(event, end=timestamp)),
    ]


def target_data(track: Track, width: int, height: int) -> dict[str, Any]:
    """What every smart event says of its target: the track id and its box (0..1)."""
    return {"track_id": track.id, "box": track.normalised(width, height).as_dict()}


__all__ = [
    "SIZE_FILTER_SCHEMA",
    "Line",
    "Region",
    "RegionRule",
    "Sides",
    "SizeFilter",
    "declared_rules",
    "instant",
    "region_rules",
    "required_share",
    "rule_fields",
    "rules_schema",
    "shared_region",
    "target_data",
]
