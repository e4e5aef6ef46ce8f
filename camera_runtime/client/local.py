"""``LocalClient``: a runtime in the host's own process (Home Assistant's embedded mode).

No HTTP server and no sockets: commands are method calls on the ``Runtime``, updates come from
its event and channel buses, pictures from the channel's live view. JPEG encoding runs in the
default executor, so the event loop never encodes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from ..model import ChannelUpdate, EventUpdate
from ..runtime import Runtime
from .base import RuntimeClient, Unsubscribe


class LocalClient(RuntimeClient):
    """Wraps ``runtime``. ``start()`` starts it (unless ``owns_runtime=False``: the caller
    started it) and ``close()`` stops it."""

    def __init__(self, runtime: Runtime, *, owns_runtime: bool = True) -> None:
        super().__init__()
        self.runtime = runtime
        self._owns = owns_runtime
        self._unsubscribe: list[Unsubscribe] = []
        self._running = False

    def _on_event(self, update: EventUpdate) -> None:
        self._apply_event(update.as_dict())

    def _on_channel(self, update: ChannelUpdate) -> None:
        self._apply_channel(update.as_dict())

    async def start(self) -> None:
        # Subscribed before the runtime starts: its first events are never missed.
        self._unsubscribe = [
            self.runtime.bus.subscribe(self._on_event),
            self.runtime.channel_bus.subscribe(self._on_channel),
        ]
        self._running = True  # from here on close() stops the runtime, even half started
        if self._owns:
            try:
                await self.runtime.start()
            except BaseException:
                self._unsubscribe_all()
                raise
        self._resync([c.status() for c in self.runtime.channels.values()], [])
        self._set_connected(True)

    def _unsubscribe_all(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    async def close(self) -> None:
        """Stop the runtime first (its last updates, e.g. video loss ``end``, still arrive).
        Idempotent: a host may close on shutdown and again when it unloads."""
        if not self._running:
            return
        self._running = False
        try:
            if self._owns:
                await self.runtime.stop()
        finally:
            self._unsubscribe_all()
            self._set_connected(False)

    async def device_info(self) -> dict[str, Any]:
        return self.runtime.device_info()

    async def fetch_channels(self) -> list[dict[str, Any]]:
        return [channel.status() for channel in self.runtime.channels.values()]

    async def set_armed(self, channel_id: str, armed: bool) -> dict[str, Any]:
        self.runtime.set_armed(channel_id, armed)
        return self._apply_status(self.runtime.channel(channel_id).status())

    async def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.runtime.set_detector(channel_id, kind, enabled=enabled, options=options)
        return self._apply_status(self.runtime.channel(channel_id).status())

    async def capture(self, channel_id: str) -> dict[str, Any]:
        return dict(await self.runtime.capture(channel_id))

    async def snapshot(self, channel_id: str) -> bytes:
        return await self.runtime.snapshot(channel_id)

    async def mjpeg(self, channel_id: str) -> AsyncGenerator[bytes]:
        channel = self.runtime.channel(channel_id)
        async with contextlib.aclosing(channel.live.stream()) as frames:
            async for jpeg in frames:
                yield jpeg


__all__ = ["LocalClient"]
