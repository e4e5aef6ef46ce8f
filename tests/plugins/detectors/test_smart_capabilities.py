"""The smart detectors' declarations reach a channel's status (what the API, MQTT and Home Assistant are built from), a channel's detectors share one tracker that works once per picture, and each rule obeys its own arming schedule."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pytest

from camera_runtime.channel import Channel
from camera_runtime.config import validate_config
from camera_runtime.detection import DetectorSet
from camera_runtime.interfaces import DetectorContext
from camera_runtime.model import Event, EventPhase, Frame
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime_plugins.detectors import tracker as tracker_module
from camera_runtime_plugins.detectors.intrusion import IntrusionDetector
from camera_runtime_plugins.detectors.line_crossing import (
    LINE_CROSSING_SCHEMA,
    LineCrossingDetector,
)
from camera_runtime_plugins.detectors.region import RegionEntranceDetector, RegionExitingDetector
from camera_runtime_plugins.detectors.static_object import (
    ObjectRemovalDetector,
    UnattendedBaggageDetector,
)

from .smart_scenes import DETECT, FPS, line_scene

REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]
DETECTORS: dict[str, Any] = {
    "line_crossing": {"rules": [{"line": [[0.5, 0.0], [0.5, 1.0]]}]},
    "intrusion": {"rules": [{"region": REGION, "threshold": 2}]},
    "region_entrance": {"rules": [{"region": REGION}]},
    "region_exiting": {"rules": [{"region": REGION}]},
    "unattended_baggage": {"rules": [{"region": REGION, "threshold": 10}]},
    "object_removal": {"rules": [{"region": REGION}]},
}


def test_a_channel_offers_each_smart_event_type_and_its_switch() -> None:
    data = {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "synthetic", "width": 64, "height": 48},
                "detectors": DETECTORS,
            }
        ]
    }
    registry = collect_registry(create_plugin_manager())
    channel = Channel(validate_config(data, registry).channels[0], registry, lambda update: None)
    status = channel.status()
    types = {t["name"]: t for t in status["event_types"]}
    controls = {c["key"]: c for c in status["controls"]}
    for kind in DETECTORS:
        assert types[kind]["detector"] == kind
        # never "motion": Home Assistant's camera takes the motion-class detector's switch as
        # its motion detection, which stays the motion detector's
        assert types[kind]["device_class"] == ("occupancy" if kind == "intrusion" else None)
        assert not types[kind]["exception"]
        # each rule is declared: a face offers a sensor per rule
        rule = "line_1" if kind == "line_crossing" else "region_1"
        assert types[kind]["rules"] == [{"id": 1, "name": rule}]
        switch = controls[f"{kind}_detection"]
        assert (switch["kind"], switch["detector"], switch["value"]) == ("switch", kind, True)
        # and one switch per rule, setting the rule's ``enabled``
        own = controls[f"{kind}_rule_1_enabled"]
        assert (own["kind"], own["detector"], own["sets"], own["value"]) == (
            "switch",
            kind,
            "rules.0.enabled",
            True,
        )


def test_a_channel_s_detectors_share_one_tracker_that_works_once_per_picture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    blobs = tracker_module.Tracker._blobs

    def counted(self: tracker_module.Tracker, image: Any, timestamp: float) -> Any:
        calls.append(timestamp)
        return blobs(self, image, timestamp)

    monkeypatch.setattr(tracker_module.Tracker, "_blobs", counted)
    context = DetectorContext("cam", 64, 36, 5.0)
    classes = (
        LineCrossingDetector,
        IntrusionDetector,
        RegionEntranceDetector,
        RegionExitingDetector,
        UnattendedBaggageDetector,
        ObjectRemovalDetector,
    )
    detectors = [cls(cls.CONFIG_SCHEMA(DETECTORS[cls.kind]), context) for cls in classes]
    picture = np.full((36, 64), 90, np.uint8)
    for index in range(3):
        for detector in detectors:
            detector.process(picture, 10.0 + index)
    assert calls == [10.0, 11.0, 12.0]


def test_a_rule_outside_its_own_arming_schedule_or_switched_off_raises_nothing() -> None:
    """Two rules on the same line, one armed on another weekday only: each crossing is raised
    for the armed rule, never for the other (neither its start nor its end); a rule switched
    off raises nothing either."""
    scene = next(s for s in map(line_scene, range(50)) if s.truth)
    today = dt.datetime.now().strftime("%A").lower()
    other_day = "monday" if today != "monday" else "tuesday"
    (rule,) = scene.options["rules"]
    detectors = {
        "line_crossing": {
            "rules": [
                {**rule, "name": "always"},
                {**rule, "name": "weekly", "arming_schedule": {other_day: ["00:00-24:00"]}},
            ]
        }
    }
    data = {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "synthetic", "width": DETECT[0], "height": DETECT[1]},
                "detect": {"width": DETECT[0], "fps": FPS},
                "detectors": detectors,
            }
        ]
    }
    registry = collect_registry(create_plugin_manager())
    config = validate_config(data, registry).channels[0]
    sent: list[tuple[EventPhase, Event]] = []
    detection = DetectorSet(
        "cam",
        config.detectors,
        registry,
        detect_width=DETECT[0],
        detect_fps=FPS,
        armed=lambda: True,
        send=lambda phase, event, _: sent.append((phase, event)),
        notify=lambda: None,
    )
    detection.start(*DETECT)
    now = time.time()
    grey = np.full((DETECT[1] // 2, DETECT[0] // 2), 128, np.uint8)
    for index, picture in enumerate(scene.pictures):
        t = index / FPS
        detection.on_frame(Frame(picture, grey, grey, t, now + t, t))
    assert {event.data["rule"] for _, event in sent} == {"always"}
    assert [phase for phase, _ in sent] == [EventPhase.NEW, EventPhase.END] * len(scene.truth)
    # the same rule armed today raises the same crossings
    armed_today = {**detectors["line_crossing"]["rules"][1], "arming_schedule": "always"}
    detection.set(
        "line_crossing",
        options=LINE_CROSSING_SCHEMA({"rules": [armed_today]}),
    )
    sent.clear()
    for index, picture in enumerate(scene.pictures):
        t = 100 + index / FPS
        detection.on_frame(Frame(picture, grey, grey, t, now + t, t))
    assert [event.data["rule"] for phase, event in sent if phase is EventPhase.NEW] == [
        "weekly"
    ] * len(scene.truth)
    # switched off (its ``enabled`` key, which its switch sets): nothing
    detection.set(
        "line_crossing",
        options=LINE_CROSSING_SCHEMA({"rules": [{**armed_today, "enabled": False}]}),
    )
    sent.clear()
    looked = detection.detections
    for index, picture in enumerate(scene.pictures):
        t = 200 + index / FPS
        detection.on_frame(Frame(picture, grey, grey, t, now + t, t))
    assert detection.detections - looked == len(scene.pictures)  # every picture looked at...
    assert sent == []  # ...and nothing raised
