"""A detector removed from a channel between two runs: the bridge remembers (in its outbox
file) which discovery components it published, so the next run sends the removed one as
``{"p": platform}`` (Home Assistant removes the entity) and empties its retained event state,
which a crash in the middle of an event may have left ``ON``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.polling import eventually

from .conftest import Runtimes, Subscriber, discovery_topic, mqtt_block, tick_channel
from .test_stale_channels import retained_on_broker


async def config_after(sub: Subscriber, topic: str, mark: int) -> Any:
    """The first non-empty discovery config on ``topic`` after ``mark``, as JSON."""
    found = await sub.wait_for(
        lambda: next((m for m in sub.messages[mark:] if m.topic == topic and m.payload), None),
        what=f"a config on {topic}",
    )
    return found.json()


def without_detectors(channel_id: str) -> dict[str, Any]:
    return {**tick_channel(channel_id), "detectors": {}}


async def test_detector_removed_between_runs(
    runtimes: Runtimes, subscriber: Subscriber, tmp_path: Path
) -> None:
    config = mqtt_block(subscriber.broker)
    data_dir = tmp_path / "restart"
    first = await runtimes.start([tick_channel("cam1")], config, data_dir=data_dir)
    base = f"camera_runtime/{first[0].device_id}"
    topic = discovery_topic(first[0].device_id, "cam1")
    pulse_state = f"{base}/cam1/pulse"
    cmps = await subscriber.components(first[0].device_id, "cam1")
    assert cmps["pulse"]["p"] == "binary_sensor"
    assert cmps["pulse_detection"]["p"] == "switch"  # its declared control
    await subscriber.wait_for(lambda: subscriber.last(pulse_state), what="the pulse state")
    await runtimes.stop(first)
    # What a crash in the middle of an event leaves on the broker.
    subscriber.publish(pulse_state, "ON", retain=True)
    await subscriber.wait_payload(pulse_state, "ON")

    mark = subscriber.mark()
    second = await runtimes.start([without_detectors("cam1")], config, data_dir=data_dir)
    assert second[0].device_id == first[0].device_id
    cmps = (await config_after(subscriber, topic, mark))["cmps"]
    assert cmps["pulse"] == {"p": "binary_sensor"}  # HA removes the entity
    assert cmps["pulse_detection"] == {"p": "switch"}  # and the detector's switch
    assert not [t for t in cmps["events"]["event_types"] if t.startswith("pulse")]
    assert cmps["video_loss"]["p"] == "binary_sensor"  # what the channel still has stays
    await subscriber.wait_payload(pulse_state, b"", after=mark)
    held = await retained_on_broker(subscriber, f"{base}/test-marker")
    assert pulse_state not in held
    assert f"{base}/cam1/video_loss" in held
    await eventually(
        lambda: pulse_state not in second[1].outbox.retained_topics,
        what="the cleared topic to be forgotten",
    )
    await runtimes.stop(second)

    # A third run still says the component is gone (HA may have been away meanwhile).
    mark = subscriber.mark()
    third = await runtimes.start([without_detectors("cam1")], config, data_dir=data_dir)
    cmps = (await config_after(subscriber, topic, mark))["cmps"]
    assert cmps["pulse"] == {"p": "binary_sensor"}
    assert third[1].outbox.discovery_components["cam1"]["pulse"] == "binary_sensor"
