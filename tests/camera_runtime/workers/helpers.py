"""What the worker tests share: a record of what a worker pushed, a spawned worker with
the plugins a config loads, and a worker killed under a runtime's channel."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from camera_runtime.model import EventPhase, EventUpdate
from camera_runtime.registry import build_plugins
from camera_runtime.workers.pool import plugin_modules
from camera_runtime.workers.process import WorkerProcess
from camera_runtime.workers.remote import RemoteChannel

if TYPE_CHECKING:  # the runtime's modules import the workers' (not the other way round)
    from camera_runtime.runtime import Runtime

WAIT = 60.0


class Seen:
    """What the worker pushed (events, changed channels, its exit), with a way to wait for a
    condition on it."""

    def __init__(self) -> None:
        self.events: list[EventUpdate] = []
        self.changed: list[str] = []
        self.exited = threading.Event()
        self._cond = threading.Condition()

    def emit(self, update: EventUpdate) -> None:
        with self._cond:
            self.events.append(update)
            self._cond.notify_all()

    def change(self, channel_id: str) -> None:
        with self._cond:
            self.changed.append(channel_id)
            self._cond.notify_all()

    def wait_for(self, check: Callable[[], Any]) -> None:
        with self._cond:
            assert self._cond.wait_for(check, WAIT), "timed out"


@contextlib.contextmanager
def spawned(name: str, data: dict[str, Any], seen: Seen | None = None) -> Iterator[WorkerProcess]:
    """A started worker with the plugins ``data`` loads, reporting to ``seen``; stopped after."""
    seen = seen if seen is not None else Seen()
    plugins = plugin_modules(build_plugins(data)[0])
    process = WorkerProcess(name, plugins, seen.emit, seen.change, lambda w: seen.exited.set())
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def kill_worker(runtime: Runtime, channel_id: str) -> list[EventUpdate]:
    """SIGKILL the worker running ``channel_id`` and wait until the channel runs again in its
    replacement: the channel's video loss updates, from its start to its end."""
    channel = runtime.channels[channel_id]
    assert isinstance(channel, RemoteChannel) and channel.worker.pid is not None
    losses: list[EventUpdate] = []
    ended = asyncio.Event()

    def on_event(update: EventUpdate) -> None:
        if update.event.channel == channel_id and update.event.type == "video_loss":
            losses.append(update)
            if update.phase is EventPhase.END:
                ended.set()

    unsubscribe = runtime.subscribe_events(on_event)
    try:
        os.kill(channel.worker.pid, signal.SIGKILL)
        async with asyncio.timeout(WAIT):
            await ended.wait()
    finally:
        unsubscribe()
    return losses
