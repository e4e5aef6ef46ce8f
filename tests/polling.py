"""Waiting on state that offers nothing to await (a flag set by another thread, a counter of
the server's handlers, a recorder's ring): the condition is checked every few milliseconds
until it holds, bounded, never a fixed sleep. Where a change can be awaited (an event bus, an
MQTT message, a Home Assistant state), the tests wait on that instead."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

#: How often the condition is checked (seconds).
POLL = 0.005


async def eventually(predicate: Callable[[], object], within: float = 20.0, what: str = "") -> None:
    """Wait until ``predicate()`` holds; after ``within`` seconds, fail the test with what
    it waited for (``what``, else the predicate)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out after {within:g} s waiting for {what or predicate}")
        await asyncio.sleep(POLL)
