"""Recording in a real Home Assistant: a recording channel's manual recording switch and its
record-clip button come from the channel's declarations, with translated names; the switch
starts and stops manual recording on the runtime (the record state sensor follows), the
button records a clip; the runtime's storage-full exception is a problem sensor. The storage
sensors and the record state sensor come from the runtime's declared readings."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tests.camera_runtime.api.test_streams import make_ts
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

SWITCH = "switch.front_door_manual_recording"
RECORDING = "binary_sensor.front_door_recording"
BUTTON = "button.front_door_record_clip"
STATUS = "sensor.test_nvr_storage_status"
CAPACITY = "sensor.test_nvr_storage_capacity"
RECORD_STATE = "sensor.front_door_record_state"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("ha-rec") / "main.ts", (160, 120))


def recording_runtime(clip: Path) -> dict[str, Any]:
    """A runtime whose channel "Front door" records by event, from ``clip``."""
    source = {"type": "file", "path": str(clip), "loop": True}
    return {
        "device": {"name": "Test NVR"},
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam1",
                "name": "Front door",
                "source": source,
                "record": {"enabled": True, "record_type": "event"},
            }
        ],
    }


async def test_manual_recording_switch_and_record_clip_button(
    hass: HomeAssistant, serve: ServeFactory, clip: Path
) -> None:
    served = await serve(recording_runtime(clip))
    await set_up_entry(hass, remote_entry(served))
    switch = hass.states.get(SWITCH)
    assert switch is not None and switch.state == STATE_OFF
    assert switch.attributes["friendly_name"] == "Front door Manual recording"
    assert hass.states.get(BUTTON) is not None
    full = hass.states.get("binary_sensor.test_nvr_storage_full")
    assert full is not None and full.state == STATE_OFF
    assert full.attributes["device_class"] == "problem"

    assert hass.states.get(RECORDING).state == STATE_OFF  # record_type event: idle
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await wait_for_state(hass, SWITCH, lambda state: state == STATE_ON)
    assert served.runtime.recording_status("cam1")["manual"] is True
    # The record state follows the recorder, pushed with the channel's status.
    await wait_for_state(hass, RECORDING, lambda state: state == STATE_ON)
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await wait_for_state(hass, SWITCH, lambda state: state == STATE_OFF)
    await wait_for_state(hass, RECORDING, lambda state: state == STATE_OFF)
    await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: BUTTON}, blocking=True)
    clips = (await served.runtime.recordings_of("cam1"))["clips"]
    assert [c["reason"] for c in clips] == ["manual", "clip"]


async def test_storage_sensors_and_record_state(
    hass: HomeAssistant, serve: ServeFactory, clip: Path
) -> None:
    """The runtime's declared readings are sensors of its device (status as an enum,
    capacity, used and free as data sizes shown in GB, diagnostic), the record state one of
    the channel (it follows manual recording); the device's readings are fetched again every
    minute, so the status turns ``full`` when recording stops at the video quota with
    overwrite off."""
    served = await serve(recording_runtime(clip))
    await set_up_entry(hass, remote_entry(served))
    status = hass.states.get(STATUS)
    assert status is not None and status.state == "normal"
    assert status.attributes["device_class"] == "enum"
    assert status.attributes["options"] == ["normal", "uninitialized", "full", "error"]
    capacity = hass.states.get(CAPACITY)
    assert capacity is not None
    assert capacity.attributes["device_class"] == "data_size"
    assert capacity.attributes["unit_of_measurement"] == "GB"
    total = shutil.disk_usage(served.runtime.recordings.root).total
    assert float(capacity.state) == pytest.approx(total / 1e9, abs=0.01)
    for key in ("storage_used", "storage_free"):
        state = hass.states.get(f"sensor.test_nvr_{key}")
        assert state is not None and float(state.state) >= 0
    registry = er.async_get(hass)
    entry = registry.async_get(CAPACITY)
    assert entry is not None and entry.entity_category is EntityCategory.DIAGNOSTIC

    record = hass.states.get(RECORD_STATE)
    assert record is not None and record.state == "idle"
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    await wait_for_state(hass, RECORD_STATE, lambda state: state == "recording")
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True)

    recordings = served.runtime.recordings
    recordings.overwrite, recordings.quota_bytes = False, 1
    assert recordings.room() is False
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
    await wait_for_state(hass, STATUS, lambda state: state == "full")
