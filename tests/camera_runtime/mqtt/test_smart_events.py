"""The smart-event detectors over MQTT on a real Mosquitto: their binary sensors, switches and event types reach Home Assistant's discovery from their declarations alone, a synthetic box crossing a line raises a real line crossing event, and a channel detecting in the detection process declares its skipped pictures and its process's restarts."""

from __future__ import annotations

import os
import signal
from typing import Any

from camera_runtime.detection_process import DetectionProcess

from .conftest import Runtimes, Subscriber, motion_channel, mqtt_block

REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]


def smart_channel(channel_id: str) -> dict[str, Any]:
    """The motion test camera (a box crossing left to right every 3 s) with the four smart
    detectors instead of motion."""
    channel = motion_channel(channel_id)
    channel["detect"] = {"fps": 15}
    channel["detectors"] = {
        "line_crossing": {"rules": [{"name": "middle", "line": [[0.5, 0.02], [0.5, 0.98]]}]},
        "intrusion": {"rules": [{"region": REGION}]},
        "region_entrance": {"rules": [{"region": REGION}]},
        "region_exiting": {"rules": [{"region": REGION}]},
    }
    return channel


async def test_smart_detectors_reach_discovery_and_raise_events(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start([smart_channel("cam1")], mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}/cam1"
    cmps = await subscriber.components(runtime.device_id, "cam1")
    for kind, label in (
        ("line_crossing", "Line crossing"),
        ("intrusion", "Intrusion"),
        ("region_entrance", "Region entrance"),
        ("region_exiting", "Region exiting"),
    ):
        assert cmps[kind]["p"] == "binary_sensor" and cmps[kind]["name"] == label
        assert cmps[kind]["state_topic"] == f"{base}/{kind}"
        assert cmps[kind].get("device_class") == ("occupancy" if kind == "intrusion" else None)
        switch = cmps[f"{kind}_detection"]
        assert switch["p"] == "switch" and switch["command_topic"] == f"{base}/{kind}_detection/set"
        assert {f"{kind}_new", f"{kind}_end"} <= set(cmps["events"]["event_types"])

    def crossing() -> list[Any]:
        return [
            m.json()
            for m in subscriber.on(f"{base}/events")
            if m.json()["event_type"] == "line_crossing" and m.json()["type"] == "new"
        ]

    (first, *_) = await subscriber.wait_for(crossing, within=20, what="a line crossing event")
    data = first["data"]
    # the box goes left to right; the line runs top to bottom, so left is side B
    assert (data["rule"], data["rule_id"], data["direction"]) == ("middle", 1, "B->A")
    assert 0.2 < data["box"]["x"] + data["box"]["w"] / 2 < 0.8

    # the switch turns it off, through the declared control
    mark = subscriber.mark()
    subscriber.publish(f"{base}/line_crossing_detection/set", "OFF")
    await subscriber.wait_payload(f"{base}/line_crossing_detection/state", "OFF", after=mark)
    assert runtime.channels["cam1"].detectors["line_crossing"].enabled is False


async def test_a_detection_process_declares_its_skipped_pictures(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    """A channel whose detectors run in the detection process (``detect.process``) declares
    the readings ``detections_skipped`` and ``detection_restarts``: discovery makes them
    diagnostic sensors counting up; the skipped pictures' state (those before the process was
    up, at first) counts the pictures skipped while the process cannot take them (stopped
    here with SIGSTOP until the channel's 16 slots are full); a channel detecting inline
    declares nothing of the kind."""
    remote = smart_channel("cam1")
    remote["detect"]["process"] = True
    runtime, _ = await runtimes.start(
        [remote, smart_channel("cam2")], mqtt_block(subscriber.broker)
    )
    base = f"camera_runtime/{runtime.device_id}/cam1"
    cmps = await subscriber.components(runtime.device_id, "cam1")
    restarts = cmps["detection_restarts"]
    assert (restarts["state_class"], restarts["entity_category"]) == (
        "total_increasing",
        "diagnostic",
    )
    sensor = cmps["detections_skipped"]
    assert (sensor["p"], sensor["unit_of_measurement"]) == ("sensor", "pictures")
    assert (sensor["state_class"], sensor["entity_category"]) == ("total_increasing", "diagnostic")
    assert sensor["state_topic"] == f"{base}/detections_skipped/state"
    inline = await subscriber.components(runtime.device_id, "cam2")
    assert "detections_skipped" not in inline and "detection_restarts" not in inline
    await subscriber.wait_payload(f"{base}/detection_restarts/state", "0")
    topic = f"{base}/detections_skipped/state"

    def started() -> int | None:  # with the channel's first picture handed over
        process = DetectionProcess._shared
        detected = runtime.channels["cam1"].detections > 0
        return process.pid if process is not None and detected else None

    pid = await subscriber.wait_for(started, what="the detection process taking pictures")
    before = runtime.channels["cam1"].detections_skipped  # the pictures before it was up
    await subscriber.wait_payload(topic, str(before))
    os.kill(pid, signal.SIGSTOP)
    try:
        skipped = await subscriber.wait_for(
            lambda: [m for m in subscriber.on(topic) if int(m.payload) > before],
            within=30,
            what="pictures skipped while the detection process is stopped",
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    # the count only grows: what was published is at most what the channel counts now
    assert before < int(skipped[0].payload) <= runtime.channels["cam1"].detections_skipped
