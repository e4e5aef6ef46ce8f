"""ePTZ over MQTT on a real Mosquitto: the preset select and the patrol, pattern and stop
buttons appear in the Home Assistant discovery config once saved, and their commands call a
preset, start and stop a patrol, run a pattern; a preset that does not exist is answered on the
error topic and changes nothing."""

from __future__ import annotations

from typing import Any

from .conftest import Runtimes, Subscriber, discovery_topic, mqtt_block

SOURCE = {"type": "synthetic", "width": 160, "height": 90, "fps": 25, "objects": [], "noise": 0}


def channel() -> dict[str, Any]:
    return {"id": "cam1", "source": SOURCE, "ptz": {"enabled": True}}


async def test_presets_patrols_and_patterns_are_discovered_and_commanded(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, _ = await runtimes.start([channel()], mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}/cam1"
    topic = discovery_topic(runtime.device_id, "cam1")
    # Nothing saved yet: no select (it needs options), no buttons.
    assert "ptz_preset" not in await subscriber.components(runtime.device_id, "cam1")

    await runtime.ptz_absolute("cam1", {"pan": 0.3, "zoom": 2})
    await runtime.save_preset("cam1", 1, "Door")
    await runtime.ptz_absolute("cam1", {"pan": 0.7, "zoom": 3})
    await runtime.save_preset("cam1", 2, "Yard")
    await runtime.set_patrol("cam1", 1, [{"preset": 1}, {"preset": 2}])
    await runtime.start_pattern_recording("cam1")
    await runtime.save_pattern("cam1", 4)

    def discovered() -> Any:
        found = subscriber.last(topic)
        cmps = found.json()["cmps"] if found else {}
        return cmps if {"ptz_preset", "ptz_patrol_1", "ptz_pattern_4"} <= set(cmps) else None

    cmps = await subscriber.wait_for(discovered, what="the ePTZ controls in discovery")
    select = cmps["ptz_preset"]
    assert (select["p"], select["options"]) == ("select", ["1: Door", "2: Yard"])
    assert select["command_topic"] == f"{base}/ptz_preset/set"
    assert cmps["ptz_patrol_1"]["p"] == "button"
    assert cmps["ptz_stop"]["p"] == "button"

    mark = subscriber.mark()
    subscriber.publish(f"{base}/ptz_preset/set", "1: Door")
    await subscriber.wait_payload(f"{base}/ptz_preset/state", "1: Door", after=mark)
    assert runtime.ptz_status("cam1")["pan"] == 0.3

    subscriber.publish(f"{base}/ptz_patrol_1/set", "PRESS")
    await subscriber.wait_for(lambda: runtime.ptz_status("cam1")["patrol"] == 1, what="patrol")
    subscriber.publish(f"{base}/ptz_stop/set", "PRESS")
    await subscriber.wait_for(lambda: runtime.ptz_status("cam1")["patrol"] is None, what="stop")
    subscriber.publish(f"{base}/ptz_pattern_4/set", "PRESS")
    await subscriber.wait_for(
        lambda: (
            runtime.ptz_status("cam1")["pattern"] in (4, None)
            and runtime.ptz_status("cam1")["zoom"] == 3.0
        ),
        what="the pattern run",
    )

    mark = subscriber.mark()
    subscriber.publish(f"{base}/ptz_preset/set", "9: Nowhere")
    error = await subscriber.wait_for(
        lambda: next((m for m in subscriber.messages[mark:] if m.topic.endswith("/error")), None),
        what="the error answer",
    )
    assert "no preset '9: Nowhere'" in error.payload.decode()
