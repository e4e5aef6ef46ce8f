"""Events still active when a runtime was killed (kill -9, a power cut) are ended at its next
start, and the ``end`` goes out like any other: MQTT subscribers and in-process clients hear
it, with ``interrupted`` in its data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from camera_runtime.client.local import LocalClient
from camera_runtime.history import EventHistory
from camera_runtime.host import compose, runtime_from_data
from camera_runtime.model import Event, EventPhase, EventUpdate

from .conftest import Subscriber, mqtt_block, tick_channel
from .plugins import MqttTestPlugins


async def test_an_event_cut_by_a_kill_is_ended_everywhere_at_the_next_start(
    subscriber: Subscriber, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    history = EventHistory(data_dir / "events.sqlite3")
    await history.open()
    cut = Event("cam1", "pulse", 1000.0, id="cut-by-kill", data={"n": 1})
    history.record(EventUpdate(EventPhase.NEW, cut))
    await history.flush()
    history._executor.shutdown(wait=True)  # no close: as a kill -9 leaves it
    assert history._conn is not None
    history._conn.close()

    data = {
        "channels": [tick_channel("cam1")],
        "mqtt": mqtt_block(subscriber.broker),
        "zeroconf": {"enabled": False},
    }
    runtime = runtime_from_data(data, data_dir=data_dir, extra_plugins=[MqttTestPlugins()])
    compose(runtime, api=False)
    client = LocalClient(runtime)
    heard: list[dict[str, Any]] = []
    client.subscribe_events(heard.append)
    client._active["cut-by-kill"] = cut.as_dict()  # a client that saw it start before the kill
    await client.start()
    try:
        message = await subscriber.wait_for(
            lambda: [
                m
                for m in subscriber.on(f"camera_runtime/{runtime.device_id}/cam1/events")
                if m.json()["id"] == "cut-by-kill"
            ]
        )
        body = message[0].json()
        assert (body["type"], body["end"], body["data"]) == (
            "end",
            1000.0,
            {"n": 1, "interrupted": True},
        )
        assert [(u["phase"], u["event"]["id"]) for u in heard][:1] == [("end", "cut-by-kill")]
        assert "cut-by-kill" not in [e["id"] for e in client.active_events("cam1")]
        stored = await runtime.event("cut-by-kill")
        assert stored is not None and stored.end == 1000.0 and stored.data["interrupted"]
    finally:
        await client.close()
