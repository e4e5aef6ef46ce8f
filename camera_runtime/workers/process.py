"""The runtime's handle on one channel worker process (``host.py``): spawns it, keeps the
newest snapshot of each of its channels, hands their event updates on, and makes the calls.

Snapshots and events arrive on the link's reader thread: ``emit`` and ``changed`` are the
runtime's thread-safe callbacks (the channel bus coalesces ``changed`` onto the event loop).
Calls block until the worker answers; the runtime makes them off its event loop.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from ..config import ChannelConfig
from ..exceptions import WorkerGoneError
from ..model import EventUpdate
from . import host
from .host import ChannelSnapshot
from .link import CALL_TIMEOUT, Link

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a new worker may take to import its plugins and say it is ready (s).
START_TIMEOUT = 60.0
#: How long a stopping worker may take to stop its channels before it is killed (s).
STOP_TIMEOUT = 15.0

#: multiprocessing reaps a child (``waitpid``) from whichever thread asks: ``join``,
#: ``is_alive``, ``exitcode``, and every ``Process.start`` for all the children. Two at once
#: race, and the loser finds no child and takes the exited worker for a live one: a stop
#: whose link thread was reaping beside it warned "did not stop: killed" at once and sent
#: SIGKILL to a pid already reaped. Every reap holds this lock; waiting is done on the
#: process's sentinel (readable once it exits), which any number of threads may.
_REAP_LOCK = threading.Lock()


def _ended(process: BaseProcess, timeout: float) -> bool:
    """Whether ``process`` has exited, waiting up to ``timeout`` (s) on its sentinel; reaps
    nothing, so any thread may ask."""
    return bool(wait([process.sentinel], timeout))


class WorkerProcess:
    """One spawned worker. ``exited(worker)`` is told once when its process is gone (or its
    link broke), from the link's thread."""

    def __init__(
        self,
        name: str,
        plugins: Iterable[str],
        emit: Callable[[EventUpdate], None],
        changed: Callable[[str], None],
        exited: Callable[[WorkerProcess], None] = lambda worker: None,
    ) -> None:
        self.name = name
        self._plugins = tuple(plugins)
        self._emit = emit
        self._changed = changed
        self._exited = exited
        self._snapshots: dict[str, ChannelSnapshot] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._process: BaseProcess | None = None
        self._link: Link | None = None
        #: What the relays take of the worker's messages, by kind (``on``).
        self._handlers: dict[str, Callable[[tuple[Any, ...]], None]] = {}
        #: The relays' runtime sides, by key (``part``).
        self._parts: dict[str, Any] = {}
        self._parts_lock = threading.Lock()
        #: Told when the worker is gone (``on_exit``): relays end their streams.
        self._on_exit: list[Callable[[], None]] = []

    def part(self, key: str, build: Callable[[WorkerProcess], T]) -> T:
        """This worker's relay ``key`` (the runtime side of the live, stream or packets
        relay), built by ``build(self)`` the first time: each registers its handlers once."""
        with self._parts_lock:
            found = self._parts.get(key)
            if found is None:
                found = self._parts[key] = build(self)
            return found

    def on(self, kind: str, handler: Callable[[tuple[Any, ...]], None]) -> None:
        """Hand the worker's messages of ``kind`` to ``handler`` (on the link's thread)."""
        self._handlers[kind] = handler

    def on_exit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the link's thread) once the worker is gone."""
        self._on_exit.append(callback)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exitcode(self) -> int | None:
        if self._process is None:
            return None
        with _REAP_LOCK:
            return self._process.exitcode

    @property
    def alive(self) -> bool:
        link = self._link
        return link is not None and not link.closed and not self._exited_within(0)

    def _exited_within(self, timeout: float) -> bool:
        """Whether the process has exited, waiting up to ``timeout`` (s) for it; an exited
        one is reaped, so its exit code is known."""
        process = self._process
        if process is None:
            return True
        if not _ended(process, timeout):
            return False
        with _REAP_LOCK:
            process.join()  # its sentinel says it exited: at once
        return True

    def channel_ids(self) -> list[str]:
        with self._lock:
            return list(self._snapshots)

    def start(self) -> None:
        """Spawn the process and wait until it is ready (``WorkerGoneError`` if it is not)."""
        context = mp.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(
            target=host.serve,
            args=(theirs, self._plugins, self.name),
            name=self.name,
            daemon=True,
        )
        with _REAP_LOCK:  # ``start`` polls every child of this process
            self._process.start()
        theirs.close()
        self._link = Link(ours, self.name, self._on_message, on_closed=self._on_closed)
        self._link.start()
        if not self._ready.wait(START_TIMEOUT):
            self.kill()
            raise WorkerGoneError(f"{self.name}: not ready in {START_TIMEOUT:g} s")

    def stop(self) -> None:
        """Close the link (the worker stops its channels and exits); kill it if it lingers."""
        if self._link is not None:
            self._link.close()
        if not self._exited_within(STOP_TIMEOUT):
            _LOGGER.warning("%s: did not stop in %g s: killed", self.name, STOP_TIMEOUT)
            self.kill()

    def kill(self) -> None:
        process = self._process
        if process is None:
            return
        with _REAP_LOCK:  # not reaped meanwhile: its pid is still its own
            if not _ended(process, 0):
                process.kill()
        self._exited_within(STOP_TIMEOUT)

    # ----------------------------------------------------------------- what it pushes

    def snapshot(self, channel_id: str) -> ChannelSnapshot:
        with self._lock:
            return self._snapshots[channel_id]

    def _keep(self, channel_id: str, snapshot: ChannelSnapshot) -> bool:
        """Cache ``snapshot`` unless the channel was closed meanwhile or a newer one is
        cached already (a reply stored after the pushes that overtook it); whether it was."""
        with self._lock:
            cached = self._snapshots.get(channel_id)
            if cached is None or cached.seq >= snapshot.seq:
                return False
            self._snapshots[channel_id] = snapshot
        return True

    def _on_message(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "status":
            _, channel_id, snapshot = message
            if self._keep(channel_id, snapshot):
                self._changed(channel_id)
        elif kind == "event":
            self._emit(message[1])
        elif kind == "ready":
            self._ready.set()
        else:
            handler = self._handlers.get(kind)
            if handler is not None:
                handler(message)
            else:
                _LOGGER.warning("%s: unexpected message %r", self.name, kind)

    def _on_closed(self) -> None:
        self._ready.set()
        self._exited_within(1.0)  # reaped, so its exit code is known to the callbacks
        for callback in self._on_exit:
            try:
                callback()
            except Exception:
                _LOGGER.exception("%s: an exit callback failed", self.name)
        self._exited(self)

    # ----------------------------------------------------------------- calls

    def call(self, name: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        """A call the worker answers (a relay's, ``WorkerHost.handle``): its result."""
        link = self._link
        if link is None:
            raise WorkerGoneError(f"{self.name}: not started")
        return link.call(name, *args, timeout=timeout)

    def _call(self, name: str, *args: Any) -> Any:
        return self.call(name, *args)

    def open(self, config: ChannelConfig) -> ChannelSnapshot:
        """Create the channel in the worker (not started)."""
        snapshot: ChannelSnapshot = self._call("open", config)
        with self._lock:  # nothing is pushed for it before it starts
            self._snapshots[config.id] = snapshot
        return snapshot

    def command(self, channel_id: str, name: str, *args: Any) -> ChannelSnapshot:
        """``start``, ``stop`` or ``set``: the channel's snapshot after it."""
        snapshot: ChannelSnapshot = self._call(name, channel_id, *args)
        self._keep(channel_id, snapshot)
        return snapshot

    def invoke(self, channel_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """A channel method (``host.INVOKABLE``): its result; the snapshot after it is kept,
        so what the method changed reads back at once."""
        value, snapshot = self._call("invoke", channel_id, method, args, kwargs)
        self._keep(channel_id, snapshot)
        return value

    def close(self, channel_id: str) -> None:
        """Stop the channel and take it out of the worker."""
        try:
            self._call("close", channel_id)
        finally:
            with self._lock:
                self._snapshots.pop(channel_id, None)
