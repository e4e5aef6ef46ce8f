"""Region entrance and exiting: accuracy over 50 seeded scenes each with ground truth."""

from __future__ import annotations

import pytest

from camera_runtime.interfaces import Detector
from camera_runtime_plugins.detectors.region import RegionEntranceDetector, RegionExitingDetector

from .smart_scenes import Tally, make, region_scene, run


@pytest.mark.parametrize(
    ("kind", "detector"),
    [("region_entrance", RegionEntranceDetector), ("region_exiting", RegionExitingDetector)],
)
def test_fifty_scenes_recall_precision_and_timing(kind: str, detector: type[Detector]) -> None:
    tally = Tally()
    for seed in range(50):
        scene = region_scene(seed, kind)
        events = run(make(detector, scene.options), scene.pictures)
        assert all(e.type == kind for e in events)
        tally.add(scene, events, 2.0, True)
    assert tally.truth == 50  # every loiterer comes in once and goes out once
    assert tally.recall >= 0.95 and tally.precision >= 0.95, tally
    assert tally.worst_timing <= 0.5, tally.timing
