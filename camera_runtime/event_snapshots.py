"""The capture of an event's start: an event type declared with ``snapshot`` names a capture id in its data, and this takes that picture when the start reaches the runtime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .detection import SNAPSHOT_KEY
from .exceptions import CameraRuntimeError
from .model import EventPhase, EventUpdate

_LOGGER = logging.getLogger(__name__)


class EventSnapshots:
    """Takes the pictures events name, one task each.

    ``take(channel_id, capture_id, event_type)`` is the runtime's: the channel's newest picture
    (after its image stages, so the privacy mask is on it) saved as that capture, for that
    reason (and uploaded where pictures go), its write failures reported to the storage watch. The picture is the newest when the start reaches the event
    bus, a few milliseconds after the detected one. A picture that cannot be taken is logged
    and counted (``failed``); the event still names it, and its URL answers 404.
    """

    def __init__(self, take: Callable[[str, str, str], Awaitable[object]]) -> None:
        self._take = take
        self._tasks: set[asyncio.Task[None]] = set()
        #: Snapshots that could not be taken since the start.
        self.failed = 0

    def on_event(self, update: EventUpdate) -> None:
        """A bus subscriber: start the capture of a NEW event that names one."""
        capture_id = update.event.data.get(SNAPSHOT_KEY)
        if update.phase is not EventPhase.NEW or not isinstance(capture_id, str):
            return
        task = asyncio.get_running_loop().create_task(
            self._run(update.event.channel, capture_id, update.event.type),
            name=f"snapshot-{capture_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, channel_id: str, capture_id: str, event_type: str) -> None:
        try:
            await self._take(channel_id, capture_id, event_type)
        except CameraRuntimeError as err:
            self.failed += 1
            _LOGGER.warning("%s: event snapshot %s not taken: %s", channel_id, capture_id, err)

    async def drain(self) -> None:
        """Wait for the pictures being taken (the runtime stops)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))
