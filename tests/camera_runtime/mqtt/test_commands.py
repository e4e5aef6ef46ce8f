"""Commands over MQTT: each one applied and echoed; every bad payload changes nothing, is
answered on the error topic and leaves the bridge working (TESTPLAN B7 for the topics)."""

from __future__ import annotations

import json

import pytest

from .conftest import Runtimes, Subscriber, motion_channel, mqtt_block


@pytest.fixture
async def yard(runtimes: Runtimes, subscriber: Subscriber) -> tuple[str, object]:
    runtime, _ = await runtimes.start([motion_channel("yard")], mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}"
    await subscriber.wait_payload(f"{base}/availability", "online")
    await subscriber.wait_payload(f"{base}/yard/arming/state", "ON")
    return base, runtime


async def test_arming_command_is_applied_and_echoed(yard: tuple, subscriber: Subscriber) -> None:
    base, runtime = yard
    mark = subscriber.mark()
    subscriber.publish(f"{base}/yard/arming/set", "OFF")
    await subscriber.wait_payload(f"{base}/yard/arming/state", "OFF", after=mark)
    assert runtime.channels["yard"].armed is False
    mark = subscriber.mark()
    subscriber.publish(f"{base}/yard/arming/set", "ON")
    await subscriber.wait_payload(f"{base}/yard/arming/state", "ON", after=mark)
    assert runtime.channels["yard"].armed is True
    # Sending the current state again is echoed too (a client gets its confirmation).
    mark = subscriber.mark()
    subscriber.publish(f"{base}/yard/arming/set", "ON")
    await subscriber.wait_payload(f"{base}/yard/arming/state", "ON", after=mark)


async def test_changes_made_elsewhere_are_echoed(yard: tuple, subscriber: Subscriber) -> None:
    base, runtime = yard
    await runtime.set_armed("yard", False)  # as the HTTP API or Home Assistant would
    await subscriber.wait_payload(f"{base}/yard/arming/state", "OFF")
    await runtime.set_detector("yard", "motion", options={"sensitivity": 33})
    await subscriber.wait_payload(f"{base}/yard/motion_sensitivity/state", "33")


async def test_motion_detection_and_sensitivity_commands(
    yard: tuple, subscriber: Subscriber
) -> None:
    base, runtime = yard
    await subscriber.wait_payload(f"{base}/yard/motion_detection/state", "ON")
    mark = subscriber.mark()
    subscriber.publish(f"{base}/yard/motion_detection/set", "OFF")
    await subscriber.wait_payload(f"{base}/yard/motion_detection/state", "OFF", after=mark)
    assert runtime.channels["yard"].detectors["motion"].enabled is False
    subscriber.publish(f"{base}/yard/motion_sensitivity/set", "75")
    await subscriber.wait_payload(f"{base}/yard/motion_sensitivity/state", "75", after=mark)
    assert runtime.channels["yard"].detectors["motion"].options["sensitivity"] == 75
    subscriber.publish(f"{base}/yard/motion_sensitivity/set", "40.0")  # HA may send a float
    await subscriber.wait_payload(f"{base}/yard/motion_sensitivity/state", "40", after=mark)


async def test_capture_command_answers_with_the_capture(
    yard: tuple, subscriber: Subscriber
) -> None:
    base, _ = yard
    subscriber.publish(f"{base}/yard/capture/set", "PRESS")
    message = await subscriber.wait_for(lambda: subscriber.last(f"{base}/yard/capture/state"))
    result = message.json()
    assert result["channel"] == "yard"
    assert result["size"] > 1000
    assert result["url"].endswith(".jpg")


BAD = [
    ("arming", "on"),
    ("arming", "TRUE"),
    ("arming", '{"state": "ON"}'),
    ("arming", ""),
    ("arming", b"\xff\xfe"),
    ("motion_detection", "1"),
    ("motion_detection", "ON\r\nOFF"),
    ("motion_sensitivity", "101"),
    ("motion_sensitivity", "-1"),
    ("motion_sensitivity", "50.5"),
    ("motion_sensitivity", "fifty"),
    ("motion_sensitivity", '{"value": 50}'),
    ("motion_sensitivity", "9" * 300),
    ("capture", "press"),
    ("capture", "[]"),
    ("unknown_feature", "ON"),
]


@pytest.mark.parametrize(("feature", "payload"), BAD)
async def test_bad_payloads_change_nothing_and_are_answered(
    yard: tuple, subscriber: Subscriber, feature: str, payload: str | bytes
) -> None:
    base, runtime = yard
    channel = runtime.channels["yard"]
    before = (channel.armed, channel.detectors["motion"])
    subscriber.publish(f"{base}/yard/{feature}/set", payload)
    error = await subscriber.wait_for(lambda: subscriber.last(f"{base}/error"))
    body = error.json()
    assert body["topic"] == f"{base}/yard/{feature}/set"
    assert body["error"]
    assert "\r" not in body["payload"] and "\n" not in body["payload"]
    assert len(body["payload"]) <= 67
    assert (channel.armed, channel.detectors["motion"]) == before
    assert not subscriber.on(f"{base}/yard/capture/state")
    # The bridge still works.
    mark = subscriber.mark()
    subscriber.publish(f"{base}/yard/arming/set", "OFF")
    await subscriber.wait_payload(f"{base}/yard/arming/state", "OFF", after=mark)


async def test_unknown_channel_and_expert_mode_are_refused(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    expert = motion_channel("garden")
    expert["detectors"]["motion"] = {"mode": "expert", "day_sensitivity": 40}
    runtime, _ = await runtimes.start([expert], mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}"
    await subscriber.wait_payload(f"{base}/availability", "online")
    subscriber.publish(f"{base}/garden/motion_sensitivity/set", "50")
    error = await subscriber.wait_for(lambda: subscriber.last(f"{base}/error"))
    # In expert mode the detector offers no sensitivity control (it has two, by day and by
    # night, set through the options): the command names the controls it has.
    assert error.json()["error"] == (
        "unknown command 'motion_sensitivity'; known: arming, capture, display_info, motion_detection"
    )
    assert runtime.channels["garden"].detectors["motion"].options.get("sensitivity") == 50
    for channel in ("nosuch", "..", "%2e%2e"):
        subscriber.publish(f"{base}/{channel}/arming/set", "OFF")
        message = await subscriber.wait_for(
            lambda channel=channel: [
                m for m in subscriber.on(f"{base}/error") if f"/{channel}/" in m.json()["topic"]
            ]
        )
        assert "no channel" in json.loads(message[0].payload)["error"]
    assert runtime.channels["garden"].armed is True
