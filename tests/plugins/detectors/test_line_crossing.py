"""Line crossing: accuracy over 50 seeded scenes with ground truth, the direction filter, the size filter and the line's ends, and its options."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol

from camera_runtime.model import EventPhase
from camera_runtime_plugins.detectors.line_crossing import (
    LINE_CROSSING_SCHEMA,
    LineCrossingDetector,
)

from .smart_scenes import Tally, line_scene, make, run


def test_fifty_scenes_recall_precision_and_direction() -> None:
    tally = Tally()
    for seed in range(50):
        scene = line_scene(seed)
        tally.add(scene, run(make(LineCrossingDetector, scene.options), scene.pictures), 2.0, False)
    assert tally.truth >= 35  # one scene in five turns back before the line: no crossing
    assert tally.recall >= 0.95 and tally.precision >= 0.95, tally
    assert tally.wrong_direction == 0


def _with(scene_options: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"rules": [{**scene_options["rules"][0], **changes}]}


def test_a_one_way_rule_reports_only_its_direction_with_the_event_s_fields() -> None:
    scene = next(s for s in map(line_scene, range(50)) if len(s.truth) == 1)
    direction = scene.truth[0][1]
    other = "B->A" if direction == "A->B" else "A->B"
    changes = []
    detector = make(LineCrossingDetector, _with(scene.options, direction=direction, name="gate"))
    for index, picture in enumerate(scene.pictures):
        changes += detector.process(picture, 1000.0 + index / 5)
    assert [phase for phase, _ in changes] == [EventPhase.NEW, EventPhase.END]
    event = changes[1][1]
    assert event.type == "line_crossing" and event.end == event.start
    assert {k: event.data[k] for k in ("rule_id", "rule", "direction")} == {
        "rule_id": 1,
        "rule": "gate",
        "direction": direction,
    }
    assert isinstance(event.data["track_id"], int) and set(event.data["box"]) == {
        "x",
        "y",
        "w",
        "h",
    }
    assert not run(
        make(LineCrossingDetector, _with(scene.options, direction=other)), scene.pictures
    )


def test_the_size_filter_is_what_keeps_the_large_object_out() -> None:
    # a "large" distractor scene (120x90 pixels crossing after the person) with a crossing
    scene = next(s for s in map(line_scene, range(4, 50, 5)) if s.truth)
    assert scene.distractor == "large"
    assert len(run(make(LineCrossingDetector, scene.options), scene.pictures)) == len(scene.truth)
    unfiltered = _with(scene.options, size_filter={})
    assert len(run(make(LineCrossingDetector, unfiltered), scene.pictures)) > len(scene.truth)


def test_a_target_passing_beyond_the_line_s_end_does_not_cross_it() -> None:
    scene = next(s for s in map(line_scene, range(50)) if len(s.truth) == 1)
    (start, end) = scene.options["rules"][0]["line"]
    # the same line, shortened to a stub at its first end: the walker passes it by
    stub = [start, [start[0] + 0.05 * (end[0] - start[0]), start[1] + 0.05 * (end[1] - start[1])]]
    assert not run(make(LineCrossingDetector, _with(scene.options, line=stub)), scene.pictures)


def test_options_defaults_and_errors() -> None:
    options = LINE_CROSSING_SCHEMA(
        {"rules": [{"line": [[0.5, 0], [0.5, 1]]}, {"line": [[0, 0.5], [1, 0.5]]}]}
    )
    first = options["rules"][0]
    assert (first["name"], first["id"], first["direction"], first["sensitivity"]) == (
        "line_1",
        1,
        "A<->B",
        50,
    )
    assert first["size_filter"] == {"min": [0.0, 0.0], "max": [1.0, 1.0]}
    assert options["rules"][1]["name"] == "line_2"
    for bad, message in (
        ({"rules": [{"line": [[0.5, 0.5], [0.5, 0.5]]}]}, "same point"),
        ({"rules": [{"line": [[0.5, 0.5]]}]}, "two points"),
        ({"rules": [{"line": [[0, 0], [1, 2]]}]}, "value must be at most 1"),
        ({"rules": [{"line": [[0, 0], [1, 1]], "direction": "up"}]}, "value must be one of"),
        ({"rules": [{"line": [[0, 0], [1, 1]], "sensitivity": 101}]}, "at most 100"),
        ({"rules": []}, "give 1 to 4 rules"),
        (
            {
                "rules": [
                    {"line": [[0, 0], [1, 1]], "size_filter": {"min": [0.5, 0.5], "max": [0.2, 1]}}
                ]
            },
            "minimum size is larger",
        ),
        (
            {
                "rules": [
                    {"line": [[0, 0], [1, 1]], "name": "a"},
                    {"line": [[0, 1], [1, 0]], "name": "a"},
                ]
            },
            "used twice",
        ),
    ):
        with pytest.raises(vol.Invalid, match=message):
            LINE_CROSSING_SCHEMA(bad)


def test_a_rule_keeps_its_id_so_deleting_rule_1_leaves_rule_2_rule_2() -> None:
    line = [[0, 0], [1, 1]]
    first = LINE_CROSSING_SCHEMA({"rules": [{"line": line}, {"line": line}, {"line": line}]})
    assert [(r["id"], r["name"]) for r in first["rules"]] == [
        (1, "line_1"),
        (2, "line_2"),
        (3, "line_3"),
    ]
    # What the API and the web page send back after deleting rule 1: the others with their ids.
    kept = LINE_CROSSING_SCHEMA({"rules": first["rules"][1:]})
    assert [(r["id"], r["name"]) for r in kept["rules"]] == [(2, "line_2"), (3, "line_3")]
    # A new rule (no id) takes the lowest free one; it is validated again unchanged.
    added = LINE_CROSSING_SCHEMA({"rules": [*kept["rules"], {"line": line}]})
    assert [r["id"] for r in added["rules"]] == [2, 3, 1]
    assert added["rules"][2]["name"] == "line_1"
    assert LINE_CROSSING_SCHEMA(added) == added
    for bad, path, message in (
        ([{"line": line, "id": 2}, {"line": line, "id": 2}], [1, "id"], "rule id 2 is used twice"),
        ([{"line": line, "id": 5}], [0, "id"], "a rule's id is 1 to 4"),
        ([{"line": line, "id": 0}], [0, "id"], "a rule's id is 1 to 4"),
        ([{"line": line, "id": True}], [0, "id"], "expected a whole number"),
        ([{"line": line, "id": "1"}], [0, "id"], "expected a whole number"),
    ):
        with pytest.raises(vol.Invalid, match=message) as caught:
            LINE_CROSSING_SCHEMA({"rules": bad})
        assert caught.value.path == ["rules", *path]
