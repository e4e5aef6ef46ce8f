"""Linkage across the faces and when things fail: fired rules and the resources' events on
MQTT through the bridge (the resources reaching the `mqtt:` section's broker by default),
an alarm output that clears itself after its delay, and credentials kept out of the logs
when an action fails."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from camera_runtime.host import compose, runtime_from_data
from tests.camera_runtime.mqtt.conftest import Subscriber
from tests.mosquitto import Mosquitto
from tests.polling import eventually

from .conftest import Receiver, StartRuntime, channel, config

BELL = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}


async def test_fired_rules_and_source_events_go_out_on_mqtt(
    broker: Mosquitto, tmp_path: Any
) -> None:
    siren = {"id": "siren", "type": "alarm_output", "mqtt": {"topic": "home/siren/set"}}
    rule = {"id": "ring", "source": "bell", "event": "doorbell_ring",
            "actions": [{"resource": "siren", "action": "alarm_output"}]}  # fmt: skip
    data = {
        "zeroconf": {"enabled": False},
        "channels": [channel("cam1")],
        "mqtt": {"host": broker.host, "port": broker.port, "discovery": False},
        "linkage": {"resources": [BELL, siren], "rules": [rule]},
    }
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    compose(runtime, api=False)
    subscriber = Subscriber(broker, asyncio.get_running_loop())
    await subscriber.start("#")
    await runtime.start()
    try:
        async with asyncio.timeout(10):  # the siren uses the mqtt: section's broker
            await runtime.linkage._resources["siren"].transport.wait_connected()  # type: ignore[attr-defined]
        await runtime.linkage.receive("bell", {"event": "doorbell_ring"})

        def fired() -> dict[str, Any] | None:
            for m in subscriber.messages:
                if not m.topic.endswith("/events"):
                    continue
                body = m.json()
                if body.get("event_type") == "linkage_fired" and body["type"] == "end":
                    return body  # type: ignore[no-any-return]
            return None

        body = await subscriber.wait_for(fired, what="the linkage_fired end on MQTT")
        assert body["data"]["actions"][0]["outcome"] == "ok"
        assert body["data"]["trigger"]["source"] == "bell"
        assert any(
            m.topic.endswith("/events") and m.json().get("event_type") == "doorbell_ring"
            for m in subscriber.messages
        )
        siren_set = await subscriber.wait_for(lambda: subscriber.last("home/siren/set"))
        assert siren_set.json()["state"] == "on"
    finally:
        await runtime.stop()
        subscriber.stop()


async def test_an_alarm_output_with_a_delay_clears_itself(
    start_runtime: StartRuntime, receiver: Receiver
) -> None:
    siren = {"id": "siren", "type": "alarm_output", "delay": 5, "http": {"url": receiver.url}}
    runtime, _ = await start_runtime(config({"resources": [siren]}))
    outcome = await runtime.linkage.run("siren", "alarm_output")
    assert outcome["outcome"] == "ok" and outcome["result"]["state"] == "on"
    await receiver.wait(2, within=15)  # on, then off 5 s later
    assert [b["state"] for b in receiver.bodies] == ["on", "off"]
    # Its state follows once the server answered the "off".
    await eventually(
        lambda: (
            not next(r for r in runtime.linkage.resources() if r["id"] == "siren")["state"]["on"]
        )
    )


async def test_a_failing_action_logs_no_credentials(
    start_runtime: StartRuntime, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = receiver.url.replace("http://", "http://door:s3cret-Pass@")
    door = {
        "id": "door",
        "type": "door",
        "http": {"url": url, "headers": {"Authorization": "Bearer t0ken-XYZ"}},
    }
    rule = {"id": "r", "source": "bell", "event": "doorbell_ring",
            "actions": [{"resource": "door", "action": "open_door"}]}  # fmt: skip
    runtime, watch = await start_runtime(config({"resources": [BELL, door], "rules": [rule]}))
    receiver.fail = 5
    caplog.set_level(logging.DEBUG)
    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("r")
    assert fired["actions"][0]["outcome"] == "failed"
    assert "linkage action open_door on door failed after 2 attempt(s)" in caplog.text
    for secret in ("s3cret-Pass", "t0ken-XYZ"):
        assert secret not in caplog.text
        assert secret not in str(fired)


async def test_arming_schedules_of_alarm_inputs_and_outputs(
    start_runtime: StartRuntime, receiver: Receiver
) -> None:
    never: dict[str, list[str]] = {}  # no period on any day: never armed
    resources = [
        {"id": "night", "type": "alarm_input", "arming_schedule": never},
        {"id": "always", "type": "alarm_input"},
        {"id": "siren", "type": "alarm_output", "arming_schedule": never,
         "http": {"url": receiver.url}},
    ]  # fmt: skip
    rules = [
        {"id": "r", "source": "always", "event": "alarm_input",
         "actions": [{"resource": "siren", "action": "alarm_output"}]},
    ]  # fmt: skip
    runtime, watch = await start_runtime(config({"resources": resources, "rules": rules}))
    await runtime.linkage.receive("night", {"state": "closed"})  # outside its schedule
    await runtime.linkage.receive("always", {"state": "closed"})
    fired = await watch.fired("r")
    sources = [u.event.data["source"] for u in watch.updates if u.event.type == "alarm_input"]
    assert sources == ["always"]
    # The rule reached the siren outside the siren's own schedule: nothing sent.
    assert fired["actions"][0]["result"] == {
        "skipped": "outside the alarm output's arming schedule"
    }
    assert receiver.bodies == []
    # By hand it answers whatever its schedule.
    assert (await runtime.linkage.run("siren", "alarm_output"))["result"]["state"] == "on"
    assert [b["state"] for b in await receiver.wait(1)] == ["on"]


async def test_an_alarm_input_may_raise_an_event_type_of_its_own(
    start_runtime: StartRuntime,
) -> None:
    resources = [
        {"id": "garage", "type": "alarm_input", "event_type": "garage_contact"},
        {"id": "window", "type": "alarm_input"},
        {"id": "hall", "type": "alarm_input"},
    ]
    rule = {"id": "r", "source": "garage", "event": "garage_contact",
            "actions": [{"resource": "cam1", "action": "capture_picture"}]}  # fmt: skip
    runtime, watch = await start_runtime(config({"resources": resources, "rules": [rule]}))
    declared = {t["name"]: t for t in runtime.device_info()["event_types"]}
    assert declared["garage_contact"]["sources"] == ["garage"]
    assert declared["garage_contact"]["label"] == "Alarm input garage"
    assert declared["alarm_input"]["sources"] == ["window", "hall"]
    assert runtime.linkage.rules()[0]["active"] is True
    await runtime.linkage.receive("garage", {"state": "closed"})
    assert (await watch.fired("r"))["trigger"]["type"] == "garage_contact"
