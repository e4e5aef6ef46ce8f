"""The Runtime: owns the plugin manager, the channels, the event bus and the event history.

A library object first: the CLI, the HTTP API, MQTT and Home Assistant are thin hosts around
it. Several runtimes may live in one process (Home Assistant can host more than one), so
nothing here is global.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import platform
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import pluggy

from . import __version__
from .captures import Captures
from .channel import Channel
from .config import (
    ChannelConfig,
    RuntimeConfig,
    read_yaml_file,
    validate_config,
)
from .config_file import write_yaml_file
from .events import ChannelBus, EventBus
from .exceptions import ConfigError, NoFrameError, NotFoundError, StorageError
from .history import EventHistory
from .live import encode_jpeg
from .model import ChannelChange, ChannelUpdate, EventUpdate
from .mqtt import MqttBridge
from .overrides import Overrides, merged_options
from .plugins import PluginRegistry, collect_registry, create_plugin_manager

_LOGGER = logging.getLogger(__name__)

MODEL = "camera-runtime"

#: Running channels' status (fps, frame count) is pushed this often on the channel bus.
STATS_INTERVAL = 10.0


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
        self.channel_bus = ChannelBus()
        self.history = EventHistory(self.data_dir / "events.sqlite3")
        self.overrides = Overrides(self.data_dir)
        self.captures = Captures(self.data_dir / "captures")
        self.channels: dict[str, Channel] = {}
        self.device_id = ""
        self.started_at = 0.0
        #: The YAML file channels added or removed at run time are written back to (None: the
        #: host that passed the config in owns it, and such changes last until the stop).
        self.config_path: Path | None = None
        #: The config as the user wrote it (no defaults filled in): what is written back.
        self.source_data: dict[str, Any] = dict(config.raw)
        #: Top-level keys given outside the file (the CLI's ``--mqtt-*``): they apply over
        #: ``source_data`` whenever it is validated again, and are never written to the file.
        self.overlay: dict[str, Any] = {}
        self._config_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: list[Any] = []
        self._changed: set[str] = set()
        self._changed_lock = threading.Lock()
        self._stats_task: asyncio.Task[None] | None = None
        self._running = False
        #: The MQTT bridge, while running with an ``mqtt:`` block.
        self.mqtt: MqttBridge | None = None
        # One writer thread: saves happen in the order the changes were made.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runtime-writer")

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
        runtime = cls(config, data_dir=Path(folder), plugin_manager=pm, registry=registry)
        runtime.source_data = copy.deepcopy(dict(data)) if isinstance(data, Mapping) else {}
        return runtime

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        data_dir: str | Path | None = None,
        extra_plugins: Iterable[ModuleType | object | str] = (),
    ) -> Runtime:
        runtime = cls.from_data(
            read_yaml_file(path), data_dir=data_dir, extra_plugins=extra_plugins
        )
        runtime.config_path = Path(path)
        return runtime

    # ---------------------------------------------------------------- lifecycle

    def _load_device_id(self) -> str:
        """A stable id for this runtime (Home Assistant's unique id), kept in the data folder."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
        self._running = True
        try:
            self.device_id = await self._loop.run_in_executor(None, self._load_device_id)
            await self._loop.run_in_executor(None, self.overrides.load)
        except OSError as err:
            raise StorageError(f"cannot use the data folder {self.data_dir}: {err}") from err
        await self.history.open()
        self._unsubscribe.append(self.bus.subscribe(self.history.record))
        self._unsubscribe.append(self.bus.subscribe(self._call_after_event))
        for channel_config in self.config.channels:
            self._add(channel_config)
        if self.config.mqtt is not None:
            # No await between the channels' start and the bridge's subscriptions: it sees
            # every event. It never waits for the broker (it connects in the background).
            self.mqtt = MqttBridge(self, self.config.mqtt)
            try:
                await self.mqtt.start()
            except BaseException:  # e.g. unreadable TLS files: nothing stays running
                self.mqtt = None
                await self.stop()
                raise
        self._stats_task = asyncio.create_task(self._push_stats(), name="runtime-stats")
        self.started_at = time.time()
        self.pm.hook.after_runtime_start(runtime=self)
        _LOGGER.info("runtime %s started with %d channel(s)", self.device_id, len(self.channels))

    async def stop(self) -> None:
        if not self._running:  # never started, or already stopped: nothing to do
            return
        self._running = False
        if self.started_at:  # not when start() itself failed half-way
            self.pm.hook.before_runtime_stop(runtime=self)
        self.started_at = 0.0
        if self._stats_task is not None:
            self._stats_task.cancel()
            await asyncio.wait({self._stats_task})
            self._stats_task = None
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, channel.stop) for channel in self.channels.values())
        )
        # Let the updates the channels sent while stopping reach the bus and the history.
        await asyncio.sleep(0)
        if self.mqtt is not None:  # after the channels: their last "end" updates go out too
            await self.mqtt.stop()
            self.mqtt = None
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self.history.close()
        await loop.run_in_executor(None, self._writer.shutdown)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runtime-writer")
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

    # ---------------------------------------------------------------- channel changes

    def _channel_changed(self, channel_id: str) -> None:
        """From any thread: queue one ``changed`` push; several changes in a row make one."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._changed_lock:
            first = not self._changed
            self._changed.add(channel_id)
        if first:
            loop.call_soon_threadsafe(self._publish_changed)

    def _publish_changed(self) -> None:
        with self._changed_lock:
            pending, self._changed = self._changed, set()
        for channel_id in sorted(pending):
            channel = self.channels.get(channel_id)
            if channel is not None:
                self.channel_bus.publish(
                    ChannelUpdate(ChannelChange.CHANGED, channel_id, channel.status())
                )

    async def _push_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            for channel in list(self.channels.values()):
                if channel.state == "online":
                    self.channel_bus.publish(
                        ChannelUpdate(ChannelChange.CHANGED, channel.id, channel.status())
                    )

    def _add(self, channel_config: ChannelConfig) -> Channel:
        """Create (with its overrides applied) and start a channel."""
        channel = Channel(
            channel_config, self.registry, self.emit_threadsafe, self._channel_changed
        )
        self.overrides.apply(channel, self.registry)
        self.channels[channel.id] = channel
        if channel_config.enabled:
            channel.start()
        return channel

    def _save_overrides(self) -> None:
        snapshot = copy.deepcopy(self.overrides.channels)

        def save() -> None:
            try:
                self.overrides.save_data(snapshot)
            except StorageError as err:
                _LOGGER.error("%s", err.message)

        self._writer.submit(save)

    # ---------------------------------------------------------------- queries and commands

    def channel(self, channel_id: str) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise NotFoundError(f"no channel {channel_id!r}", "channel_not_found") from None

    def set_armed(self, channel_id: str, armed: bool) -> None:
        """The channel's arming switch; kept across restarts."""
        self.channel(channel_id).armed = armed
        self.overrides.set_armed(channel_id, armed)
        self._save_overrides()

    def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Switch a detector on or off and/or change some of its options (merged into the
        current ones and checked by the detector's schema: ``ConfigError`` changes nothing);
        kept across restarts."""
        channel = self.channel(channel_id)
        if kind not in channel.detectors:
            raise NotFoundError(
                f"channel {channel_id!r} has no {kind!r} detector", "detector_not_found"
            )
        merged = merged_options(self.registry, channel, kind, options) if options else None
        channel.set_detector(kind, enabled=enabled, options=merged)
        self.overrides.set_detector(channel_id, kind, enabled, dict(options) if options else None)
        self._save_overrides()

    async def snapshot(self, channel_id: str) -> bytes:
        """JPEG of the newest frame: the live view's encode when it has one, else one encode
        off the event loop; ``NoFrameError`` before the first picture."""
        channel = self.channel(channel_id)
        jpeg = channel.live.cached_jpeg()
        if jpeg is not None:
            return jpeg
        frame = channel.slot.frame
        if frame is None:
            raise NoFrameError(f"channel {channel_id!r} has no picture yet")
        return await asyncio.get_running_loop().run_in_executor(None, encode_jpeg, frame)

    async def capture(self, channel_id: str) -> dict[str, Any]:
        """Capture picture: the newest frame as a JPEG kept in the data folder."""
        jpeg = await self.snapshot(channel_id)
        loop = asyncio.get_running_loop()
        capture = await loop.run_in_executor(None, self.captures.save, channel_id, jpeg)
        return capture.as_dict()

    # ---------------------------------------------------------------- channels at run time

    async def add_channel(self, data: Mapping[str, Any]) -> Channel:
        """Add and start a channel; ``ConfigError`` (nothing changes) when it is invalid or its
        id is taken. Written back to the config file when the runtime was loaded from one."""
        if not isinstance(data, Mapping):
            raise ConfigError("a channel must be a mapping", ["channel: expected a mapping"])
        async with self._config_lock:  # one change at a time: check, validate, write, apply
            channel_id = data.get("id")
            if isinstance(channel_id, str) and channel_id in self.channels:
                message = f"channel.id: a channel {channel_id!r} already exists"
                raise ConfigError(message, [message])
            new_source = copy.deepcopy(self.source_data)
            listed = new_source.get("channels")
            new_source["channels"] = [*(listed if isinstance(listed, list) else []), dict(data)]
            config = await self._apply_source(new_source)
            channel = self._add(config.channels[-1])
        self.channel_bus.publish(ChannelUpdate(ChannelChange.ADDED, channel.id, channel.status()))
        _LOGGER.info("channel %s added", channel.id)
        return channel

    async def remove_channel(self, channel_id: str) -> None:
        """Stop and remove a channel (its events stay in the history)."""
        async with self._config_lock:
            channel = self.channel(channel_id)
            new_source = copy.deepcopy(self.source_data)
            listed = new_source.get("channels")
            new_source["channels"] = [
                c
                for c in (listed if isinstance(listed, list) else [])
                if not (isinstance(c, Mapping) and c.get("id") == channel_id)
            ]
            await self._apply_source(new_source)
            del self.channels[channel_id]
            await asyncio.get_running_loop().run_in_executor(None, channel.stop)
            await asyncio.sleep(0)  # the channel's last updates (events ended) go out first
            self.overrides.forget(channel_id)
            self._save_overrides()
        self.channel_bus.publish(ChannelUpdate(ChannelChange.REMOVED, channel_id, None))
        _LOGGER.info("channel %s removed", channel_id)

    async def _apply_source(self, new_source: dict[str, Any]) -> RuntimeConfig:
        """Validate (with the overlay, e.g. ``--mqtt-*`` options), write the file back (without
        the overlay: the file stays as the user wrote it), then adopt the new config."""
        config = validate_config({**new_source, **self.overlay}, self.registry)
        if self.config_path is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._writer, write_yaml_file, self.config_path, new_source
            )
        self.config, self.source_data = config, new_source
        return config

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
            # Home Assistant raises a repair when both MQTT discovery and its integration
            # would create this device's entities.
            "mqtt_discovery": self.mqtt is not None and self.mqtt.discovery_enabled,
        }


__all__ = ["Runtime", "build_plugins"]
