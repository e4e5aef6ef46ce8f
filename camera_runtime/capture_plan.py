"""Capture automatically (manual 5.3.1): a channel's ``capture`` section takes pictures by
timing (one every ``interval`` seconds within its schedule) and on events (``number``
pictures, ``interval`` seconds apart, from an event's start), as JPEG at the set resolution
and quality. The pictures go to the captures folder with their reason (``timing`` or the
event type), under the captures' retention (expired time and the pictures' quota).

Runs on the event loop: one task per channel for timing, one per capturing event. A capture
that fails (no picture yet, a full disk) is logged once per episode and counted, and the next
one is tried at its time: nothing stops the plan.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from .exceptions import CameraRuntimeError
from .model import EventPhase, EventUpdate
from .schedule import ARMING_SCHEDULE
from .validators import resolution

_LOGGER = logging.getLogger(__name__)

TIMING = "timing"
#: Event types that never capture: exceptions about the channel itself.
NOT_CAPTURED = frozenset({"video_loss"})


def _resolution(value: Any) -> tuple[int, int] | None:
    """``full`` (the picture's own size) or ``WxH`` (at most the picture's size)."""
    return None if value == "full" else resolution(value)


CAPTURE_SCHEMA = vol.Schema(
    {
        vol.Optional("timing", default={}): {
            vol.Optional("enabled", default=False): bool,
            # Seconds between two pictures.
            vol.Optional("interval", default=60.0): vol.All(
                vol.Coerce(float), vol.Range(min=1, max=7 * 86_400)
            ),
            vol.Optional("schedule", default="always"): ARMING_SCHEDULE,
        },
        vol.Optional("event", default={}): {
            vol.Optional("enabled", default=False): bool,
            # The event types that capture; empty: every type but video loss.
            vol.Optional("events", default=[]): [vol.All(str, vol.Length(min=1, max=64))],
            # Seconds between the pictures of one event, and how many ("Capture Number").
            vol.Optional("interval", default=1.0): vol.All(
                vol.Coerce(float), vol.Range(min=0.1, max=3600)
            ),
            vol.Optional("number", default=1): vol.All(int, vol.Range(min=1, max=120)),
            vol.Optional("schedule", default="always"): ARMING_SCHEDULE,
        },
        vol.Optional("format", default="jpeg"): vol.In(["jpeg"]),
        vol.Optional("resolution", default="full"): _resolution,
        vol.Optional("quality", default=90): vol.All(int, vol.Range(min=1, max=100)),
    }
)


def capture_as_data(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Validated ``capture`` settings as config data: the resolution written again."""
    size = settings["resolution"]
    return {**settings, "resolution": "full" if size is None else "{}x{}".format(*size)}


#: Takes one picture: (channel, reason, size or None, quality).
Take = Callable[[str, str, tuple[int, int] | None, int], Awaitable[Any]]


@dataclass
class _Channel:
    settings: Mapping[str, Any]
    timing: asyncio.Task[None] | None = None
    taken: int = 0
    failed: int = 0
    failing: bool = False


class CapturePlans:
    """Every channel's automatic captures. ``take`` saves one picture (the runtime's
    ``capture``); call everything on the event loop."""

    def __init__(self, take: Take) -> None:
        self._take = take
        self._channels: dict[str, _Channel] = {}
        self._event_tasks: set[asyncio.Task[None]] = set()

    def start(self, channel_id: str, settings: Mapping[str, Any]) -> None:
        self.stop(channel_id)
        state = _Channel(settings)
        self._channels[channel_id] = state
        if settings["timing"]["enabled"]:
            state.timing = asyncio.create_task(
                self._timing(channel_id, state), name=f"capture-timing-{channel_id}"
            )

    def stop(self, channel_id: str) -> None:
        state = self._channels.pop(channel_id, None)
        if state is not None and state.timing is not None:
            state.timing.cancel()

    async def close(self) -> None:
        tasks = [s.timing for s in self._channels.values() if s.timing is not None]
        tasks += list(self._event_tasks)
        self._channels.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def status(self, channel_id: str) -> dict[str, Any]:
        state = self._channels.get(channel_id)
        if state is None:
            return {"taken": 0, "failed": 0}
        return {"taken": state.taken, "failed": state.failed}

    def on_event(self, update: EventUpdate) -> None:
        """An event's start captures ``number`` pictures when its type captures."""
        event = update.event
        state = self._channels.get(event.channel)
        if state is None or update.phase is not EventPhase.NEW:
            return
        plan = state.settings["event"]
        types = plan["events"]
        if not plan["enabled"] or event.type in NOT_CAPTURED or (types and event.type not in types):
            return
        if not plan["schedule"].is_armed(event.start):
            return
        task = asyncio.create_task(
            self._burst(event.channel, state, event.type), name=f"capture-event-{event.id}"
        )
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    async def _timing(self, channel_id: str, state: _Channel) -> None:
        plan = state.settings["timing"]
        interval = plan["interval"]
        next_at = time.time()
        while True:
            if plan["schedule"].is_armed(next_at):
                await self._one(channel_id, state, TIMING)
            next_at += interval
            now = time.time()
            if next_at < now:  # late (a slow disk): the next slot, not a burst to catch up
                next_at = now + interval - (now - next_at) % interval
            await asyncio.sleep(next_at - now)

    async def _burst(self, channel_id: str, state: _Channel, reason: str) -> None:
        plan = state.settings["event"]
        for n in range(plan["number"]):
            if n:
                await asyncio.sleep(plan["interval"])
            await self._one(channel_id, state, reason)

    async def _one(self, channel_id: str, state: _Channel, reason: str) -> None:
        settings = state.settings
        try:
            await self._take(channel_id, reason, settings["resolution"], settings["quality"])
        except CameraRuntimeError as err:
            state.failed += 1
            if not state.failing:
                _LOGGER.warning("%s: an automatic capture (%s) failed: %s", channel_id, reason, err)
            state.failing = True
            return
        state.taken += 1
        if state.failing:
            _LOGGER.info("%s: automatic captures work again", channel_id)
        state.failing = False


__all__ = ["CAPTURE_SCHEMA", "TIMING", "CapturePlans", "capture_as_data"]
