"""The Runtime: owns the plugin manager, the channels, the event bus and the event history.

A library object first: the CLI, the HTTP API, MQTT and Home Assistant are thin hosts around
it. Several runtimes may live in one process (Home Assistant can host more than one), so
nothing here is global.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import pluggy

from . import __version__
from .channel import Channel
from .config import RuntimeConfig, read_yaml_file, validate_config
from .events import EventBus
from .exceptions import NotFoundError, StorageError
from .history import EventHistory
from .model import EventUpdate
from .plugins import PluginRegistry, collect_registry, create_plugin_manager

_LOGGER = logging.getLogger(__name__)

MODEL = "camera-runtime"


def _disabled_plugins(data: Any) -> list[str]:
    """The ``plugins.disabled`` list, read before validation: validation needs the plugins."""
    if isinstance(data, Mapping):
        plugins = data.get("plugins")
        if isinstance(plugins, Mapping) and isinstance(plugins.get("disabled"), list):
            return [str(name) for name in plugins["disabled"]]
    return []


def build_plugins(
    data: Any = None, extra_plugins: Iterable[ModuleType | object | str] = ()
) -> tuple[pluggy.PluginManager, PluginRegistry]:
    """A fresh plugin manager and registry for a config's ``plugins.disabled``."""
    pm = create_plugin_manager(
        disabled_plugins=_disabled_plugins(data), extra_plugins=extra_plugins
    )
    return pm, collect_registry(pm)


class Runtime:
    """One camera runtime. Call ``await start()`` on the event loop that will host it."""

    def __init__(
        self,
        config: RuntimeConfig,
        *,
        data_dir: Path,
        plugin_manager: pluggy.PluginManager,
        registry: PluginRegistry,
    ) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self.pm = plugin_manager
        self.registry = registry
        self.bus = EventBus()
        self.history = EventHistory(self.data_dir / "events.sqlite3")
        self.channels: dict[str, Channel] = {}
        self.device_id = ""
        self.started_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: list[Any] = []

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_data(
        cls,
        data: Any,
        *,
        data_dir: str | Path | None = None,
        extra_plugins: Iterable[ModuleType | object | str] = (),
    ) -> Runtime:
        """Build from parsed config data; raises ``ConfigError`` listing every problem."""
        pm, registry = build_plugins(data, extra_plugins)
        config = validate_config(data, registry)
        folder = data_dir if data_dir is not None else config.raw.get("data_dir", "data")
        return cls(config, data_dir=Path(folder), plugin_manager=pm, registry=registry)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        data_dir: str | Path | None = None,
        extra_plugins: Iterable[ModuleType | object | str] = (),
    ) -> Runtime:
        return cls.from_data(read_yaml_file(path), data_dir=data_dir, extra_plugins=extra_plugins)

    # ---------------------------------------------------------------- lifecycle

    def _load_device_id(self) -> str:
        """A stable id for this runtime (Home Assistant's unique id), kept in the data folder."""
        path = self.data_dir / "device.json"
        try:
            stored = json.loads(path.read_text())
            device_id = stored.get("id") if isinstance(stored, dict) else None
            if isinstance(device_id, str) and device_id:
                return device_id
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as err:
            raise StorageError(
                f"{path} is unreadable ({err}); remove it to get a new device id"
            ) from err
        device_id = uuid.uuid4().hex
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": device_id}))
        os.replace(tmp, path)
        return device_id

    async def start(self) -> None:
        # Channels already run in parallel, one thread each: OpenCV's own thread pool (shared
        # by the whole process) only adds hand-offs, about 0.1 ms a frame per channel.
        cv2.setNumThreads(1)
        self._loop = asyncio.get_running_loop()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.device_id = await self._loop.run_in_executor(None, self._load_device_id)
        except OSError as err:
            raise StorageError(f"cannot use the data folder {self.data_dir}: {err}") from err
        await self.history.open()
        self._unsubscribe.append(self.bus.subscribe(self.history.record))
        self._unsubscribe.append(self.bus.subscribe(self._call_after_event))
        for channel_config in self.config.channels:
            channel = Channel(channel_config, self.registry, self.emit_threadsafe)
            self.channels[channel.id] = channel
            if channel_config.enabled:
                channel.start()
        self.started_at = time.time()
        self.pm.hook.after_runtime_start(runtime=self)
        _LOGGER.info("runtime %s started with %d channel(s)", self.device_id, len(self.channels))

    async def stop(self) -> None:
        self.pm.hook.before_runtime_stop(runtime=self)
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, channel.stop) for channel in self.channels.values())
        )
        # Let the updates the channels sent while stopping reach the bus and the history.
        await asyncio.sleep(0)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self.history.close()
        _LOGGER.info("runtime %s stopped", self.device_id)

    # ---------------------------------------------------------------- events

    def emit_threadsafe(self, update: EventUpdate) -> None:
        """Hand an update from any thread to the bus, in order."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.bus.publish, update)

    def _call_after_event(self, update: EventUpdate) -> None:
        self.pm.hook.after_event(runtime=self, update=update)

    # ---------------------------------------------------------------- queries and commands

    def channel(self, channel_id: str) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise NotFoundError(f"no channel {channel_id!r}", "channel_not_found") from None

    def set_armed(self, channel_id: str, armed: bool) -> None:
        self.channel(channel_id).armed = armed

    def device_info(self) -> dict[str, Any]:
        """The manual's 9.1 basic information, plus what a client needs to know of this runtime."""
        device = self.config.device
        return {
            "device_name": device["name"],
            "device_no": device["device_no"],
            "model": MODEL,
            "serial_no": f"{MODEL.upper()}-{self.device_id[:16].upper()}",
            "firmware_version": __version__,
            "device_id": self.device_id,
            "channels": len(self.channels),
            "platform": platform.platform(terse=True),
            "uptime": round(time.time() - self.started_at, 1) if self.started_at else 0.0,
        }


__all__ = ["Runtime", "build_plugins"]
