"""The manual's sensitivity, the share of a target across a line or inside a region, the size filter, and the hysteresis that keeps a target on the line from crossing back and forth."""

from __future__ import annotations

import gc
import random
import weakref
from typing import Any

import numpy as np
import pytest

from camera_runtime.interfaces import DetectorContext
from camera_runtime_plugins.detectors.intrusion import IntrusionDetector
from camera_runtime_plugins.detectors.region import RegionEntranceDetector
from camera_runtime_plugins.detectors.smart_rules import (
    GRID,
    Line,
    Region,
    Sides,
    SizeFilter,
    required_share,
    shared_region,
)
from camera_runtime_plugins.detectors.tracker import Track


def _track(x: float, y: float, w: float = 10, h: float = 20) -> Track:
    return Track(1, (x, y, w, h), 0.0, 0.0)


@pytest.mark.parametrize(
    ("sensitivity", "share"), [(0, 1.0), (30, 0.7), (50, 0.5), (70, 0.3), (99, 0.05), (100, 0.05)]
)
def test_sensitivity_is_100_minus_the_share_across(sensitivity: int, share: float) -> None:
    assert required_share(sensitivity) == pytest.approx(share)


def test_side_b_is_right_of_the_line_s_way_and_the_share_is_the_box_s() -> None:
    down = Line([[0.5, 0.0], [0.5, 1.0]], 100, 100)  # top to bottom: right of it is screen-left
    assert down.share_b(_track(10, 40)) == 1.0 and down.share_b(_track(80, 40)) == 0.0
    assert down.share_b(_track(45, 40)) == pytest.approx(0.5)
    assert down.spans(_track(45, 40)) and not Line([[0.5, 0.0], [0.5, 0.2]], 100, 100).spans(
        _track(45, 40)
    )
    region = Region([[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]], 100, 100)
    assert region.share_inside(_track(45, 40)) == pytest.approx(0.5)
    assert region.share_inside(_track(10, 40)) == 0.0


def test_the_size_filter_keeps_what_lies_between_min_and_max() -> None:
    size = SizeFilter.from_options({"min": [0.05, 0.1], "max": [0.3, 0.5]})
    assert size.accepts(_track(0, 0, 10, 20), 100, 100)
    assert not size.accepts(_track(0, 0, 4, 20), 100, 100)  # too narrow
    assert not size.accepts(_track(0, 0, 10, 60), 100, 100)  # too tall


def test_a_target_on_the_line_crosses_once_until_it_settles_on_its_new_side() -> None:
    sides = Sides(required_share(70))  # 30 % across is a crossing
    assert sides.observe(1, 0.0) is None  # starts on side A
    assert sides.observe(1, 0.2) is None
    assert sides.observe(1, 0.3) == "A->B"
    for share in (0.2, 0.35, 0.1, 0.3, 0.2):  # jitter around the line: no crossing back
        assert sides.observe(1, share) is None
    assert sides.observe(1, 0.8) is None  # settled on B (at least 70 % there)
    assert sides.observe(1, 0.7) == "B->A"  # 30 % back on A
    sides.forget(set())
    assert sides.observe(1, 1.0) is None  # forgotten: a new start, on B


def _grid_reference(track: Track) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The shares' definition, as arrays (the first version's code): ``GRID`` x ``GRID``
    points at the centres of a grid over the box."""
    x, y, w, h = track.box
    steps = (np.arange(GRID, dtype=np.float64) + 0.5) / GRID
    gx, gy = np.meshgrid(x + steps * w, y + steps * h)
    return gx.ravel(), gy.ravel()


def test_the_shares_are_the_grid_s_whatever_the_box_line_and_region() -> None:
    """The shares are computed point by point in plain Python with shortcuts (a box away from
    a region's span, a box wholly on one side of a line): the same figures as the grid over
    the box counted with arrays, for boxes anywhere, also partly off the picture."""
    draw = random.Random(15)
    width, height = 320, 180
    regions = [
        Region([[0.55, 0.58], [0.8, 0.58], [0.8, 0.98], [0.55, 0.98]], width, height),
        Region([[0.1, 0.1], [0.9, 0.3], [0.5, 0.9]], width, height),
        Region([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], width, height),
    ]
    lines = [
        Line([[0.5, 0.95], [0.5, 0.58]], width, height),
        Line([[0.1, 0.2], [0.9, 0.7]], width, height),
        Line([[0.0, 0.5], [1.0, 0.5]], width, height),
    ]
    for _ in range(3000):
        w, h = draw.uniform(1, 120), draw.uniform(1, 120)
        track = _track(draw.uniform(-w, width), draw.uniform(-h, height), w, h)
        gx, gy = _grid_reference(track)
        for region in regions:
            xs = np.clip(gx.astype(np.int64), 0, width - 1)
            ys = np.clip(gy.astype(np.int64), 0, height - 1)
            expected = float(np.count_nonzero(region.mask[ys, xs])) / xs.size
            assert region.share_inside(track) == expected
        for line in lines:
            cross = line.dx * (gy - line.y0) - line.dy * (gx - line.x0)
            assert line.share_b(track) == float(np.count_nonzero(cross > 0)) / cross.size


LAWN = [[0.1, 0.4], [0.9, 0.4], [0.9, 0.95], [0.1, 0.95]]
PATH = [[0.4, 0.0], [0.6, 0.0], [0.6, 1.0], [0.4, 1.0]]


def _region_rules(cls: Any, region: list[list[float]], context: DetectorContext) -> Any:
    return cls(cls.CONFIG_SCHEMA({"rules": [{"name": "r", "region": region}]}), context)


def test_a_channel_s_rules_on_one_polygon_share_its_region_and_only_that_channel_s() -> None:
    context = DetectorContext("yard", 320, 180, 10.0)
    intrusion = _region_rules(IntrusionDetector, LAWN, context)
    entrance = _region_rules(RegionEntranceDetector, LAWN, context)
    lawn = shared_region(context, LAWN)
    assert intrusion._rules[0].region is lawn and entrance._rules[0].region is lawn
    assert shared_region(DetectorContext("gate", 320, 180, 10.0), LAWN) is not lawn
    assert shared_region(DetectorContext("yard", 640, 360, 10.0), LAWN) is not lawn
    assert shared_region(context, PATH) is not lawn


def test_a_region_no_rule_uses_any_more_is_released() -> None:
    """An edited polygon rebuilds the detector: the old region's mask must not stay with the
    channel until it restarts."""
    context = DetectorContext("yard", 320, 180, 10.0)
    detector = _region_rules(IntrusionDetector, LAWN, context)
    old = weakref.ref(shared_region(context, LAWN))
    detector = _region_rules(IntrusionDetector, PATH, context)  # the rule's region edited
    gc.collect()
    assert old() is None
    assert detector._rules[0].region is shared_region(context, PATH)
