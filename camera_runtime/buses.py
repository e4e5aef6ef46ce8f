"""The in-process buses: every event change and every channel change goes through one, in order, on the event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from .model import ChannelChange, ChannelStatus, ChannelUpdate, EventUpdate

_LOGGER = logging.getLogger(__name__)


class Bus[T]:
    """Fan-out of updates to subscribers.

    ``publish`` must be called on the event loop thread (channels hand updates over with
    ``loop.call_soon_threadsafe``). Callbacks run synchronously in subscription order and must
    not block; one that raises is logged and the others still run.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[[T], None]] = []

    def subscribe(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Add ``callback``; the returned function removes it (safe to call twice)."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, update: T) -> None:
        for callback in list(self._subscribers):
            try:
                callback(update)
            except Exception:
                _LOGGER.exception("%s subscriber %r failed on %r", self.name, callback, update)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


class EventBus(Bus[EventUpdate]):
    """Event updates (new / update / end) of every channel."""

    def __init__(self) -> None:
        super().__init__("event bus")


class ChannelBus(Bus[ChannelUpdate]):
    """Channel changes: added, changed (state, switches, options, periodic stats), removed.

    ``changed`` may be called from any thread (a channel's worker); changes queued in one turn
    of the event loop make one ``changed`` update per channel, with its status at that time.
    """

    def __init__(self) -> None:
        super().__init__("channel bus")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._status: Callable[[str], ChannelStatus | None] = lambda channel_id: None
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def attach(
        self, loop: asyncio.AbstractEventLoop, status: Callable[[str], ChannelStatus | None]
    ) -> None:
        """Publish ``changed`` updates on ``loop``, with ``status(channel_id)`` (``None``:
        the channel is gone, nothing to say)."""
        self._loop = loop
        self._status = status

    def changed(self, channel_id: str) -> None:
        """From any thread: queue one ``changed`` update; several in a row make one."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            first = not self._pending
            self._pending.add(channel_id)
        if first:
            loop.call_soon_threadsafe(self._publish_pending)

    def _publish_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, set()
        for channel_id in sorted(pending):
            status = self._status(channel_id)
            if status is not None:
                self.publish(ChannelUpdate(ChannelChange.CHANGED, channel_id, status))


__all__ = ["Bus", "ChannelBus", "EventBus"]
