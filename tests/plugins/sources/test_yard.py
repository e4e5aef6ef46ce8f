"""The yard scene of the synthetic source: what the demo's default configuration shows. Its smart-event rules fire as the yard's timeline says, every cycle, and nothing else does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from camera_runtime.cli import demo_config
from camera_runtime.config import validate_config
from camera_runtime.detection import detect_size
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import EventPhase
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime_plugins.sources import yard
from camera_runtime_plugins.sources.synthetic import SyntheticSource

SMART = {kind for kind, _, _ in yard.YARD_TIMELINE}


def _run_demo_channel(cycles: int) -> list[tuple[float, str, str]]:
    """The demo's first channel as its config says (source, detect size and rate, rules),
    its smart detectors fed the yard's pictures for ``cycles`` cycles: (scene time, type,
    direction) of each event's start."""
    registry = collect_registry(create_plugin_manager())
    channel = validate_config(demo_config(1), registry).channels[0]
    source = SyntheticSource(
        SyntheticSource.CONFIG_SCHEMA({**channel.source_options, "realtime": False})
    )
    width, height = detect_size(source.width, source.height, channel.detect_width)
    fps = channel.detect_fps
    context = DetectorContext(channel.id, width, height, fps)
    detectors: list[Detector] = []
    for kind, config in channel.detectors.items():
        if kind in SMART:
            cls: Any = registry.get("detector", kind)
            detectors.append(cls(config.options, context))
    assert {d.kind for d in detectors} == SMART
    found = []
    for step in range(int(cycles * yard.PERIOD * fps)):
        t = step / fps
        luma = source.render(round(t * source.fps)).y
        for detector in detectors:
            for phase, event in detector.process(luma, 1000.0 + t):
                if phase is EventPhase.NEW:
                    found.append(
                        (event.start - 1000.0, event.type, event.data.get("direction", ""))
                    )
    return found


def test_the_demo_config_fires_every_smart_event_of_the_yard_each_cycle() -> None:
    found = _run_demo_channel(2)
    expected = [
        (cycle * yard.PERIOD + when, kind, direction)
        for cycle in range(2)
        for kind, when, direction in yard.YARD_TIMELINE
    ]
    assert len(found) == len(expected), found
    for (t, kind, direction), (due, want, way) in zip(sorted(found), sorted(expected), strict=True):
        assert (kind, direction) == (want, way)
        assert t == pytest.approx(due, abs=0.5), (kind, t, due)
    # a newcomer sees line crossing and intrusion within the first half minute
    assert min(t for t, kind, _ in found if kind == "line_crossing") < 10
    assert min(t for t, kind, _ in found if kind == "intrusion") < 30


def test_the_yard_draws_its_people_bag_crate_and_lamp() -> None:
    source = SyntheticSource(
        SyntheticSource.CONFIG_SCHEMA(
            {"scene": "yard", "width": 320, "height": 180, "noise": 0, "realtime": False}
        )
    )
    fps = source.fps

    def luma(t: float) -> Any:
        return source.render(round(t * fps)).y.astype(np.int16)

    boxes = {t: source.ground_truth(t) for t in (4.5, 22.0, 30.0, 36.0)}
    assert len(boxes[4.5]) == 2  # the walker and the crate
    # the bag lies where it was set down after its carrier left; the crate is gone at 36 s
    assert any(abs(b.w - yard.BAG[0]) < 0.002 and b.x > 0.5 for b in boxes[30.0])
    assert not any(abs(b.w - yard.CRATE[0]) < 0.002 for b in boxes[36.0])
    # a person is a head on a body: the corners above the shoulders show the ground
    walker = next(b for b in boxes[4.5] if b.h > 0.2)
    x0, y0 = round(walker.x * 320), round(walker.y * 180)
    empty = luma(0.0)
    assert luma(4.5)[y0 + 1, x0] == empty[y0 + 1, x0]
    assert luma(4.5)[y0 + 20, x0 + 2] != empty[y0 + 20, x0 + 2]
    # the lamp lights its pool from 32 s, not before
    lx, ly = round(yard.LAMP[0] * 320), round(yard.LAMP[1] * 180)
    assert luma(31.0)[ly, lx] == empty[ly, lx]
    assert luma(33.0)[ly, lx] - empty[ly, lx] >= yard.LAMP_GAIN - 2


def test_the_boxes_scene_stays_the_default() -> None:
    options = SyntheticSource.CONFIG_SCHEMA({})
    assert options["scene"] == "boxes"
    assert [o["shape"] for o in options["objects"]] == ["box", "box"]
