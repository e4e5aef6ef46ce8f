"""The in-process buses: every event change and every channel change goes through one, in order, on the event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .model import ChannelUpdate, EventUpdate

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
    """Channel changes: added, changed (state, switches, options, periodic stats), removed."""

    def __init__(self) -> None:
        super().__init__("channel bus")


__all__ = ["Bus", "ChannelBus", "EventBus"]
