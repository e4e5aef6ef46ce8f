"""The in-process event bus: every event change goes through it, in order, on the event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .model import EventUpdate

_LOGGER = logging.getLogger(__name__)

EventCallback = Callable[[EventUpdate], None]


class EventBus:
    """Fan-out of event updates to subscribers.

    ``publish`` must be called on the event loop thread (channels hand updates over with
    ``loop.call_soon_threadsafe``). Callbacks run synchronously in subscription order and must
    not block; one that raises is logged and the others still run.
    """

    def __init__(self) -> None:
        self._subscribers: list[EventCallback] = []

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Add ``callback``; the returned function removes it (safe to call twice)."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, update: EventUpdate) -> None:
        for callback in list(self._subscribers):
            try:
                callback(update)
            except Exception:
                _LOGGER.exception("event subscriber %r failed on %s", callback, update.event.id)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
