"""Recording over MQTT on a real Mosquitto: a recording channel declares its manual recording
switch and its record-clip button, so their topics and Home Assistant discovery come with no
change to the bridge; the switch starts and stops manual recording (its state follows) and the
button records a clip; the device's storage-full exception is discovered as a problem sensor."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..api.test_streams import make_ts
from .conftest import Runtimes, Subscriber, mqtt_block


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("mqtt-rec") / "main.ts", (160, 120))


async def test_manual_recording_switch_and_record_clip_button(
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
        await subscriber.wait_for(
            lambda: subscriber.last(f"homeassistant/device/{device}_cam1/config")
        )
    ).json()["cmps"]
    switch, button = cmps["manual_record"], cmps["record_clip"]
    assert (switch["p"], switch["command_topic"]) == ("switch", f"{base}/cam1/manual_record/set")
    assert (button["p"], button["command_topic"]) == ("button", f"{base}/cam1/record_clip/set")
    other = (
        await subscriber.wait_for(
            lambda: subscriber.last(f"homeassistant/device/{device}_cam2/config")
        )
    ).json()["cmps"]
    assert "manual_record" not in other and "record_clip" not in other  # records nothing
    full = (
        await subscriber.wait_for(lambda: subscriber.last(f"homeassistant/device/{device}/config"))
    ).json()["cmps"]["storage_full"]
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
