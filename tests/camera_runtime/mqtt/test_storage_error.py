"""Nothing is lost silently: when the event history cannot be written (a full disk), the
failure is logged once, the device raises the ``storage_error`` exception (history, MQTT and
its discovery), events keep flowing and stay visible, and the history catches up once the
disk has room again, with every event written."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from camera_runtime.model import EventPhase, EventUpdate

from .conftest import Runtimes, Subscriber, count_events, mqtt_block, tick_channel


async def test_a_full_disk_raises_storage_error_and_the_history_catches_up(
    runtimes: Runtimes, subscriber: Subscriber, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="camera_runtime.storage_health")
    runtime, _ = await runtimes.start(
        [tick_channel("cam1", detect_fps=20)], mqtt_block(subscriber.broker)
    )
    base = f"camera_runtime/{runtime.device_id}"
    sensor = (await subscriber.components(runtime.device_id))["storage_error"]
    assert (sensor["p"], sensor["device_class"], sensor["state_topic"]) == (
        "binary_sensor",
        "problem",
        f"{base}/storage_error",
    )
    await subscriber.wait_payload(f"{base}/storage_error", "OFF")
    seen: list[str] = []
    storage: list[EventUpdate] = []

    def on_update(update: EventUpdate) -> None:
        (storage if update.event.type == "storage_error" else seen).append(update)  # type: ignore[arg-type]

    runtime.subscribe_events(on_update)
    history = runtime.history
    conn = history._conn
    assert conn is not None
    await history.flush()
    await history._run(lambda: conn.execute("PRAGMA max_page_count = 1").fetchone())

    async with asyncio.timeout(20):  # writes fail: one storage_error, logged once
        while not storage:
            await count_events(runtime, 1)
    await count_events(runtime, 40)  # events keep flowing meanwhile
    new = storage[0]
    assert new.phase is EventPhase.NEW and new.event.channel == ""
    assert new.event.data["sources"]["event history"]["error"] == "database or disk is full"
    info = runtime.device_info()
    assert info["storage"]["ok"] is False
    assert info["storage"]["sources"]["event history"]["pending"] > 0
    assert caplog.text.count("storage error: event history cannot write") == 1
    await subscriber.wait_payload(f"{base}/storage_error", "ON")
    message = await subscriber.wait_for(
        lambda: [
            m for m in subscriber.on(f"{base}/events") if m.json()["event_type"] == "storage_error"
        ]
    )
    assert message[0].json()["channel"] == "" and message[0].json()["type"] == "new"
    # The history shows what waits: the latest pulse is there, in its latest state.
    latest: Any = seen[-1]
    found = await runtime.event(latest.event.id)
    assert found is not None and found.end == latest.event.end

    await history._run(lambda: conn.execute("PRAGMA max_page_count = 1000000").fetchone())
    async with asyncio.timeout(30):
        while not any(u.phase is EventPhase.END for u in storage):
            await count_events(runtime, 1)
    await subscriber.wait_payload(f"{base}/storage_error", "OFF")
    assert "storage recovered: event history writes again" in caplog.text
    assert runtime.device_info()["storage"]["ok"] is True
    await history.flush()
    ids = {u.event.id for u in seen}
    stored = {e.id for e in await runtime.events(channel="cam1", limit=1000)}
    assert ids <= stored  # nothing lost
    assert [e.type for e in await runtime.events(channel="", limit=10)] == ["storage_error"]
