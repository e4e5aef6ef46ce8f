"""The MQTT client's reconnect: a state published before it never overtakes one published
after (paho sends the older messages again from its own thread)."""

from __future__ import annotations

import asyncio

from camera_runtime.mqtt.client import MqttClient
from tests.mosquitto import Mosquitto
from tests.polling import eventually

from .conftest import Subscriber


async def test_a_reconnect_is_reported_after_the_previous_connection_s_messages_are_acknowledged(
    broker: Mosquitto,
) -> None:
    """A retained state published while the broker is down is sent again by paho on the
    reconnect; the client says it is connected only once the broker acknowledged it, so what
    the bridge publishes on connecting (the current state, the clearing of a removed channel's
    topics) lands after it and is what the broker keeps."""
    log: list[tuple[str, object]] = []
    connected = asyncio.Event()
    topic = "client-test/cam/state"
    current: list[int | None] = []

    def on_connect(up: bool) -> None:
        log.append(("connected", up))
        if up:
            # what the bridge does on every connect: the current state, retained
            current.append(client.publish(topic, "current", retain=True))
            connected.set()

    client = MqttClient(
        {"host": broker.host, "port": broker.port, "keepalive": 60},
        client_id="client-test",
        will_topic="client-test/availability",
        on_connect=on_connect,
        on_ack=lambda mid: log.append(("ack", mid)),
        on_message=lambda *_: None,
    )
    client.start()
    try:
        await asyncio.wait_for(connected.wait(), 15)
        broker.stop()
        await eventually(lambda: not client.connected, what="the client to see the outage")
        connected.clear()
        older = client.publish(topic, "older", retain=True)  # paho keeps it meanwhile
        assert older is not None
        mark = len(log)
        broker.start()
        await asyncio.wait_for(connected.wait(), 30)
        after = log[mark:]
        assert ("ack", older) in after
        assert after.index(("ack", older)) < after.index(("connected", True))
        await eventually(lambda: ("ack", current[-1]) in log, what="the current state's ack")
        fresh = Subscriber(broker, asyncio.get_running_loop())
        await fresh.start(topic)  # the retained message comes on subscribing
        try:
            held = await fresh.wait_for(lambda: fresh.last(topic), what=topic)
            assert held.payload == b"current"
        finally:
            fresh.stop()
    finally:
        await client.stop()
