"""Linkage actions end to end on real parts: a doorbell or an alarm input (HTTP and MQTT)
fires rules whose actions capture on a channel, switch a privacy mask, arm and disarm,
command a door over a real Mosquitto broker, notify a real HTTP alarm server, send email to a
real SMTP server; a failing action is retried, then reported."""

from __future__ import annotations

import asyncio
import email
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from camera_runtime.model import Event, EventPhase, EventUpdate
from tests.camera_runtime.mqtt.conftest import Subscriber
from tests.mosquitto import Mosquitto
from tests.polling import eventually
from tests.ports import free_port

from .conftest import Receiver, StartRuntime, config

BELL = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}


def _rule(rule_id: str, source: str, event: str, *links: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "source": source,
        "event": event,
        "actions": [{"resource": r, "action": a} for r, a in links],
    }


async def _picture(runtime: Any, channel: str) -> None:
    await eventually(lambda: runtime.has_picture(channel), within=20)


async def test_a_doorbell_press_captures_a_picture_on_a_camera(start_runtime: StartRuntime) -> None:
    rule = _rule("ring", "bell", "doorbell_ring", ("cam1", "capture_picture"))
    runtime, watch = await start_runtime(config({"resources": [BELL], "rules": [rule]}))
    await _picture(runtime, "cam1")
    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("ring")
    (outcome,) = fired["actions"]
    assert outcome["outcome"] == "ok" and outcome["resource"] == "cam1"
    capture = outcome["result"]
    assert runtime.capture_file(capture["id"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert fired["trigger"]["type"] == "doorbell_ring" and fired["trigger"]["source"] == "bell"
    # The record is in the history, where the API's log reads it.
    (logged,) = await runtime.linkage.log()
    assert logged["data"]["actions"][0]["outcome"] == "ok"
    assert runtime.linkage.status()["fired"] == 1


async def test_arm_disarm_and_privacy_mask_actions(start_runtime: StartRuntime) -> None:
    data = config(
        {
            "resources": [BELL],
            "rules": [
                _rule(
                    "off",
                    "bell",
                    "doorbell_ring",
                    ("cam2", "disarm"),
                    ("cam1", "enable_privacy_mask"),
                ),
            ],
        }
    )
    data["channels"][0]["image"] = {
        "privacy_mask": {"enabled": False, "areas": [[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]]]}
    }
    runtime, watch = await start_runtime(data)
    assert runtime.channel_status("cam2")["armed"] is True
    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("off")
    assert [a["outcome"] for a in fired["actions"]] == ["ok", "ok"], fired
    assert runtime.channel_status("cam2")["armed"] is False
    assert runtime.channel_status("cam1")["image"]["privacy_mask"]["enabled"] is True


async def test_an_alarm_input_over_http_normally_closed(start_runtime: StartRuntime) -> None:
    door = {"id": "back", "type": "alarm_input", "mode": "normally_closed"}
    rule = _rule("contact", "back", "alarm_input", ("cam1", "capture_picture"))
    runtime, watch = await start_runtime(config({"resources": [door], "rules": [rule]}))
    await _picture(runtime, "cam1")
    await runtime.linkage.receive("back", {"state": "closed"})  # normal: no alarm
    assert not any(u.event.type == "alarm_input" for u in watch.updates)
    await runtime.linkage.receive("back", {"state": "open"})  # a normally-closed loop opened
    fired = await watch.fired("contact")
    assert fired["actions"][0]["outcome"] == "ok"
    await runtime.linkage.receive("back", {"state": "closed"})
    await watch.wait(
        lambda us: any(u.event.type == "alarm_input" and u.phase.value == "end" for u in us)
    )
    # Disarmed by a linkage action (run by hand here): its alarms no longer fire rules.
    outcome = await runtime.linkage.run("back", "disarm_alarm_input")
    assert outcome["outcome"] == "ok"
    assert runtime.linkage.rules()[0]["active"] is False
    state = next(r for r in runtime.linkage.resources() if r["id"] == "back")["state"]
    assert state == {"armed": False, "mode": "normally_closed", "contact": "closed", "alarm": False}


async def test_mqtt_input_fires_mqtt_door_and_alarm_output(
    start_runtime: StartRuntime, broker: Mosquitto
) -> None:
    mqtt = {"host": broker.host, "port": broker.port}
    resources = [
        {"id": "gate", "type": "alarm_input", "mqtt": {**mqtt, "state_topic": "home/gate/state"}},
        {"id": "front", "type": "door", "mqtt": {**mqtt, "topic": "home/front/set"},
         "payloads": {"open_door": "OPEN"}},
        {"id": "panel", "type": "panel_area", "mqtt": {**mqtt, "topic": "home/panel/set"}},
        {"id": "siren", "type": "alarm_output", "delay": 5, "mqtt": {**mqtt, "topic": "home/siren/set"}},
        {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"],
         "mqtt": {**mqtt, "state_topic": "home/bell/state"}},
        {"id": "center", "type": "surveillance_center", "mqtt": {**mqtt, "topic": "home/alarms"}},
    ]  # fmt: skip
    rule = _rule(
        "gate",
        "gate",
        "alarm_input",
        ("front", "open_door"),
        ("panel", "away_arm"),
        ("siren", "alarm_output"),
        ("center", "notify_surveillance_center"),
    )
    runtime, watch = await start_runtime(config({"resources": resources, "rules": [rule]}))
    subscriber = Subscriber(broker, asyncio.get_running_loop())
    await subscriber.start("home/#")
    try:
        for resource in resources:
            async with asyncio.timeout(10):
                await runtime.linkage._resources[resource["id"]].transport.wait_connected()  # type: ignore[attr-defined]
        subscriber.publish("home/gate/state", "ON")  # normally open: a closed contact alarms
        fired = await watch.fired("gate")
        assert [a["outcome"] for a in fired["actions"]] == ["ok"] * 4, fired
        alarm = await subscriber.wait_for(lambda: subscriber.last("home/alarms"))
        assert alarm.json()["event"]["type"] == "alarm_input"
        assert alarm.json()["event"]["data"] == {
            "mode": "normally_open",
            "contact": "closed",
            "source": "gate",
        }
        await subscriber.wait_payload("home/front/set", "OPEN")
        panel = await subscriber.wait_for(lambda: subscriber.last("home/panel/set"))
        assert (
            panel.json()["action"] == "away_arm" and panel.json()["event"]["type"] == "alarm_input"
        )
        siren = await subscriber.wait_for(lambda: subscriber.last("home/siren/set"))
        assert siren.json()["state"] == "on"
        state = next(r for r in runtime.linkage.resources() if r["id"] == "siren")["state"]
        assert state["on"] is True
        # Cleared by hand before its delay runs out.
        cleared = await runtime.linkage.run("siren", "clear_alarm_output")
        assert cleared["result"]["state"] == "off"
        await subscriber.wait_for(
            lambda: subscriber.last("home/siren/set").json()["state"] == "off"
        )  # type: ignore[union-attr]
        # A doorbell over MQTT: a bare event name is a one-shot event of the resource; a
        # payload naming another event is not its event and is ignored.
        subscriber.publish("home/bell/state", '{"event": "unknown_thing"}')
        subscriber.publish("home/bell/state", "doorbell_ring")

        def rang(updates: list[EventUpdate]) -> list[Event]:
            return [
                u.event
                for u in updates
                if u.event.type == "doorbell_ring" and u.phase.value == "end"
            ]

        (ring,) = await watch.wait(rang)
        assert ring.data["source"] == "bell" and ring.channel == ""
        assert [u.event.type for u in watch.updates if u.event.channel == ""].count(
            "unknown_thing"
        ) == 0
    finally:
        subscriber.stop()


async def test_the_alarm_server_receives_json_and_failures_are_retried_then_reported(
    start_runtime: StartRuntime, receiver: Receiver
) -> None:
    center = {"id": "center", "type": "surveillance_center", "http": {"url": receiver.url}}
    rule = _rule("notify", "bell", "doorbell_ring", ("center", "notify_surveillance_center"))
    runtime, watch = await start_runtime(config({"resources": [BELL, center], "rules": [rule]}))
    receiver.fail = 1  # the first try fails: retried
    await runtime.linkage.receive("bell", "doorbell_ring")  # type: ignore[arg-type]
    fired = await watch.fired("notify")
    assert fired["actions"][0]["outcome"] == "ok" and fired["actions"][0]["attempts"] == 2
    body = receiver.bodies[-1]
    assert body["action"] == "notify_surveillance_center"
    assert body["event"]["type"] == "doorbell_ring" and body["event"]["data"]["source"] == "bell"
    receiver.fail = 2  # both tries fail: reported, counted, raised as an exception
    watch.updates.clear()
    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("notify")
    assert fired["actions"][0]["outcome"] == "failed"
    assert fired["actions"][0]["error"].startswith("center: HTTP 500 from 127.0.0.1")
    failures = [u for u in watch.updates if u.event.type == "linkage_action_failed"]
    assert [u.phase.value for u in failures] == ["new", "end"]
    assert runtime.linkage.status()["failed"] == 1 and runtime.linkage.status()["retried"] == 2
    declared = {t["name"]: t for t in runtime.device_info()["event_types"]}
    assert declared["linkage_action_failed"]["exception"] is True
    assert declared["doorbell_ring"]["sources"] == ["bell"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        self.loop.call_soon_threadsafe(self.arrived.set)
        return "250 OK"


async def test_email_with_three_pictures_through_a_real_smtp_server(
    start_runtime: StartRuntime,
) -> None:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    await asyncio.get_running_loop().run_in_executor(None, controller.start)
    try:
        mail = {
            "id": "mail", "type": "email", "host": "127.0.0.1", "port": port,
            "security": "none", "sender": "camera@home.test", "receivers": ["me@home.test"],
            "attached_pictures": 3, "interval": 2,
        }  # fmt: skip
        rule = _rule("mail", "cam1", "motion", ("mail", "send_email"))
        runtime, watch = await start_runtime(config({"resources": [mail], "rules": [rule]}))
        await _picture(runtime, "cam1")
        # A motion event on cam1, as the detector would raise it.
        runtime.bus.publish(EventUpdate(EventPhase.NEW, Event("cam1", "motion", 0.0)))
        fired = await watch.fired("mail", within=30)
        assert fired["actions"][0]["outcome"] == "ok", fired
        async with asyncio.timeout(10):
            await inbox.arrived.wait()
        # The synthetic scene's own motion may fire the rule again: the first mail is ours.
        message = inbox.messages[0]
        assert message["To"] == "me@home.test" and "motion on cam1" in message["Subject"]
        pictures = [p for p in message.walk() if p.get_content_type() == "image/jpeg"]
        assert len(pictures) == 3
        assert all(p.get_payload(decode=True)[:2] == b"\xff\xd8" for p in pictures)  # type: ignore[index]
    finally:
        controller.stop()


async def test_call_preset_patrol_and_pattern_move_the_eptz_window(
    start_runtime: StartRuntime,
) -> None:
    """The document's ePTZ rows: a doorbell calls preset 2 on one camera; a second rule runs a
    patrol; a link without its number fails with the reason, reported like any failure."""

    def link(action: str, **params: int) -> dict[str, Any]:
        return {"resource": "cam1", "action": action, "params": params}

    rules = [
        {"id": "look", "source": "bell", "event": "doorbell_ring", "actions": [link("call_preset", preset=2)]},
        {"id": "tour", "source": "gate", "event": "doorbell_ring", "actions": [link("call_patrol", patrol=1)]},
        {"id": "bad", "source": "gate2", "event": "doorbell_ring", "actions": [link("call_pattern")]},
    ]  # fmt: skip
    resources = [BELL, {**BELL, "id": "gate"}, {**BELL, "id": "gate2"}]
    data = config({"resources": resources, "rules": rules})
    data["channels"][0]["ptz"] = {"enabled": True}
    runtime, watch = await start_runtime(data)
    await _picture(runtime, "cam1")
    await runtime.ptz_absolute("cam1", {"pan": 0.2, "tilt": 0.3, "zoom": 4})
    await runtime.save_preset("cam1", 2, "Door")
    await runtime.save_preset("cam1", 3, "Yard")
    await runtime.set_patrol("cam1", 1, [{"preset": 2}, {"preset": 3}])
    await runtime.ptz_absolute("cam1", {"pan": 0.8, "tilt": 0.8, "zoom": 1})

    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("look")
    assert [a["outcome"] for a in fired["actions"]] == ["ok"], fired

    def at_door() -> bool:
        where = runtime.ptz_status("cam1")
        return abs(where["pan"] - 0.2) < 1e-3 and abs(where["tilt"] - 0.3) < 1e-3

    await eventually(at_door, within=20)
    assert runtime.ptz_status("cam1")["zoom"] == 4

    await runtime.linkage.receive("gate", {"event": "doorbell_ring"})
    fired = await watch.fired("tour")
    assert [a["outcome"] for a in fired["actions"]] == ["ok"], fired
    assert runtime.ptz_status("cam1")["patrol"] == 1

    await runtime.linkage.receive("gate2", {"event": "doorbell_ring"})
    fired = await watch.fired("bad")
    (failed,) = fired["actions"]
    assert failed["outcome"] == "failed" and "params.pattern" in failed["error"]
