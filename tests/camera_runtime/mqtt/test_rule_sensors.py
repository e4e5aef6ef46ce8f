"""A binary sensor per smart event rule over MQTT on a real Mosquitto: announced to Home
Assistant's discovery from the detectors' declared rules, ON while the rule's event lasts with
the rule's attributes (its id, name and type, the target's box, track id and direction), quiet
outside the rule's arming schedule, removed when the rule is deleted and announced again when
one is added, while the runtime runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from camera_runtime.runtime import Runtime

from .conftest import Runtimes, Subscriber, discovery_topic, motion_channel, mqtt_block

REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]
MIDDLE = {"name": "middle", "line": [[0.5, 0.02], [0.5, 0.98]]}


def other_day() -> str:
    today = dt.datetime.now().strftime("%A").lower()
    return "monday" if today != "monday" else "tuesday"


def rules_channel(channel_id: str) -> dict[str, Any]:
    """The motion test camera (a box crossing left to right every 3 s) with a region and two
    rules on one line, the second armed on another weekday only."""
    channel = motion_channel(channel_id)
    channel["detect"] = {"fps": 15}
    weekly = {**MIDDLE, "name": "weekly", "arming_schedule": {other_day(): ["00:00-24:00"]}}
    channel["detectors"] = {
        "line_crossing": {"rules": [MIDDLE, weekly]},
        "intrusion": {"rules": [{"name": "yard", "region": REGION}]},
    }
    return channel


async def start(runtimes: Runtimes, subscriber: Subscriber) -> tuple[Runtime, str, str]:
    """The rules camera started: its runtime, its channel's topic base and discovery topic."""
    runtime, _ = await runtimes.start([rules_channel("cam1")], mqtt_block(subscriber.broker))
    base = f"camera_runtime/{runtime.device_id}/cam1"
    return runtime, base, discovery_topic(runtime.device_id, "cam1")


