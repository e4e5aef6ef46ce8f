"""Storage sensors over MQTT on a real Mosquitto: the device declares its storage's status,
capacity, used and free bytes, a recording channel its record state; Home Assistant discovery
gets them as sensors (device class, unit, diagnostic) from the declarations, their values are
published on their state topics and follow the recordings: the record state goes to
``recording`` with manual recording, and the status to ``full`` (with the storage-full
exception) when recording stops at the video quota with overwrite off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..api.test_streams import make_ts
from .conftest import Runtimes, Subscriber, mqtt_block


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("mqtt-storage") / "main.ts", (160, 120))


async def test_storage_and_record_state_sensors(
    runtimes: Runtimes, subscriber: Subscriber, clip: Path
) -> None:
    source = {"type": "file", "path": str(clip), "loop": True}
    channels = [
        {"id": "cam1", "source": source, "record": {"enabled": True, "record_type": "event"}},
        {"id": "cam2", "source": source},
    ]
    runtime, _ = await runtimes.start(channels, mqtt_block(subscriber.broker))
    device = f"camera_runtime_{runtime.device_id}"
    base = f"camera_runtime/{runtime.device_id}"
    cmps = (
        await subscriber.wait_for(lambda: subscriber.last(f"homeassistant/device/{device}/config"))
    ).json()["cmps"]
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

    channel = (
        await subscriber.wait_for(
            lambda: subscriber.last(f"homeassistant/device/{device}_cam1/config")
        )
    ).json()["cmps"]
    state = channel["record_state"]
    assert (state["p"], state["device_class"]) == ("sensor", "enum")
    assert state["options"] == ["off", "idle", "recording", "full", "error"]
    other = (
        await subscriber.wait_for(
            lambda: subscriber.last(f"homeassistant/device/{device}_cam2/config")
        )
    ).json()["cmps"]
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
