"""The storage-error exception: one watch over every file the runtime writes (event history,
run-time settings, captures, the config file, the MQTT outbox).

Nothing is lost silently. A source that fails to write reports it here: the first failure of
an episode is logged (once, not per write), and while any source fails the device raises a
``storage_error`` exception event (the manual's "HDD error"), which every face carries like
any event: the API's history and WebSocket, MQTT, Home Assistant. The event ends when every
source writes again. What a source holds back and what it had to drop are counted and shown
in the device information (``storage``) and in the event's data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from .capabilities import EventTypeInfo
from .exceptions import StorageError
from .model import DEVICE, Event, EventPhase, EventUpdate

_LOGGER = logging.getLogger(__name__)

STORAGE_ERROR = EventTypeInfo(
    "storage_error", "Storage error", device_class="problem", exception=True
)
#: The manual's "HDD Full": recordings stopped at their limits with overwrite off.
STORAGE_FULL = EventTypeInfo("storage_full", "Storage full", device_class="problem", exception=True)


@dataclass
class _Source:
    error: str = ""
    since: float = 0.0
    pending: int = 0
    dropped: int = 0
    failures: int = 0


class StorageHealth:
    """Collects the write failures of the runtime's storage sources. Call it on the event loop
    (a writer thread hands its reports over with ``loop.call_soon_threadsafe``); ``publish``
    receives the ``storage_error`` event's changes."""

    def __init__(
        self, publish: Callable[[EventUpdate], None], kind: EventTypeInfo = STORAGE_ERROR
    ) -> None:
        """``kind``: the exception event raised (``STORAGE_FULL`` for the sources that stop
        when full)."""
        self._publish = publish
        self._kind = kind
        self._sources: dict[str, _Source] = {}
        self._event: Event | None = None

    def failed(
        self,
        source: str,
        error: str,
        *,
        pending: int = 0,
        dropped: int = 0,
        retrying: bool = True,
    ) -> None:
        """``source`` could not write (``error`` says why, fit for a user: no path); it holds
        ``pending`` items to write later and has dropped ``dropped`` in all. A source that
        does not retry (a change that was refused) counts as failing until it writes again."""
        state = self._sources.setdefault(source, _Source())
        first = not state.error
        state.failures += 1
        state.error, state.pending, state.dropped = error, pending, dropped
        if first:
            state.since = time.time()
            then = "retrying" if retrying else "the change was refused"
            _LOGGER.error(
                "%s: %s cannot write: %s (%s)", self._kind.label.lower(), source, error, then
            )
        self._update()

    def recovered(self, source: str, *, dropped: int = 0) -> None:
        """``source`` writes again and holds nothing back."""
        state = self._sources.get(source)
        if state is None or not state.error:
            return
        lost = f", {dropped} item(s) dropped meanwhile" if dropped else ""
        _LOGGER.info(
            "storage recovered: %s writes again after %d failed attempt(s)%s",
            source,
            state.failures,
            lost,
        )
        state.error, state.pending, state.dropped, state.failures = "", 0, dropped, 0
        self._update()

    def report(self, source: str, error: str | None, *, pending: int = 0, dropped: int = 0) -> None:
        """``failed`` when there is an ``error``, else ``recovered``."""
        if error is None:
            self.recovered(source, dropped=dropped)
        else:
            self.failed(source, error, pending=pending, dropped=dropped)

    async def guard[T](self, source: str, write: Awaitable[T]) -> T:
        """Await a write of ``source``: a ``StorageError`` is reported here, then raised to
        the caller (who is told, and may try again); a success ends the source's failure."""
        try:
            result = await write
        except StorageError as err:
            self.failed(source, err.message, retrying=False)
            raise
        self.recovered(source)
        return result

    @property
    def failing(self) -> dict[str, str]:
        return {name: s.error for name, s in self._sources.items() if s.error}

    def status(self) -> dict[str, Any]:
        """For the device information: whether every source writes, and per source what fails,
        what waits and what was lost."""
        return {
            "ok": not self.failing,
            "sources": {
                name: {
                    "error": s.error,
                    "pending": s.pending,
                    "dropped": s.dropped,
                    "since": s.since if s.error else None,
                }
                for name, s in self._sources.items()
            },
        }

    def _data(self) -> dict[str, Any]:
        return {
            "sources": {
                name: {"error": s.error, "pending": s.pending, "dropped": s.dropped}
                for name, s in self._sources.items()
                if s.error or s.dropped
            }
        }

    def _update(self) -> None:
        now = time.time()
        if self.failing:
            if self._event is None:
                self._event = Event(DEVICE, self._kind.name, now, data=self._data())
                self._publish(EventUpdate(EventPhase.NEW, replace(self._event)))
            elif self._event.data != (data := self._data()):
                self._event.data = data
                self._publish(EventUpdate(EventPhase.UPDATE, replace(self._event)))
        elif self._event is not None:
            event, self._event = self._event, None
            event.end, event.data = now, self._data()
            self._publish(EventUpdate(EventPhase.END, event))


__all__ = ["STORAGE_ERROR", "STORAGE_FULL", "StorageHealth"]