async def test_each_rule_has_its_binary_sensor_with_attributes(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, base, config = await start(runtimes, subscriber)
    node = f"camera_runtime_{runtime.device_id}_cam1"
    cmps = (await subscriber.wait_for(lambda: subscriber.last(config))).json()["cmps"]
    for key, name, state_topic in (
        ("line_crossing_rule_1", "Line crossing middle", f"{base}/line_crossing/rule_1"),
        ("line_crossing_rule_2", "Line crossing weekly", f"{base}/line_crossing/rule_2"),
        ("intrusion_rule_1", "Intrusion yard", f"{base}/intrusion/rule_1"),
    ):
        sensor = cmps[key]
        assert (sensor["p"], sensor["name"], sensor["unique_id"]) == (
            "binary_sensor",
            name,
            f"{node}_{key}",
        )
        assert sensor["state_topic"] == state_topic
        assert sensor["json_attributes_topic"] == f"{state_topic}/attributes"
        assert (sensor["payload_on"], sensor["payload_off"]) == ("ON", "OFF")
    assert cmps["intrusion_rule_1"]["device_class"] == "occupancy"

    # before any event: OFF, and the attributes say which rule it is
    attributes = await subscriber.wait_for(
        lambda: subscriber.last(f"{base}/intrusion/rule_1/attributes")
    )
    assert attributes.json() == {
        "rule_id": 1,
        "rule": "yard",
        "event_type": "intrusion",
        "box": None,
        "track_id": None,
        "direction": None,
    }
    # the box walks into the region: ON, with its target; it walks out: OFF
    await subscriber.wait_payload(f"{base}/intrusion/rule_1", "ON", within=20)
    target = subscriber.last(f"{base}/intrusion/rule_1/attributes")
    assert target is not None and isinstance(target.json()["track_id"], int)
    assert set(target.json()["box"]) == {"x", "y", "w", "h"}
    mark = subscriber.mark()
    await subscriber.wait_payload(f"{base}/intrusion/rule_1", "OFF", after=mark, within=20)

    # a crossing of the line: rule 1 goes ON then OFF with the direction; rule 2, outside
    # its arming schedule, stays OFF and its event is not raised at all
    await subscriber.wait_payload(f"{base}/line_crossing/rule_1", "ON", within=20)
    crossing = subscriber.last(f"{base}/line_crossing/rule_1/attributes")
    assert crossing is not None and crossing.json()["direction"] == "B->A"
    assert crossing.json()["rule"] == "middle"
    assert [m.payload for m in subscriber.on(f"{base}/line_crossing/rule_2")] == [b"OFF"]
    events = [m.json() for m in subscriber.on(f"{base}/events")]
    assert {e["data"]["rule"] for e in events if e["event_type"] == "line_crossing"} == {"middle"}


async def test_rules_deleted_and_added_at_run_time_leave_and_reach_discovery(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, base, config = await start(runtimes, subscriber)

    def components() -> dict[str, Any]:
        last = subscriber.last(config)
        return last.json()["cmps"] if last is not None else {}

    await subscriber.wait_for(lambda: "line_crossing_rule_2" in components())
    await subscriber.wait_for(lambda: subscriber.last(f"{base}/line_crossing/rule_2"))

    # rule 2 deleted (through the runtime, as the API does): HA is told to remove its sensor
    # (the component with its platform only), and its retained state and attributes are cleared
    mark = subscriber.mark()
    await runtime.set_detector("cam1", "line_crossing", options={"rules": [MIDDLE]})
    await subscriber.wait_for(
        lambda: components().get("line_crossing_rule_2") == {"p": "binary_sensor"},
        what="rule 2's component removed",
    )
    assert components()["line_crossing_rule_1"]["name"] == "Line crossing middle"
    await subscriber.wait_payload(f"{base}/line_crossing/rule_2", b"", after=mark)
    await subscriber.wait_payload(f"{base}/line_crossing/rule_2/attributes", b"", after=mark)

    # a new rule: announced, no restart
    gate = {"name": "gate", "line": [[0.2, 0.02], [0.2, 0.98]], "direction": "A->B"}
    await runtime.set_detector("cam1", "line_crossing", options={"rules": [MIDDLE, gate]})
    await subscriber.wait_for(
        lambda: components().get("line_crossing_rule_2", {}).get("name") == "Line crossing gate",
        what="rule 2's sensor announced again",
    )
    await subscriber.wait_for(
        lambda: (
            (last := subscriber.last(f"{base}/line_crossing/rule_2/attributes")) is not None
            and last.payload
            and last.json()["rule"] == "gate"
        ),
        what="rule 2's attributes published again",
    )


async def test_a_rule_s_switch_turns_the_rule_off(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    runtime, base, config = await start(runtimes, subscriber)
    cmps = (await subscriber.wait_for(lambda: subscriber.last(config))).json()["cmps"]
    switch = cmps["line_crossing_rule_1_enabled"]
    assert (switch["p"], switch["name"]) == ("switch", "Line crossing rule middle")
    assert switch["command_topic"] == f"{base}/line_crossing_rule_1_enabled/set"
    assert switch["entity_category"] == "config"
    await subscriber.wait_payload(f"{base}/line_crossing_rule_1_enabled/state", "ON")

    mark = subscriber.mark()
    subscriber.publish(f"{base}/line_crossing_rule_1_enabled/set", "OFF")
    await subscriber.wait_payload(f"{base}/line_crossing_rule_1_enabled/state", "OFF", after=mark)
    options = runtime.channels["cam1"].detectors["line_crossing"].options
    assert [rule["enabled"] for rule in options["rules"]] == [False, True]
    assert [rule["name"] for rule in options["rules"]] == ["middle", "weekly"]
    # a whole walk through the region (and across the line) after the switch: no crossing
    on = await subscriber.wait_payload(f"{base}/intrusion/rule_1", "ON", after=mark, within=20)
    after_on = subscriber.messages.index(on)
    await subscriber.wait_payload(f"{base}/intrusion/rule_1", "OFF", after=after_on, within=20)
    crossings = [
        m.json()
        for m in subscriber.messages[after_on:]
        if m.topic == f"{base}/events" and m.json()["event_type"] == "line_crossing"
    ]
    assert crossings == []
