"""A retained ``/set`` command is refused: the broker replays it on every reconnect, long after
it was meant, so it is logged and answered on the error topic, never applied."""

from __future__ import annotations

import asyncio

from tests.polling import eventually

from .conftest import Runtimes, Subscriber, mqtt_block, tick_channel


async def test_retained_command_is_refused_on_reconnect(
    runtimes: Runtimes, subscriber: Subscriber
) -> None:
    broker = subscriber.broker
    # A persistent session: this client keeps receiving across the broker restart below.
    sub = Subscriber(broker, asyncio.get_running_loop(), client_id="retained-commands")
    await sub.start("#")
    try:
        runtime, bridge = await runtimes.start([tick_channel("cam1")], mqtt_block(broker))
        base = f"camera_runtime/{runtime.device_id}"
        await sub.wait_payload(f"{base}/cam1/arming/state", "ON")
        # Sent live, the broker forwards it without the retain flag: applied as any command.
        mark = sub.mark()
        sub.publish(f"{base}/cam1/arming/set", "OFF", retain=True)
        await sub.wait_payload(f"{base}/cam1/arming/state", "OFF", after=mark)
        await runtime.set_armed("cam1", True)
        await sub.wait_payload(f"{base}/cam1/arming/state", "ON", after=mark)

        # After a reconnect the broker hands the bridge its retained copy: refused.
        mark = sub.mark()
        broker.stop()
        await eventually(lambda: not bridge.connected, what="the bridge to see the outage")
        broker.start()
        error = await sub.wait_for(
            lambda: next(
                (m.json() for m in sub.messages[mark:] if m.topic == f"{base}/error"), None
            ),
            what="the refusal on the error topic",
        )
        assert error["topic"] == f"{base}/cam1/arming/set"
        assert error["payload"] == "OFF"
        assert "retained" in error["error"]
        await sub.wait_payload(f"{base}/cam1/arming/state", "ON", after=mark)
        assert runtime.channels["cam1"].armed is True
        assert not [
            m for m in sub.messages[mark:] if m.topic == f"{base}/cam1/arming/state"
            and m.payload == b"OFF"
        ]  # fmt: skip
    finally:
        sub.publish(f"{base}/cam1/arming/set", b"", retain=True)  # clear it on the broker
        sub.stop()
