"""Which worker process runs which channel (config ``workers``).

With ``channels_per_process: N`` (N > 0), each channel that can run in a worker goes to the
least loaded worker with room, or to a new one: 64 channels make four workers of 16. Channels
that cannot stay in the runtime's process: the outputs of a stitched device (their sensors
meet in the runtime's stitching hub) and ePTZ channels (their presets, patrols and patterns
live in the runtime's PTZ book).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pluggy

from ..capabilities import SensorInfo
from ..config import ChannelConfig
from ..exceptions import PluginError, WorkerGoneError
from ..model import EventUpdate
from ..stitching.modes import STITCHED
from .process import WorkerProcess

_LOGGER = logging.getLogger(__name__)

#: The device's readings while channels run in workers (its ``sensors``: the API's device
#: information, MQTT discovery, Home Assistant's sensors): how many worker processes run, and
#: how many times one died and was replaced, so a crashing worker is seen, not only logged.
WORKER_PROCESSES = SensorInfo(
    "worker_processes", "Worker processes", unit="processes", state_class="measurement",
    icon="mdi:cogs",
)  # fmt: skip
WORKER_RESTARTS = SensorInfo(
    "worker_restarts", "Worker restarts", unit="restarts", state_class="total_increasing",
    icon="mdi:restart-alert",
)  # fmt: skip


def worker_sensors(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The device's worker readings (``WORKER_PROCESSES``, ``WORKER_RESTARTS``), valued from
    the pool's ``status()``, so they agree with the ``workers`` beside them."""
    alive = sum(1 for process in status["processes"] if process["alive"])
    return [WORKER_PROCESSES.as_dict(alive), WORKER_RESTARTS.as_dict(status["restarts"])]


def runs_in_worker(config: ChannelConfig) -> bool:
    """Whether a channel may run in a worker process."""
    return config.source_type != STITCHED and not config.ptz.get("enabled", False)


def plugin_modules(pm: pluggy.PluginManager) -> list[str]:
    """The importable names of the runtime's plugin modules: what a worker registers to have
    the same sources, stages, detectors and encoders. A plugin registered as an object
    cannot be rebuilt there: ``PluginError``."""
    names = []
    for plugin in pm.get_plugins():
        if isinstance(plugin, ModuleType):
            names.append(plugin.__name__)
        else:
            raise PluginError(
                f"plugin {plugin!r} is an object, not a module: channels in worker processes "
                "(workers.channels_per_process) need every plugin importable by name"
            )
    return names


class WorkerPool:
    """The runtime's worker processes, started as channels need them."""

    def __init__(
        self,
        channels_per_process: int,
        plugins: list[str],
        emit: Callable[[EventUpdate], None],
        changed: Callable[[str], None],
        lost: Callable[[WorkerProcess, list[str]], None] = lambda worker, ids: None,
    ) -> None:
        self.channels_per_process = channels_per_process
        #: Told (on the dead worker's link thread) when a worker exits unasked, with the ids
        #: of the channels it ran: the runtime's channels restart them (``replace``).
        self._lost = lost
        self._stopping = False
        #: Workers stopped on purpose (emptied, or replaced): their exit is no loss.
        self._retired: set[WorkerProcess] = set()
        #: Workers that died and were replaced, counted for the logs and the status.
        self.restarts = 0
        self._plugins = plugins
        self._emit = emit
        self._changed = changed
        self._workers: list[WorkerProcess] = []
        self._placed: dict[str, WorkerProcess] = {}
        self._lock = threading.Lock()
        self._count = 0

    @property
    def workers(self) -> list[WorkerProcess]:
        with self._lock:
            return list(self._workers)

    def status(self) -> dict[str, Any]:
        """What the device information shows of the workers (``workers``): the setting, the
        restarts, and each process with its pid, whether it is alive and its channels."""
        with self._lock:
            workers = list(self._workers)
            placed = dict(self._placed)
            restarts = self.restarts
        return {
            "channels_per_process": self.channels_per_process,
            "restarts": restarts,
            "processes": [
                {
                    "name": worker.name,
                    "pid": worker.pid,
                    "alive": worker.alive,
                    "channels": sorted(c for c, w in placed.items() if w is worker),
                }
                for worker in workers
            ],
        }

    def place(self, channel_id: str) -> WorkerProcess:
        """The worker that will run ``channel_id``: the least loaded with room, or a new one
        (started here: blocking)."""
        with self._lock:
            loads = {
                worker: sum(1 for w in self._placed.values() if w is worker)
                for worker in self._workers
            }
            room = [w for w, n in loads.items() if n < self.channels_per_process and w.alive]
            if room:
                worker = min(room, key=lambda w: loads[w])
                self._placed[channel_id] = worker
                return worker
            self._count += 1
            name = f"camera-runtime-worker-{self._count}"
        worker = self._spawn(name)
        with self._lock:
            self._workers.append(worker)
            self._placed[channel_id] = worker
        return worker

    def _spawn(self, name: str) -> WorkerProcess:
        worker = WorkerProcess(name, self._plugins, self._emit, self._changed, self._exited)
        worker.start()
        _LOGGER.info("%s started (pid %s)", name, worker.pid)
        return worker

    def _exited(self, worker: WorkerProcess) -> None:
        with self._lock:
            if self._stopping or worker in self._retired:
                self._retired.discard(worker)
                return
            ids = [cid for cid, w in self._placed.items() if w is worker]
        _LOGGER.error(
            "%s (pid %s) exited: restarting its %d channel(s)", worker.name, worker.pid, len(ids)
        )
        self._lost(worker, ids)

    def replace(self, dead: WorkerProcess) -> WorkerProcess:
        """A new worker in place of ``dead``, which gets its channels (blocking; a
        ``WorkerGoneError`` when it does not start: try again later)."""
        with self._lock:
            if self._stopping:
                raise WorkerGoneError("the runtime is stopping")
        worker = self._spawn(dead.name)
        with self._lock:
            self.restarts += 1
            if dead in self._workers:
                self._workers[self._workers.index(dead)] = worker
            else:
                self._workers.append(worker)
            for channel_id, placed in list(self._placed.items()):
                if placed is dead:
                    self._placed[channel_id] = worker
        return worker

    def release(self, channel_id: str) -> None:
        """The channel left its worker; an empty worker stops."""
        with self._lock:
            worker = self._placed.pop(channel_id, None)
            empty = worker is not None and worker not in self._placed.values()
            if empty and worker in self._workers:
                self._workers.remove(worker)
                self._retired.add(worker)
        if empty and worker is not None:
            worker.stop()

    def stop(self) -> None:
        """Stop every worker (their channels stop with them)."""
        with self._lock:
            self._stopping = True
            workers, self._workers = self._workers, []
            self._placed.clear()
        for worker in workers:
            worker.stop()
