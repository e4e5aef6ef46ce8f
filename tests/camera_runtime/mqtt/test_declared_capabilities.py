"""A detector defined only in a test (``tests/tamper.py``) over MQTT, on a real Mosquitto: its
binary sensor, switch, number and select in the Home Assistant discovery config, their states,
their commands, and its events on the event topic, with no change to the bridge."""

from __future__ import annotations

from tests.tamper import TamperPlugin, tamper_channel

from .conftest import Runtimes, Subscriber, mqtt_block


async def test_a_plugin_s_declarations_become_topics_and_discovery(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start(
        [tamper_channel("cam1")], mqtt_block(subscriber.broker), plugins=(TamperPlugin(),)
    )
    base = f"camera_runtime/{runtime.device_id}/cam1"
    cmps = await subscriber.components(runtime.device_id, "cam1")
    assert cmps["tamper"] | {"unique_id": ""} == {
        "p": "binary_sensor",
        "name": "Tamper",
        "unique_id": "",
        "state_topic": f"{base}/tamper",
        "payload_on": "ON",
        "payload_off": "OFF",
        "device_class": "tamper",
    }
    assert cmps["tamper_detection"]["p"] == "switch"
    assert cmps["tamper_detection"]["command_topic"] == f"{base}/tamper_detection/set"
    assert cmps["tamper_detection"]["entity_category"] == "config"
    number = cmps["tamper_sensitivity"]
    assert (number["p"], number["min"], number["max"], number["step"]) == ("number", 0, 100, 1)
    select = cmps["tamper_method"]
    assert (select["p"], select["options"]) == ("select", ["cover", "defocus", "turn"])
    assert {"tamper_new", "tamper_end", "video_loss_new"} <= set(cmps["events"]["event_types"])

    # States of the declared controls, and commands on their topics.
    await subscriber.wait_payload(f"{base}/tamper_sensitivity/state", "0")
    await subscriber.wait_payload(f"{base}/tamper_method/state", "cover")
    await subscriber.wait_payload(f"{base}/tamper", "OFF")
    mark = subscriber.mark()
    subscriber.publish(f"{base}/tamper_sensitivity/set", "100")
    await subscriber.wait_payload(f"{base}/tamper_sensitivity/state", "100", after=mark)
    await subscriber.wait_payload(f"{base}/tamper", "ON", after=mark)  # the event started
    new = await subscriber.wait_for(
        lambda: [
            m for m in subscriber.on(f"{base}/events")[0:] if m.json()["event_type"] == "tamper"
        ]
    )
    assert new[0].json()["type"] == "new" and new[0].json()["data"] == {"method": "cover"}
    subscriber.publish(f"{base}/tamper_method/set", "turn")
    await subscriber.wait_payload(f"{base}/tamper_method/state", "turn", after=mark)
    subscriber.publish(f"{base}/tamper_sensitivity/set", "0")
    await subscriber.wait_payload(f"{base}/tamper", "OFF", after=mark)  # ... and ended
    subscriber.publish(f"{base}/tamper_detection/set", "OFF")
    await subscriber.wait_payload(f"{base}/tamper_detection/state", "OFF", after=mark)
    detector = runtime.channels["cam1"].detectors["tamper"]
    assert (detector.enabled, detector.options["method"]) == (False, "turn")

    # Values the schema refuses are answered on the error topic and change nothing.
    error_topic = f"camera_runtime/{runtime.device_id}/error"
    for key, payload, reason in (
        ("tamper_sensitivity", "150", "expected a whole number from 0 to 100"),
        ("tamper_method", "melt", "expected one of cover, defocus, turn"),
    ):
        subscriber.publish(f"{base}/{key}/set", payload)
        answer = await subscriber.wait_for(
            lambda key=key: [m for m in subscriber.on(error_topic) if key in m.json()["topic"]]
        )
        assert reason in answer[0].json()["error"]
    assert runtime.channels["cam1"].detectors["tamper"].options["method"] == "turn"
