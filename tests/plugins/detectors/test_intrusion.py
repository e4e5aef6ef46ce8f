"""Intrusion: accuracy and threshold timing over 50 seeded scenes with ground truth, an event that lasts while the intruder stays, and its options."""

from __future__ import annotations

import pytest
import voluptuous as vol

from camera_runtime.model import EventPhase
from camera_runtime_plugins.detectors.intrusion import INTRUSION_SCHEMA, IntrusionDetector

from .smart_scenes import FPS, WARM_UP, Tally, make, region_scene, run


def test_fifty_scenes_recall_precision_and_threshold_timing() -> None:
    tally = Tally()
    for seed in range(50):
        scene = region_scene(seed, "intrusion")
        tally.add(scene, run(make(IntrusionDetector, scene.options), scene.pictures), 2.0, True)
    assert tally.truth >= 40  # a few loiterers leave before the threshold: no alarm due
    assert tally.recall >= 0.95 and tally.precision >= 0.95, tally
    assert tally.worst_timing <= 0.5, tally.timing


def test_the_event_lasts_while_the_intruder_stays() -> None:
    scene = next(s for s in (region_scene(seed, "intrusion") for seed in range(50)) if s.truth)
    detector = make(IntrusionDetector, scene.options)
    changes = []
    for index, picture in enumerate(scene.pictures):
        changes += [
            (index, phase, e) for phase, e in detector.process(picture, 1000.0 + index / FPS)
        ]
    phases = [phase for _, phase, _ in changes]
    assert phases[0] is EventPhase.NEW and phases[-1] is EventPhase.END
    assert phases.count(EventPhase.NEW) == 1 and phases.count(EventPhase.END) == 1
    new, end = changes[0][2], changes[-1][2]
    assert (
        new.data["rule"] == "region_1"
        and new.data["threshold"] == scene.options["rules"][0]["threshold"]
    )
    assert end.id == new.id and end.end is not None
    # it ends when the person is out again: after the last picture the box was inside
    last_inside = max(
        i for i, box in enumerate(scene.person_boxes) if box and 0.3 * 320 < box[0] < 0.7 * 320
    )
    assert changes[-1][0] > last_inside - WARM_UP // 2


def test_options_defaults_and_errors() -> None:
    square = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]
    rule = INTRUSION_SCHEMA({"rules": [{"region": square}]})["rules"][0]
    assert (rule["name"], rule["threshold"], rule["sensitivity"]) == ("region_1", 0.0, 50)
    for bad, message in (
        ({"rules": [{"region": square, "threshold": 11}]}, "at most 10"),
        ({"rules": [{"region": square, "threshold": -1}]}, "at least 0"),
        ({"rules": [{"region": square[:2]}]}, "3 to 16 points"),
    ):
        with pytest.raises(vol.Invalid, match=message):
            INTRUSION_SCHEMA(bad)


def test_finish_ends_an_active_intrusion() -> None:
    scene = next(s for s in (region_scene(seed, "intrusion") for seed in range(50)) if s.truth)
    detector = make(IntrusionDetector, scene.options)
    for index, picture in enumerate(scene.pictures):
        changes = detector.process(picture, 1000.0 + index / FPS)
        if any(phase is EventPhase.NEW for phase, _ in changes):
            break
    (new,) = [e for phase, e in changes if phase is EventPhase.NEW]
    ((phase, end),) = detector.finish(2000.0)
    assert (phase, end.id, end.end) == (EventPhase.END, new.id, 2000.0)
    assert detector.finish(2001.0) == []
