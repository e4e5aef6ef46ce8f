"""Recording in a real Home Assistant: a recording channel's manual recording switch and its
record-clip button come from the channel's declarations, with translated names; the switch
starts and stops manual recording on the runtime (the record state sensor follows), the
button records a clip; the runtime's storage-full exception is a problem sensor."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant

from tests.camera_runtime.api.test_streams import make_ts
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

SWITCH = "switch.front_door_manual_recording"
RECORDING = "binary_sensor.front_door_recording"
BUTTON = "button.front_door_record_clip"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("ha-rec") / "main.ts", (160, 120))


async def test_manual_recording_switch_and_record_clip_button(
    hass: HomeAssistant, serve: ServeFactory, clip: Path
) -> None:
    source = {"type": "file", "path": str(clip), "loop": True}
    data = {
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
    served = await serve(data)
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
