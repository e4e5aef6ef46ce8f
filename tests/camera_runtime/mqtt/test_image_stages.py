"""An image stage's declared switch over MQTT, on a real Mosquitto: the privacy mask's switch
in the Home Assistant discovery config, its state, and its command, with no change to the
bridge."""

from __future__ import annotations

from .conftest import Runtimes, Subscriber, mqtt_block

SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]


async def test_the_privacy_mask_switch_over_mqtt(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    channel = {
        "id": "cam1",
        "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 10},
        "image": {"privacy_mask": {"areas": [SQUARE]}},
    }
    runtime, _ = await runtimes.start([channel], mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}/cam1"
    cmps = await subscriber.components(runtime.device_id, "cam1")
    switch = cmps["privacy_mask"]
    assert switch["p"] == "switch"
    assert switch["command_topic"] == f"{base}/privacy_mask/set"
    assert switch["state_topic"] == f"{base}/privacy_mask/state"
    assert switch["entity_category"] == "config"

    await subscriber.wait_payload(f"{base}/privacy_mask/state", "ON")
    mark = subscriber.mark()
    subscriber.publish(f"{base}/privacy_mask/set", "OFF")
    await subscriber.wait_payload(f"{base}/privacy_mask/state", "OFF", after=mark)
    assert runtime.channels["cam1"].stages["privacy_mask"].enabled is False
    subscriber.publish(f"{base}/privacy_mask/set", "ON")
    await subscriber.wait_payload(f"{base}/privacy_mask/state", "ON", after=mark)
    assert runtime.channels["cam1"].stages["privacy_mask"].enabled is True
