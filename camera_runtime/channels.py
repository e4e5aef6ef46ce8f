"""The runtime's channels, by id in config order: created with their stored settings, started
and stopped together, their status pushed on the channel bus while they run."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import cast

from .buses import ChannelBus
from .channel import VIDEO_LOSS, Channel, ChannelState
from .config import ChannelConfig
from .exceptions import CameraRuntimeError, NotFoundError
from .feed import BACKOFF_START, jittered, next_backoff
from .model import ChannelChange, ChannelStatus, ChannelUpdate, Event, EventPhase, EventUpdate
from .overrides import Overrides
from .registry import PluginRegistry
from .workers.pool import WorkerPool, runs_in_worker
from .workers.process import WorkerProcess
from .workers.remote import RemoteChannel

_LOGGER = logging.getLogger(__name__)

#: Running channels' status (fps, frame count) is pushed this often on the channel bus.
STATS_INTERVAL = 10.0


class Channels(Mapping[str, Channel]):
    """A read-only mapping for everyone; the runtime adds and removes through ``create`` and
    ``remove``. ``emit`` receives every event update of every channel (thread-safe);
    ``prepare`` finishes each new channel (its saved ePTZ presets)."""

    def __init__(
        self,
        registry: PluginRegistry,
        overrides: Overrides,
        emit: Callable[[EventUpdate], None],
        bus: ChannelBus,
        prepare: Callable[[Channel], None] = lambda _channel: None,
    ) -> None:
        self._prepare = prepare
        #: Where channels run out of this process (``workers/``), once the runtime set it.
        self.workers: WorkerPool | None = None
        self._stopped = threading.Event()
        self._registry = registry
        self._overrides = overrides
        self._emit = emit
        self._bus = bus
        self._channels: dict[str, Channel] = {}

    def __getitem__(self, channel_id: str) -> Channel:
        return self._channels[channel_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)

    def find(self, channel_id: str) -> Channel:
        """The channel, or ``NotFoundError`` (``channel_not_found``)."""
        try:
            return self._channels[channel_id]
        except KeyError:
            raise NotFoundError(f"no channel {channel_id!r}", "channel_not_found") from None

    def status_of(self, channel_id: str) -> ChannelStatus | None:
        channel = self._channels.get(channel_id)
        return channel.status() if channel is not None else None

    def statuses(self) -> list[ChannelStatus]:
        return [channel.status() for channel in self._channels.values()]

    def create(self, config: ChannelConfig) -> Channel:
        """A new channel with its stored settings applied (not started); in a worker process
        when the runtime has workers and the channel can run in one (blocking: a new worker
        is spawned here)."""
        if self.workers is not None and runs_in_worker(config):
            remote = RemoteChannel(config, self.workers.place(config.id), self._bus.changed)
            # Duck-types every member of Channel the runtime reaches (``workers/remote.py``).
            channel = cast(Channel, remote)
        else:
            channel = Channel(config, self._registry, self._emit, self._bus.changed)
        self._overrides.apply(channel)
        self._prepare(channel)
        self._channels[channel.id] = channel
        return channel

    def remove(self, channel_id: str) -> Channel:
        """Take a channel out (the caller stops it, then calls ``retire``)."""
        return self._channels.pop(channel_id)

    def retire(self, channel: Channel) -> None:
        """A removed channel has stopped: a worker's lets go of it (blocking)."""
        if isinstance(channel, RemoteChannel) and self.workers is not None:
            channel.worker.close(channel.id)
            self.workers.release(channel.id)

    def worker_lost(self, worker: WorkerProcess, channel_ids: list[str]) -> None:
        """A worker exited unasked (killed, crashed): its channels show offline with a video
        loss, then come back in a new worker with their stored settings (from the dead
        worker's link thread; the restart runs on its own thread, retried with backoff)."""
        reason = f"worker process {worker.name} exited (code {worker.exitcode})"
        losses: dict[str, Event] = {}
        for channel_id in channel_ids:
            channel = self._channels.get(channel_id)
            if isinstance(channel, RemoteChannel) and channel.worker is worker:
                channel.mark_down(reason)
                losses[channel_id] = Event(
                    channel_id, VIDEO_LOSS.name, time.time(), data={"reason": reason}
                )
                self._emit(EventUpdate(EventPhase.NEW, losses[channel_id], None))
                self._bus.changed(channel_id)
        threading.Thread(
            target=self._restart, args=(worker, losses), name="worker-restart", daemon=True
        ).start()

    def _restart(self, dead: WorkerProcess, losses: dict[str, Event]) -> None:
        backoff = BACKOFF_START
        pool = self.workers
        while pool is not None and self.workers is pool:
            try:
                worker = pool.replace(dead)
                break
            except CameraRuntimeError as err:
                _LOGGER.error("%s: restart failed: %s; again in %.0f s", dead.name, err, backoff)
                if self._stopped.wait(jittered(backoff)):
                    return
                backoff = next_backoff(backoff)
        else:
            return
        for channel_id, loss in losses.items():
            channel = self._channels.get(channel_id)
            if not isinstance(channel, RemoteChannel) or channel.worker is not dead:
                continue  # removed meanwhile
            try:
                channel.rebind(worker)
                self._overrides.apply(cast(Channel, channel))
                if channel.wanted:
                    channel.start()
            except CameraRuntimeError as err:
                if self._stopped.is_set():  # the runtime stops: its workers went first
                    return
                _LOGGER.error("%s: not restarted in %s: %s", channel_id, worker.name, err)
                channel.mark_down(f"{channel.down}; not restarted: {err}")
                self._bus.changed(channel_id)
                continue
            loss.end = time.time()
            loss.data = {**loss.data, "recovered": True}
            self._emit(EventUpdate(EventPhase.END, loss, None))
            self._bus.changed(channel_id)

    def start_enabled(self) -> None:
        for channel in self._channels.values():
            if channel.config.enabled:
                channel.start()

    async def stop_all(self) -> None:
        """Stop every channel's thread, off the event loop, in parallel."""
        self._stopped.set()  # no worker restarts from now on
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, channel.stop) for channel in self._channels.values())
        )

    async def push_stats(self) -> None:
        """Push running channels' status (fps, frames) every ``STATS_INTERVAL``, until
        cancelled."""
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            for channel in list(self._channels.values()):
                if channel.state == ChannelState.ONLINE:
                    update = ChannelUpdate(ChannelChange.CHANGED, channel.id, channel.status())
                    self._bus.publish(update)


__all__ = ["STATS_INTERVAL", "Channels"]
