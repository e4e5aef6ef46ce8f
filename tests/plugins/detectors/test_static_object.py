"""Unattended baggage and object removal: accuracy and threshold timing over 50 seeded scenes each with ground truth, the event's life, and the options."""

from __future__ import annotations

import pytest
import voluptuous as vol

from camera_runtime.interfaces import DetectorContext
from camera_runtime.model import EventPhase
from camera_runtime_plugins.detectors.static_object import (
    STATIC_OBJECT_SCHEMA,
    ObjectRemovalDetector,
    UnattendedBaggageDetector,
    shared_stills,
)

from .smart_scenes import DETECT, FPS, WARM_UP, Tally, make, run, static_scene

DETECTORS = {
    "unattended_baggage": UnattendedBaggageDetector,
    "object_removal": ObjectRemovalDetector,
}


@pytest.mark.parametrize("kind", DETECTORS)
def test_fifty_scenes_recall_precision_and_threshold_timing(kind: str) -> None:
    tally = Tally()
    distractors: set[str] = set()
    for seed in range(50):
        scene = static_scene(seed, kind)
        distractors.add(scene.distractor)
        tally.add(scene, run(make(DETECTORS[kind], scene.options), scene.pictures), 2.0, True)
    # every distractor ran, among them the other kind's scenes (no event due there)
    assert distractors == {"none", "brightness", "shake", "passer", "lamp", "other"}
    assert 40 <= tally.truth < 50
    assert tally.recall >= 0.95 and tally.precision >= 0.95, tally
    assert tally.worst_timing <= 0.5, tally.timing


def test_the_baggage_event_starts_after_the_threshold_and_finish_ends_it() -> None:
    scene = static_scene(0, "unattended_baggage")
    detector = make(UnattendedBaggageDetector, scene.options)
    new = None
    for index, picture in enumerate(scene.pictures):
        timestamp = 1000.0 + index / FPS
        for phase, event in detector.process(picture, timestamp):
            assert phase is EventPhase.NEW and new is None
            new = event
    assert new is not None
    rule = scene.options["rules"][0]
    assert (new.type, new.data["rule"], new.data["rule_id"]) == (
        "unattended_baggage",
        "region_1",
        1,
    )
    assert new.data["threshold"] == rule["threshold"]
    # the event starts a threshold after the bag was left (its ``since``), to the picture
    assert new.start - new.data["since"] == pytest.approx(rule["threshold"], abs=1.0 / FPS + 1e-6)
    assert new.data["since"] - (1000.0 + WARM_UP / FPS) == pytest.approx(
        scene.truth[0][0] - rule["threshold"], abs=0.5
    )
    x, y, w, h = (new.data["box"][k] for k in ("x", "y", "w", "h"))
    assert 0.0 < w < 0.1 and 0.0 < h < 0.15 and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
    ((phase, end),) = detector.finish(2000.0)
    assert (phase, end.id, end.end) == (EventPhase.END, new.id, 2000.0)
    assert detector.finish(2001.0) == []


def test_a_still_person_is_not_baggage_and_the_size_filter_decides() -> None:
    """The bag scenes pass only with the size filter that fits a bag: with one that lets no
    bag through, nothing is reported."""
    scene = static_scene(0, "unattended_baggage")
    options = {"rules": [{**scene.options["rules"][0], "size_filter": {"min": [0.2, 0.2]}}]}
    assert run(make(UnattendedBaggageDetector, options), scene.pictures) == []


def test_options_defaults_and_errors() -> None:
    square = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]
    rule = STATIC_OBJECT_SCHEMA({"rules": [{"region": square}]})["rules"][0]
    assert (rule["name"], rule["threshold"], rule["sensitivity"]) == ("region_1", 5.0, 50)
    for bad, message in (
        ({"rules": [{"region": square, "threshold": 61}]}, "at most 60"),
        ({"rules": [{"region": square, "threshold": 0.5}]}, "at least 1"),
        ({"rules": [{"region": square, "threshold": "5"}]}, "expected a number"),
        ({"rules": [{"region": square[:2]}]}, "3 to 16 points"),
        ({"rules": []}, "give 1 to 4 rules"),
    ):
        with pytest.raises(vol.Invalid, match=message):
            STATIC_OBJECT_SCHEMA(bad)


@pytest.mark.parametrize("kind", DETECTORS)
def test_both_detectors_of_a_channel_share_the_still_objects_and_find_what_each_finds_alone(
    kind: str,
) -> None:
    """Unattended baggage and object removal on one channel follow its still objects once per
    picture (``shared_stills``): each raises what it raises alone, the other kind's scene
    included; a detector rebuilt with new options keeps the channel's still objects."""
    raised = 0
    for seed in range(8):
        scene = static_scene(seed, kind)
        context = DetectorContext("eval", *DETECT, FPS)
        both = [cls(cls.CONFIG_SCHEMA(scene.options), context) for cls in DETECTORS.values()]
        together: dict[str, list[tuple[float, float]]] = {k: [] for k in DETECTORS}
        for index, picture in enumerate(scene.pictures):
            for detector in both:
                for phase, event in detector.process(picture, 1000.0 + index / FPS):
                    if phase is EventPhase.NEW:
                        together[event.type].append((event.start, event.data["since"]))
        for other, cls in DETECTORS.items():
            alone = run(make(cls, scene.options), scene.pictures)
            origin = 1000.0 + WARM_UP / FPS
            expected = [(e.start + origin, e.data["since"]) for e in alone]
            assert together[other] == pytest.approx(expected), (seed, other)
            raised += len(expected)
        stills = shared_stills(context, both[0]._tracker)
        rebuilt = UnattendedBaggageDetector(
            UnattendedBaggageDetector.CONFIG_SCHEMA(scene.options), context
        )
        assert rebuilt._stills is stills
    assert raised >= 6  # most scenes of the kind have their event
