"""``LocalClient``: a runtime in the host's own process (Home Assistant's embedded mode).

No HTTP server and no sockets: commands are calls on the runtime's view, updates come from its
event and channel buses, pictures from its live view. JPEG encoding runs in the default
executor, so the event loop never encodes. ``from_file`` composes the runtime the way every
host does (``camera_runtime.host``), with the faces an embedded runtime runs: MQTT when its
config has an ``mqtt:`` section, never the HTTP API or zeroconf (the host has its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from .. import host
from ..byte_ranges import RangeNotSatisfiable, range_headers, read_range, wanted_range
from ..config_yaml import read_yaml_file
from ..interfaces.runtime import ByteStream
from ..model import SEARCH_KINDS, ChannelUpdate, EventUpdate
from ..runtime import Runtime
from .base import Download, RuntimeClient, Unsubscribe
from .errors import RequestError
from .ptz import PtzCall
from .ptz import command as ptz_command


def validate_file(path: str | Path) -> dict[str, Any]:
    """Check an embedded runtime's config file as ``from_file`` would read it; returns what a
    host shows before starting it: ``device_name`` (the device info's, from ``device.name``)
    and ``channels`` (their count). ``ConfigError`` lists every problem. Blocking."""
    config = host.validate(read_yaml_file(path))
    return {"device_name": config.device["name"], "channels": len(config.channels)}


class LocalClient(RuntimeClient):
    """Wraps ``runtime``. ``start()`` starts it (unless ``owns_runtime=False``: the caller
    started it) and ``close()`` stops it."""

    serves_streams = False
    opens_streams = True

    def __init__(self, runtime: Runtime, *, owns_runtime: bool = True) -> None:
        super().__init__()
        self.runtime = runtime
        self._owns = owns_runtime
        self._unsubscribe: list[Unsubscribe] = []
        self._running = False

    @classmethod
    def from_file(cls, path: str | Path, *, data_dir: str | Path) -> LocalClient:
        """Build (not start) the runtime of a config file with its embedded faces; blocking
        (reads the file, loads the plugins), so a host calls it off its event loop."""
        runtime = host.runtime_from_file(path, data_dir=data_dir)
        host.compose(runtime, api=False)
        return cls(runtime)

    def _on_event(self, update: EventUpdate) -> None:
        self._apply_event(update.as_dict())

    def _on_channel(self, update: ChannelUpdate) -> None:
        self._apply_channel(dict(update.as_dict()))

    async def start(self) -> None:
        # Subscribed before the runtime starts: its first events are never missed.
        self._unsubscribe = [
            self.runtime.subscribe_events(self._on_event),
            self.runtime.subscribe_channels(self._on_channel),
        ]
        self._running = True  # from here on close() stops the runtime, even half started
        if self._owns:
            try:
                await self.runtime.start()
            except BaseException:
                self._unsubscribe_all()
                raise
        self._resync([dict(s) for s in self.runtime.channel_statuses()], [])
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

    def _status(self, channel_id: str) -> dict[str, Any]:
        return self._apply_status(dict(self.runtime.channel_status(channel_id)))

    async def device_info(self) -> dict[str, Any]:
        return dict(self.runtime.device_info())

    async def fetch_channels(self) -> list[dict[str, Any]]:
        return [dict(status) for status in self.runtime.channel_statuses()]

    async def set_armed(self, channel_id: str, armed: bool) -> dict[str, Any]:
        await self.runtime.set_armed(channel_id, armed)
        return self._status(channel_id)

    async def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        await self.runtime.set_detector(channel_id, kind, enabled=enabled, options=options)
        return self._status(channel_id)

    async def set_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        await self.runtime.set_stage(channel_id, kind, enabled=enabled, options=options)
        return self._status(channel_id)

    async def set_target_cropping(
        self, channel_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        await self.runtime.set_target_cropping(channel_id, changes)
        return self._status(channel_id)

    async def set_control(self, channel_id: str, key: str, value: Any) -> dict[str, Any]:
        now = await self.runtime.set_control(channel_id, key, value)
        return self._status(now)

    async def press(self, channel_id: str, key: str) -> dict[str, Any]:
        return dict(await self.runtime.press(channel_id, key))

    async def capture(self, channel_id: str) -> dict[str, Any]:
        return dict(await self.runtime.capture(channel_id))

    async def recordings(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> dict[str, Any]:
        return await self.runtime.recordings_of(channel_id, start, end)

    async def recording(self, segment_id: int) -> bytes:
        path = await self.runtime.recording_file(segment_id)
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)

    async def picture(self, capture_id: str) -> bytes:
        path = self.runtime.capture_file(capture_id)
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)

    @contextlib.asynccontextmanager
    async def playback(
        self, channel_id: str, start: float, end: float, byte_range: str | None = None
    ) -> AsyncIterator[Download]:
        path = await self.runtime.playback_mp4(channel_id, start, end)
        file = await asyncio.get_running_loop().run_in_executor(None, path.open, "rb")
        try:
            size = os.fstat(file.fileno()).st_size
            try:
                first, stop = wanted_range(byte_range, size)
            except RangeNotSatisfiable as err:
                raise RequestError(str(err), "range_not_satisfiable", 416) from None
            status, headers = range_headers(first, stop, size)
            headers["Content-Type"] = "video/mp4"
            yield Download(status, headers, read_range(file, first, stop))
        finally:
            file.close()

    async def pictures(
        self,
        channel_id: str,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
    ) -> list[dict[str, Any]]:
        return await self.runtime.pictures(channel_id, start, end, reason)

    async def search(
        self,
        channel_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str | None = None,
        within: tuple[str, ...] = SEARCH_KINDS,
    ) -> dict[str, list[dict[str, Any]]]:
        return await self.runtime.search(channel_id, start, end, kind, within)

    async def recordings_storage(self) -> dict[str, Any]:
        return await self.runtime.recordings_storage()

    async def record_clip(
        self, channel_id: str, pre: float = 5.0, length: float = 30.0
    ) -> dict[str, Any]:
        return await self.runtime.record_clip(channel_id, pre, length)

    async def record_start(self, channel_id: str) -> dict[str, Any]:
        return await self.runtime.record_start(channel_id)

    async def ptz(self, channel_id: str, call: PtzCall) -> dict[str, Any]:
        spec = ptz_command(call.command)
        method = getattr(self.runtime, spec.call)
        if spec.numbered:
            return dict(await method(channel_id, call.number))
        if spec.body:
            return dict(await method(channel_id, dict(call.data)))
        return dict(await method(channel_id))

    async def record_stop(self, channel_id: str) -> bool:
        return await self.runtime.record_stop(channel_id)

    async def snapshot(
        self, channel_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        return await self.runtime.snapshot(channel_id, width, height)

    async def stream_url(self, channel_id: str, role: str = "main") -> str | None:
        self.runtime.channel_status(channel_id)  # NotFoundError for an unknown channel
        return None  # embedded: no HTTP server to play it from

    async def open_stream(
        self, channel_id: str, role: str = "main", container: str = "ts"
    ) -> ByteStream:
        return await self.runtime.stream(channel_id, role, container)

    async def mjpeg(self, channel_id: str) -> AsyncGenerator[bytes]:
        async with contextlib.aclosing(self.runtime.live(channel_id)) as frames:
            async for jpeg in frames:
                yield jpeg


__all__ = ["LocalClient", "validate_file"]
