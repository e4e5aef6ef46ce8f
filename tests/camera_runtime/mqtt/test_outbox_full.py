"""A full outbox makes room by deleting its oldest rows that were never fetched for publishing:
a row already handed to paho is delivered whatever happens to it, so it must neither be
deleted nor counted as lost. ``dropped`` counts exactly the sequence numbers that never reach
the broker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camera_runtime.mqtt.outbox import Outbox


async def test_rows_in_flight_are_not_dropped_nor_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", 5, lambda: None)
    await outbox.open()
    try:
        for n in range(5):
            outbox.add("t", {"n": n})
        await outbox.flush()
        handed = await outbox.fetch(0, 2)  # what the pump hands to paho
        assert [r.seq for r in handed] == [1, 2]
        for n in range(5, 8):
            outbox.add("t", {"n": n})
        await outbox.flush()
        assert outbox.count == 7  # 5 waiting (the bound) + 2 in flight
        waiting = await outbox.fetch(2, 100)
        # Rows 1 and 2 are with paho (on disk until acknowledged); row 3 made room.
        assert [r.seq for r in waiting] == [4, 5, 6, 7, 8]
        assert outbox.dropped == 1
        assert "dropped the 1 oldest" in caplog.text
        for row in handed:
            outbox.ack(row.seq)
        await outbox.flush()
        assert outbox.count == 5
        delivered = {r.seq for r in handed} | {r.seq for r in waiting}
        # Every sequence number is either delivered or counted as dropped, never both.
        assert len(delivered) + outbox.dropped == 8
        assert [json.loads(r.payload)["n"] for r in waiting] == [3, 4, 5, 6, 7]
    finally:
        await outbox.close()


async def test_only_unfetched_rows_can_make_room(tmp_path: Path) -> None:
    """Rows in flight do not count against the bound: only the rows waiting do."""
    outbox = Outbox(tmp_path / "o.sqlite3", 3, lambda: None)
    await outbox.open()
    try:
        for n in range(3):
            outbox.add("t", {"n": n})
        await outbox.flush()
        assert [r.seq for r in await outbox.fetch(0, 10)] == [1, 2, 3]
        for n in range(3, 6):
            outbox.add("t", {"n": n})
        await outbox.flush()
        assert outbox.count == 6 and outbox.dropped == 0
        outbox.add("t", {"n": 6})  # one waiting row too many: the oldest waiting one goes
        await outbox.flush()
        assert outbox.dropped == 1 and outbox.count == 6
        assert [r.seq for r in await outbox.fetch(3, 10)] == [5, 6, 7]
        for seq in (1, 2, 3):
            outbox.ack(seq)
        outbox.add("t", {"n": 7})  # 5-7 are in flight now: one row waiting, nothing goes
        await outbox.flush()
        assert outbox.dropped == 1 and outbox.count == 4
    finally:
        await outbox.close()
