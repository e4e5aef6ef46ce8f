"""Recording over MQTT on a real Mosquitto: a recording channel declares its manual recording
switch and its record-clip button, so their topics and Home Assistant discovery come with no
change to the bridge; the switch starts and stops manual recording (its state follows) and the
button records a clip; the device's storage-full exception is discovered as a problem sensor;
the storage sensors and the record state come from the declared readings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ..api.test_streams import make_ts
from .conftest import Runtimes, Subscriber, mqtt_block


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("mqtt-rec") / "main.ts", (160, 120))


def two_channels(clip: Path) -> list[dict[str, Any]]:
    """``cam1`` records by event, ``cam2`` records nothing."""
    source = {"type": "file", "path": str(clip), "loop": True}
    return [
        {"id": "cam1", "source": source, "record": {"enabled": True, "record_type": "event"}},
        {"id": "cam2", "source": source},
    ]


async def test_manual_recording_switch_and_record_clip_button(
    runtimes: Runtimes, subscriber: Subscriber, clip: Path
) -> None:
    runtime, _ = await runtimes.start(two_channels(clip), mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}"
    cmps = await subscriber.components(runtime.device_id, "cam1")
    switch, button = cmps["manual_record"], cmps["record_clip"]
    assert (switch["p"], switch["command_topic"]) == ("switch", f"{base}/cam1/manual_record/set")
    assert (button["p"], button["command_topic"]) == ("button", f"{base}/cam1/record_clip/set")
    other = await subscriber.components(runtime.device_id, "cam2")
    assert "manual_record" not in other and "record_clip" not in other  # records nothing
    full = (await subscriber.components(runtime.device_id))["storage_full"]
    assert (full["p"], full["device_class"]) == ("binary_sensor", "problem")
    await subscriber.wait_payload(f"{base}/storage_full", "OFF")

    recorder = runtime.recordings.recorders["cam1"]
    await subscriber.wait_payload(f"{base}/cam1/manual_record/state", "OFF")
    mark = subscriber.mark()
    subscriber.publish(f"{base}/cam1/manual_record/set", "ON")
    await subscriber.wait_payload(f"{base}/cam1/manual_record/state", "ON", after=mark)
    assert runtime.recording_status("cam1")["manual"] is True
    # The record state, in the channel's status (pushed when the recorder starts writing).
    await subscriber.wait_for(
        lambda: [m for m in subscriber.on(f"{base}/cam1/status") if m.json()["recording"]]
    )
    assert recorder.recording
    subscriber.publish(f"{base}/cam1/manual_record/set", "OFF")
    await subscriber.wait_payload(f"{base}/cam1/manual_record/state", "OFF", after=mark)
    subscriber.publish(f"{base}/cam1/record_clip/set", "PRESS")
    # The clip (as the API's record-clip answers it) on the button's state topic.
    pressed = await subscriber.wait_for(lambda: subscriber.on(f"{base}/cam1/record_clip/state"))
    assert pressed[0].json()["reason"] == "clip"
    reasons = [c["reason"] for c in (await runtime.recordings_of("cam1"))["clips"]]
    assert reasons == ["manual", "clip"]


async def test_storage_and_record_state_sensors(
    runtimes: Runtimes, subscriber: Subscriber, clip: Path
) -> None:
    """The device declares its storage's status,
    capacity, used and free bytes, a recording channel its record state; Home Assistant discovery
    gets them as sensors (device class, unit, diagnostic) from the declarations, their values are
    published on their state topics and follow the recordings: the record state goes to
    ``recording`` with manual recording, and the status to ``full`` (with the storage-full
    exception) when recording stops at the video quota with overwrite off."""
    runtime, _ = await runtimes.start(two_channels(clip), mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}"
    cmps = await subscriber.components(runtime.device_id)
    status = cmps["storage_status"]
    assert status["p"] == "sensor" and status["device_class"] == "enum"
    assert status["options"] == ["normal", "uninitialized", "full", "error"]
    assert status["state_topic"] == f"{base}/storage_status/state"
    for key in ("storage_capacity", "storage_used", "storage_free"):
        sensor = cmps[key]
        assert (sensor["device_class"], sensor["unit_of_measurement"]) == ("data_size", "B")
        assert (sensor["state_class"], sensor["entity_category"]) == ("measurement", "diagnostic")
    assert "uploads_pending" not in cmps  # no upload target
    await subscriber.wait_payload(f"{base}/storage_status/state", "normal")
    capacity = await subscriber.wait_for(lambda: subscriber.last(f"{base}/storage_capacity/state"))
    assert int(capacity.payload) == shutil.disk_usage(runtime.recordings.root).total
    free = await subscriber.wait_for(lambda: subscriber.last(f"{base}/storage_free/state"))
    assert 0 < int(free.payload) <= int(capacity.payload)

    channel = await subscriber.components(runtime.device_id, "cam1")
    state = channel["record_state"]
    assert (state["p"], state["device_class"]) == ("sensor", "enum")
    assert state["options"] == ["off", "idle", "recording", "full", "error"]
    other = await subscriber.components(runtime.device_id, "cam2")
    assert "record_state" not in other  # records nothing
    await subscriber.wait_payload(f"{base}/cam1/record_state/state", "idle")
    mark = subscriber.mark()
    subscriber.publish(f"{base}/cam1/manual_record/set", "ON")
    await subscriber.wait_payload(f"{base}/cam1/record_state/state", "recording", after=mark)
    subscriber.publish(f"{base}/cam1/manual_record/set", "OFF")

    # Overwrite off and the quota reached: recording stops, the storage is full.
    recordings = runtime.recordings
    recordings.overwrite, recordings.quota_bytes = False, 1
    assert recordings.room() is False
    await subscriber.wait_payload(f"{base}/storage_full", "ON")
    await subscriber.wait_payload(f"{base}/storage_status/state", "full")
    info = runtime.device_info()
    assert {s["key"]: s["value"] for s in info["sensors"]}["storage_status"] == "full"
    recordings.quota_bytes = 0
    assert recordings.room() is True
    await subscriber.wait_payload(f"{base}/storage_full", "OFF")
    await subscriber.wait_payload(f"{base}/storage_status/state", "normal", after=mark)
