"""The outbox when SQLite cannot write (a real lock held by another connection): nothing queued
is lost, the order and the sequence numbers stay as they were, and what finally cannot be kept
is counted and logged."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from camera_runtime.mqtt.outbox import Outbox
from tests.polling import eventually


def lock(path: Path) -> sqlite3.Connection:
    """Another connection holding the write lock: every write of the outbox fails."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


async def test_failed_writes_keep_messages_and_acks_and_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, 1000, lambda: None, busy_timeout=0.05)
    await outbox.open()
    try:
        outbox.add("t", {"n": 0})
        await outbox.flush()
        assert outbox.count == 1
        blocker = lock(path)
        outbox.ack(1)
        for n in range(1, 6):
            outbox.add("t", {"n": n})
        await eventually(lambda: "write failed" in caplog.text, what="the failed write")
        assert outbox.count == 1  # nothing committed while locked
        blocker.execute("ROLLBACK")
        blocker.close()
        await eventually(lambda: outbox.count == 5, what="the retried write")
        rows = await outbox.fetch(0, 100)
        assert [r.seq for r in rows] == [2, 3, 4, 5, 6]  # the ack was kept too: row 1 is gone
        assert [json.loads(r.payload)["n"] for r in rows] == [1, 2, 3, 4, 5]
        assert [json.loads(r.payload)["seq"] for r in rows] == [2, 3, 4, 5, 6]
        assert outbox.dropped == 0
        assert "writing works again" in caplog.text
    finally:
        await outbox.close()


async def test_what_cannot_be_kept_is_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, 3, lambda: None, busy_timeout=0.05)
    await outbox.open()
    blocker = lock(path)
    try:
        for n in range(5):
            outbox.add("t", {"n": n})
        await eventually(lambda: outbox.dropped == 2, what="the memory bound")
        blocker.execute("ROLLBACK")
        await eventually(lambda: outbox.count == 3, what="the retried write")
        rows = await outbox.fetch(0, 100)
        assert [json.loads(r.payload)["n"] for r in rows] == [2, 3, 4]  # the oldest went
        assert "dropped the 2 oldest unwritten" in caplog.text
        # Still locked when the outbox closes: what is unwritten is lost, and said so.
        blocker.execute("BEGIN IMMEDIATE")
        outbox.add("t", {"n": 5})
        await outbox.close()
        assert outbox.dropped == 3
        assert "could not be written and are lost" in caplog.text
    finally:
        blocker.close()
    reopened = Outbox(path, 3, lambda: None)
    await reopened.open()
    try:
        assert [json.loads(r.payload)["n"] for r in await reopened.fetch(0, 100)] == [2, 3, 4]
    finally:
        await reopened.close()
