"""The Runtime: owns the plugin manager, the channels, the buses, the event history and the
services (faces) its host composed around it, which it starts and stops but never names.

A library object first: the CLI, the HTTP API, MQTT and Home Assistant are thin hosts or faces
around it. Several runtimes may live in one process (Home Assistant can host more than one),
so nothing here is global. ``Runtime`` implements ``interfaces.RuntimeView``, the narrow view
plugins and faces get.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import platform
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import __version__
from .buses import ChannelBus, EventBus
from .capabilities import ControlKind
from .capture_plan import CapturePlans
from .captures import MANUAL, Captures
from .channel import MANUAL_RECORD, RECORD_CLIP, Channel, ChannelState
from .channels import Channels
from .config import (
    ChannelConfig,
    ConfigSection,
    RuntimeConfig,
    validate_config,
)
from .config_file import ConfigFile
from .data_folder import DataFolderLock, load_device_id
from .event_snapshots import EventSnapshots
from .exceptions import (
    ChannelStoppedError,
    ConfigError,
    NotFoundError,
    StorageError,
)
from .history import EventHistory
from .imaging import one_opencv_thread
from .interfaces import Service
from .linkage.engine import Linkage
from .live import JPEG_QUALITY
from .model import (
    ChannelChange,
    ChannelStatus,
    ChannelUpdate,
    DeviceInfo,
    Event,
    EventUpdate,
)
from .overrides import Overrides
from .ptz.book import PtzBook
from .ptz.controls import POINT as PTZ_POINT
from .ptz.methods import PTZ_STORAGE, PtzMethods
from .recording.service import INDEX_FILE as RECORDING_INDEX
from .recording.service import Recordings
from .registry import PluginRegistry, build_plugins
from .runtime_recording import RecordingMethods
from .stitching import controls as stitching_controls
from .stitching import hub as stitching_hub
from .stitching.controls import DISTANCE
from .stitching.controls import POINT as STITCH_POINT
from .stitching.methods import StitchingMethods
from .storage_health import STORAGE_ERROR, STORAGE_FULL, StorageHealth
from .storage_sensors import storage_sensors
from .streaming import MUXERS, StreamReader
from .uploads.naming import Picture
from .uploads.uploader import Uploads
from .workers.pool import WorkerPool, plugin_modules, worker_sensors

_LOGGER = logging.getLogger(__name__)

MODEL = "camera-runtime"

#: How often retention runs besides after each capture (captures expire by age).
RETENTION_INTERVAL = 3600.0
#: The storage sources the runtime itself writes (the storage watch names them so).
HISTORY, SETTINGS, CAPTURES, CONFIG, RECORDINGS = (
    "event history",
    "run-time settings",
    "captures",
    "config file",
    "recordings",
)


class Runtime(RecordingMethods, PtzMethods, StitchingMethods):
    """One camera runtime. Call ``await start()`` on the event loop that will host it."""

    def __init__(
        self,
        config: RuntimeConfig,
        *,
        data_dir: Path,
        plugin_manager: pluggy.PluginManager,
        registry: PluginRegistry,
        sections: Iterable[ConfigSection] = (),
    ) -> None:
        self.config = config
        self.data_dir = Path(data_dir)
        self.pm = plugin_manager
        self.registry = registry
        #: The config sections of the faces the host composes: every later validation
        #: (channels added at run time, ``validate_config``) accepts them too.
        self.sections = tuple(sections)
        self.bus = EventBus()
        self.channel_bus = ChannelBus()
        #: Write failures of every file the runtime keeps: the storage-error exception.
        self.storage = StorageHealth(self.bus.publish)
        #: Recordings stopped at their limits (overwrite off): the storage-full exception.
        self.storage_full = StorageHealth(self.bus.publish, STORAGE_FULL)
        self.history = EventHistory(
            self.data_dir / "events.sqlite3",
            lambda error, pending, dropped: self.storage.report(
                HISTORY, error, pending=pending, dropped=dropped
            ),
        )
        self.overrides = Overrides(self.data_dir, registry)
        retention = config.captures
        self.captures = Captures(
            self.data_dir / "captures",
            retention["expired_time_days"],
            retention["quota_mb"],
            index=self.data_dir / RECORDING_INDEX,
        )
        #: Saved ePTZ presets, patrols and patterns (``ptz.json``).
        self.ptz_book = PtzBook(self.data_dir)
        self.channels = Channels(
            registry, self.overrides, self.emit_threadsafe, self.channel_bus, self._prepare
        )
        #: Segments, clips and their index (``recording/``); recorders per recording channel.
        limits = config.recordings
        self.recordings = Recordings(
            self.data_dir,
            self._recording_report,
            quota_bytes=int(limits["quota_mb"] * 1024 * 1024),
            min_free_bytes=int(limits["min_free_mb"] * 1024 * 1024),
            overwrite=limits["overwrite"],
            report_full=self._recording_full,
        )
        #: Picture uploads to FTP servers and NAS shares (``uploads/``).
        self.uploads = Uploads(
            config.uploads,
            registry,
            self.data_dir,
            lambda source, error, pending, dropped: self.storage.report(
                source, error, pending=pending, dropped=dropped
            ),
        )
        #: Pictures captured by timing and on events (``capture_plan.py``).
        self.capture_plans = CapturePlans(self._auto_capture)
        self.services: dict[str, Service] = {}
        #: Linkage rules and linked resources (``linkage/``); started with the channels.
        self.linkage = Linkage(
            self, registry, self.bus.publish, self._adopt_linkage, self._written_linkage
        )
        self._folder_lock = DataFolderLock(self.data_dir)
        self.device_id = ""
        self.started_at = 0.0
        #: The config as the user wrote it, where it is written back, and the CLI's overlay.
        self.config_file = ConfigFile(config.raw)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clip_uploads = set()
        self._unsubscribe: list[Callable[[], None]] = []
        #: Each stitched device's hub detach, by device id (its channels are rebuilt alone).
        self._stitch_hubs: dict[str, Callable[[], None]] = {}
        self._started_services: list[Service] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.event_snapshots = EventSnapshots(self._save_snapshot)
        self._running = False
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
        sections: Iterable[ConfigSection] = (),
    ) -> Runtime:
        """Build from parsed config data; raises ``ConfigError`` listing every problem."""
        sections = tuple(sections)
        pm, registry = build_plugins(data, extra_plugins)
        config = validate_config(data, registry, sections)
        folder = data_dir if data_dir is not None else config.raw.get("data_dir", "data")
        runtime = cls(
            config, data_dir=Path(folder), plugin_manager=pm, registry=registry, sections=sections
        )
        runtime.config_file = ConfigFile(data if isinstance(data, Mapping) else {})
        return runtime

    def add_service(self, service: Service) -> None:
        """Run ``service`` with this runtime (before ``start``): started before the channels'
        threads, stopped after them."""
        if self._running:
            raise RuntimeError("services are added before the runtime starts")
        if service.name in self.services:
            raise ValueError(f"a service {service.name!r} is already added")
        self.services[service.name] = service

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Open the data folder, create the channels, start the services, then the channels'
        threads; on any failure everything started is stopped again before the error rises."""
        one_opencv_thread()
        self._loop = asyncio.get_running_loop()
        self.channel_bus.attach(self._loop, self.channels.status_of)
        self._running = True
        try:
            try:
                await self._loop.run_in_executor(None, self._folder_lock.acquire)
                self.device_id = await self._loop.run_in_executor(
                    None, load_device_id, self.data_dir
                )
                await self._loop.run_in_executor(None, self.overrides.load)
                await self._loop.run_in_executor(None, self.ptz_book.load)
                await self._loop.run_in_executor(None, self.captures.load)
                await self._loop.run_in_executor(None, self.recordings.open)
            except OSError as err:
                raise StorageError(f"cannot use the data folder {self.data_dir}: {err}") from err
            await self.history.open()
            await self._prune_recordings()
            await self.uploads.start()
            self._unsubscribe.append(self.bus.subscribe(self.history.record))
            self._unsubscribe.append(self.bus.subscribe(self._call_after_event))
            self._unsubscribe.append(self.bus.subscribe(self.event_snapshots.on_event))
            per_process = self.config.workers["channels_per_process"]
            if per_process:
                self.channels.workers = WorkerPool(
                    per_process,
                    plugin_modules(self.pm),
                    self.emit_threadsafe,
                    self.channel_bus.changed,
                    self.channels.worker_lost,
                )
            for channel_config in self.config.channels:
                await self._loop.run_in_executor(None, self.channels.create, channel_config)
            await self._upload_clips(self._loop)  # names need the channels; before recording
            await self.linkage.start(self.config.linkage)
            # Stitched devices' hubs, which their channels' sources find (``stitching/hub.py``).
            self._stitch_hubs = stitching_hub.attach_each(
                self.config.channels, self.registry, self.data_dir
            )
            self.pm.hook.before_channels_start(runtime=self)
            for service in self.services.values():
                await service.start()
                self._started_services.append(service)
        except BaseException:
            await self.stop()
            raise
        # Events a kill or a power cut left active were closed at the history's open: their
        # end goes out now, so MQTT and every client hear it.
        self.history.end_interrupted(self.bus.publish)
        # No await between here and the end: every subscriber above sees every event.
        self.channels.start_enabled()
        for channel in self.channels.values():
            self._record(channel)
            self._plan_captures(channel)
        self._unsubscribe.append(self.bus.subscribe(self._recordings_event))
        self._unsubscribe.append(self.bus.subscribe(self.capture_plans.on_event))
        self._tasks = [
            asyncio.create_task(self.channels.push_stats(), name="runtime-stats"),
            asyncio.create_task(self._retention(), name="runtime-retention"),
        ]
        self.started_at = time.time()
        self.pm.hook.after_runtime_start(runtime=self)
        _LOGGER.info("runtime %s started with %d channel(s)", self.device_id, len(self.channels))

    async def stop(self) -> None:
        """Stop the channels, then the services (in reverse order), then the history."""
        if not self._running:  # never started, or already stopped: nothing to do
            return
        self._running = False
        if self.started_at:  # not when start() itself failed half-way
            self.pm.hook.before_runtime_stop(runtime=self)
        self.started_at = 0.0
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        self._tasks = []
        loop = asyncio.get_running_loop()
        await self.capture_plans.close()
        await self.event_snapshots.drain()
        await self.channels.stop_all()
        await self.linkage.stop()
        await self._stop_recording()
        await loop.run_in_executor(None, self.captures.close)
        await self.uploads.stop()
        # Let the updates the channels sent while stopping reach the bus and the services.
        await asyncio.sleep(0)
        while self._started_services:
            service = self._started_services.pop()
            try:
                await service.stop()
            except Exception:  # one face failing to stop must not keep the others running
                _LOGGER.exception("service %s failed to stop", service.name)
        for unsubscribe in [*self._unsubscribe, *self._stitch_hubs.values()]:
            unsubscribe()
        self._unsubscribe.clear()
        self._stitch_hubs.clear()
        if self.channels.workers is not None:
            await loop.run_in_executor(None, self.channels.workers.stop)
            self.channels.workers = None
        await self.history.close()
        self._folder_lock.release()
        await loop.run_in_executor(None, self._writer.shutdown)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runtime-writer")
        if self.device_id:  # not for a start that failed before it knew who it was
            _LOGGER.info("runtime %s stopped", self.device_id)

    # ---------------------------------------------------------------- events

    def emit_threadsafe(self, update: EventUpdate) -> None:
        """Hand an update from any thread to the bus, in order."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.bus.publish, update)

    def _recording_report(self, error: str | None) -> None:
        """From a recorder's thread: its write failures reach the storage watch (the
        ``storage_error`` exception) on the loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.storage.report, RECORDINGS, error)

    def _recording_full(self, reason: str | None) -> None:
        """From a recorder's thread: recording stopped for want of room (overwrite off), or
        has room again: the ``storage_full`` exception, on the loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.storage_full.report, RECORDINGS, reason)

    def _call_after_event(self, update: EventUpdate) -> None:
        self.pm.hook.after_event(runtime=self, update=update)

    def subscribe_events(self, callback: Callable[[EventUpdate], None]) -> Callable[[], None]:
        return self.bus.subscribe(callback)

    def publish_event(self, update: EventUpdate) -> None:
        self.bus.publish(update)

    def subscribe_channels(self, callback: Callable[[ChannelUpdate], None]) -> Callable[[], None]:
        return self.channel_bus.subscribe(callback)

    # ---------------------------------------------------------------- channel changes

    async def _retention(self) -> None:
        """Captures expire even when none is taken: apply retention every hour."""
        while True:
            await asyncio.sleep(RETENTION_INTERVAL)
            await asyncio.get_running_loop().run_in_executor(None, self.captures.prune)
            await self._prune_recordings()

    def report_storage(
        self, source: str, error: str | None, *, pending: int = 0, dropped: int = 0
    ) -> None:
        """A face's storage (the MQTT outbox) failing to write (``error``) or writing again."""
        self.storage.report(source, error, pending=pending, dropped=dropped)

    # ---------------------------------------------------------------- queries (RuntimeView)

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.pm.hook

    def channel(self, channel_id: str) -> Channel:
        return self.channels.find(channel_id)

    def channel_ids(self) -> list[str]:
        return list(self.channels)

    def channel_status(self, channel_id: str) -> ChannelStatus:
        return self.channel(channel_id).status()

    def channel_statuses(self) -> list[ChannelStatus]:
        return self.channels.statuses()

    def has_picture(self, channel_id: str) -> bool:
        return self.channel(channel_id).has_picture

    def live(self, channel_id: str) -> AsyncGenerator[bytes]:
        return self.channel(channel_id).live.stream()

    def capture_file(self, capture_id: str) -> Path:
        return self.captures.path(capture_id)

    async def events(
        self,
        *,
        channel: str | None = None,
        type: str | None = None,
        since: float | None = None,
        until: float | None = None,
        active: bool | None = None,
        limit: int = 100,
    ) -> list[Event]:
        return await self.history.query(
            channel=channel, type=type, since=since, until=until, active=active, limit=limit
        )

    async def event(self, event_id: str) -> Event | None:
        return await self.history.get(event_id)

    def effective_config(self) -> dict[str, Any]:
        """The configuration in force, as plain data: the file's settings with what the host
        changed (a face it does not run is ``enabled: false``; the API's bound address) and
        the data folder in use."""
        dump = self.config.dump()
        dump["data_dir"] = str(self.data_dir.resolve())
        for section in self.sections:
            block, service = dump.get(section.key), self.services.get(section.key)
            if isinstance(block, dict):
                if "enabled" in block and service is None:
                    block["enabled"] = False
                if service is not None:
                    block.update(service.settings())
        return dump

    def validate_config(self, data: Any) -> RuntimeConfig:
        return validate_config(data, self.registry, self.sections)

    def device_info(self) -> DeviceInfo:
        """The manual's 9.1 basic information, plus what a client needs to know of this runtime."""
        device = self.config.device
        pool = self.channels.workers
        workers = pool.status() if pool is not None else None
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
            "services": {name: service.describe() for name, service in self.services.items()},
            "event_types": [
                *(
                    {**info.as_dict(), "detector": None}
                    for info in (
                        STORAGE_ERROR,
                        STORAGE_FULL,
                        *(t for service in self.services.values() for t in service.event_types()),
                    )
                ),
                *self.linkage.event_types(),
            ],
            "storage": self.storage.status(),
            "sensors": [
                *storage_sensors(
                    self.recordings,
                    self.captures.size,
                    self.storage.failing,
                    self.uploads.status(),
                ),
                *(worker_sensors(workers) if workers is not None else ()),
            ],
            "workers": workers,
        }

    # ---------------------------------------------------------------- commands (RuntimeView)

    async def set_armed(self, channel_id: str, armed: bool) -> None:
        """The channel's arming switch; kept across restarts (``StorageError`` when that
        cannot be written: nothing changes)."""
        write = self.overrides.set_armed(self.channel(channel_id), armed, self._writer)
        await self.storage.guard(SETTINGS, write)

    async def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Switch a detector on or off and/or change some of its options (checked by its
        schema: ``ConfigError`` changes nothing); kept across restarts."""
        channel = self.channel(channel_id)
        write = self.overrides.set_detector(channel, kind, enabled, options, self._writer)
        await self.storage.guard(SETTINGS, write)

    async def set_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Switch an image stage on or off and/or change some of its options (checked by its
        schema: ``ConfigError`` changes nothing); applied before the next frame and kept
        across restarts."""
        channel = self.channel(channel_id)
        write = self.overrides.set_stage(channel, kind, enabled, options, self._writer)
        await self.storage.guard(SETTINGS, write)

    async def preview_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> bytes:
        """JPEG of the channel's newest picture as it would be with an image stage changed as
        ``set_stage`` would change it (the same checks: ``ConfigError`` names each bad key),
        through the channel's stages in their order, the live privacy mask included. Nothing
        is saved and nothing live changes. ``NoFrameError`` before the first picture,
        ``ChannelStoppedError`` for a stopped channel."""
        channel = self._picture_channel(channel_id)
        merged = self.overrides.checked_options(channel, "image_stage", kind, options)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, channel.preview, kind, enabled, merged)

    async def set_target_cropping(self, channel_id: str, changes: Mapping[str, Any]) -> None:
        """Change some of the channel's target cropping keys (``enabled``, ``resolution``
        ``WxH``, ``x``, ``y``), checked with the rest by the config's schema (``ConfigError``
        names each bad key and changes nothing); applied from the next picture (a new size
        restarts the third stream: its clients reconnect) and kept across restarts."""
        write = self.overrides.set_target_cropping(self.channel(channel_id), changes, self._writer)
        await self.storage.guard(SETTINGS, write)

    async def set_control(self, channel_id: str, key: str, value: Any) -> str:
        """Set a declared control (checked by the control); kept across restarts (the ePTZ
        preset select calls the preset instead; manual recording is not kept: it is a command,
        as the API's record start and stop; a stitched device's output mode and distance are
        written to the config and rebuild its channels). Returns the channel the control is
        on now: another one once a stitched device's channels were rebuilt."""
        bound = self.channel(channel_id).control(key)
        if bound.point == PTZ_POINT:
            await self.ptz_control(channel_id, bound, value)
            return channel_id
        if bound.point == STITCH_POINT:
            await self.stitching_control(bound, value)
            front = self._front(str(bound.owner))
            return front.id if front is not None else channel_id
        if bound.owner is None and bound.control.sets == MANUAL_RECORD.sets:
            on = bound.control.parse(value)
            await (self.record_start(channel_id) if on else self.record_stop(channel_id))
            return channel_id
        write = self.overrides.set_control(self.channel(channel_id), key, value, self._writer)
        await self.storage.guard(SETTINGS, write)
        return channel_id

    async def press(self, channel_id: str, key: str) -> dict[str, Any]:
        """Press a declared button; returns what the command produced."""
        bound = self.channel(channel_id).control(key)
        if bound.control.kind is not ControlKind.BUTTON:
            raise ConfigError(f"{key} is a {bound.control.kind.value}: set its value instead")
        # The channel's own buttons; detectors declare none yet.
        if bound.owner is None and bound.control.sets == "capture":
            return await self.capture(channel_id)
        if bound.point == PTZ_POINT:
            return await self.ptz_control(channel_id, bound, None)
        if bound.point == STITCH_POINT:
            return await self.stitching_control(bound, None)
        if bound.owner is None and bound.control.sets == RECORD_CLIP.sets:
            return await self.record_clip(channel_id)
        raise NotFoundError(f"no command {bound.control.sets!r} for {key}", "control_not_found")

    async def snapshot(
        self, channel_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        """JPEG of the newest frame, resized when ``width`` and/or ``height`` are given
        (``InvalidValueError`` past the picture's size); ``NoFrameError`` before the first
        picture; ``ChannelStoppedError`` for a stopped channel, which never has one."""
        return await self._picture_channel(channel_id).live.snapshot(width, height)

    def _picture_channel(self, channel_id: str) -> Channel:
        """The channel, which must be running to have a picture (``ChannelStoppedError``)."""
        channel = self.channel(channel_id)
        if channel.state is ChannelState.STOPPED:
            raise ChannelStoppedError(f"channel {channel_id!r} is stopped: it has no picture")
        return channel

    async def stream(self, channel_id: str, role: str, container: str = "ts") -> StreamReader:
        """One of a channel's streams (``main``; ``sub`` with a sub-stream or configured;
        ``third`` when configured) from its next keyframe, as MPEG-TS (``ts``) or fragmented
        MP4 (``mp4``): passed through, or encoded from the channel's pictures
        (``channel_streams``). Checked before the first chunk: ``NotFoundError`` (also for
        another container), ``ChannelStoppedError``, ``NoFrameError`` (not connected yet),
        ``StreamUnavailableError`` (a codec the containers do not carry, an encoder that
        refuses the picture). Close the reader when done."""
        if container not in MUXERS:
            raise NotFoundError(
                f"no {container!r} streams: {', '.join(MUXERS)}", "stream_not_found"
            )
        channel = self.channel(channel_id)
        if channel.state is ChannelState.STOPPED:
            raise ChannelStoppedError(f"channel {channel_id!r} is stopped: it has no stream")
        return await channel.served.served(role).open(container)

    async def capture(
        self,
        channel_id: str,
        reason: str = MANUAL,
        size: tuple[int, int] | None = None,
        quality: int = JPEG_QUALITY,
        *,
        capture_id: str | None = None,
    ) -> dict[str, Any]:
        """Capture picture: the newest frame as a JPEG kept in the data folder, at ``size``
        (``None``: full) and ``quality``; ``reason`` says why (``manual``, ``timing``, an
        event type); ``capture_id``: one named beforehand (an event's ``snapshot``). It is
        also queued for every upload target that takes pictures, named after the reason."""
        width, height = size if size is not None else (None, None)
        jpeg = await self._picture_channel(channel_id).live.snapshot(width, height, quality)
        loop = asyncio.get_running_loop()
        save = loop.run_in_executor(None, self.captures.save, channel_id, jpeg, reason, capture_id)
        capture = await self.storage.guard(CAPTURES, save)
        uploads: list[str] = []
        if self.uploads.targets:
            picture = self._picture(channel_id, capture.time, reason)
            uploads = await self.uploads.offer_picture(picture, jpeg)
        return {**capture.as_dict(), "uploads": uploads}

    async def _save_snapshot(
        self, channel_id: str, capture_id: str, event_type: str
    ) -> dict[str, Any]:
        """An event's ``snapshot``: the newest frame saved under the id the event named."""
        return await self.capture(channel_id, event_type, capture_id=capture_id)

    def upload_status(self) -> dict[str, Any]:
        return self.uploads.status()

    async def test_upload(self, target_id: str) -> dict[str, Any]:
        return await self.uploads.test(target_id)

    def _picture(self, channel_id: str, when: float, reason: str) -> Picture:
        """What an uploaded picture's name and folders are made of (manual 5.1.2)."""
        device = self.config.device
        number = self.channel_ids().index(channel_id) + 1
        return Picture(
            device_name=device["name"],
            device_no=device["device_no"],
            device_ip=self.uploads.device_ip,
            camera_name=self.channels[channel_id].name,
            camera_no=number,
            time=when,
            event_type=reason,
        )

    # ---------------------------------------------------------------- channels at run time

    async def add_channel(self, data: Mapping[str, Any]) -> ChannelStatus:
        """Add and start a channel; ``ConfigError`` (nothing changes) when it is invalid or its
        id is taken. Written back to the config file when the runtime was loaded from one."""
        if not isinstance(data, Mapping):
            raise ConfigError("a channel must be a mapping", ["channel: expected a mapping"])
        async with self.config_file.lock:
            channel_id = data.get("id")
            if isinstance(channel_id, str) and channel_id in self.channels:
                message = f"channel.id: a channel {channel_id!r} already exists"
                raise ConfigError(message, [message])
            config = await self._adopt(self.config_file.with_channel(data))
            channel = await self._bring_up(config.channels[-1])
        status = channel.status()
        self.channel_bus.publish(ChannelUpdate(ChannelChange.ADDED, channel.id, status))
        _LOGGER.info("channel %s added", channel.id)
        return status

    async def remove_channel(self, channel_id: str) -> None:
        """Stop and remove a channel (its events stay in the history)."""
        async with self.config_file.lock:
            self.channel(channel_id)
            await self._adopt(self.config_file.without_channel(channel_id))
            await self._take_down(channel_id, forget=True)
        self.channel_bus.publish(ChannelUpdate(ChannelChange.REMOVED, channel_id, None))
        _LOGGER.info("channel %s removed", channel_id)

    def _prepare(self, channel: Channel) -> None:
        """Finish a new channel: its saved ePTZ presets, and the stitched device it fronts."""
        self._ptz_prepare(channel)
        self._stitch_prepare(channel)

    async def _bring_up(self, config: ChannelConfig) -> Channel:
        """Create a channel of the adopted config, start it (when enabled), record it and
        plan its captures; the caller holds the config lock."""
        loop = asyncio.get_running_loop()
        channel = await loop.run_in_executor(None, self.channels.create, config)
        if channel.config.enabled:
            await loop.run_in_executor(None, channel.start)
        await asyncio.get_running_loop().run_in_executor(None, self._record, channel)
        self._plan_captures(channel)
        return channel

    async def _take_down(self, channel_id: str, *, forget: bool) -> None:
        """Stop a channel and take it out; with ``forget`` its stored settings and ePTZ
        presets go too (a channel of the same id later starts afresh). The caller holds the
        config lock."""
        channel = self.channels.remove(channel_id)
        self.capture_plans.stop(channel_id)
        await asyncio.get_running_loop().run_in_executor(None, channel.stop)
        await asyncio.get_running_loop().run_in_executor(None, self.channels.retire, channel)
        await asyncio.get_running_loop().run_in_executor(
            None, self.recordings.stop_channel, channel_id
        )
        await asyncio.sleep(0)  # the channel's last updates (events ended) go out first
        if not forget:
            return
        for source, dropped in (
            (SETTINGS, self.overrides.forget(channel_id, self._writer)),
            (PTZ_STORAGE, self.ptz_book.forget(channel_id, self._writer)),
        ):
            try:
                await self.storage.guard(source, dropped)
            except StorageError as err:  # the channel is gone all the same
                _LOGGER.error("%s: %s", channel_id, err.message)

    async def set_stitching(self, device_id: str, changes: Mapping[str, Any]) -> list[str]:
        """Change a stitched device's ``output_mode`` and/or ``best_stitching_distance``: the
        changed config is validated (``ConfigError`` names each bad key and nothing changes),
        written back, and the device's channels are rebuilt (removed, then the new mode's
        added and started). Their stored settings and ePTZ presets are kept by channel id:
        switching back to a mode brings its channels' presets back.
        Switching to the original mode drops the device's distance, which that mode does not
        support (manual ch. 10). Returns the device's channel ids."""
        async with self.config_file.lock:
            entries = copy.deepcopy(self.config_file.data.get("stitching") or [])
            index = next(
                (
                    i
                    for i, entry in enumerate(entries)
                    if isinstance(entry, Mapping) and entry.get("id") == device_id
                ),
                None,
            )
            if index is None:
                raise NotFoundError(f"no stitched device {device_id!r}", "device_not_found")
            old_ids = stitching_controls.channel_ids(entries[index])
            entry = {**entries[index], **changes}
            original = entry.get("output_mode") == "original" and DISTANCE not in changes
            if original and entry.pop(DISTANCE, None) is not None:
                _LOGGER.info("%s: original mode: best stitching distance dropped", device_id)
            entries[index] = entry
            config = await self._adopt({**self.config_file.data, "stitching": entries})
            new_ids = stitching_controls.channel_ids(entry)
            for channel_id in old_ids:
                await self._take_down(channel_id, forget=False)
            for channel_id in old_ids:
                self.channel_bus.publish(ChannelUpdate(ChannelChange.REMOVED, channel_id, None))
            detach = self._stitch_hubs.pop(device_id, None)
            if detach is not None:
                detach()
            made = [c for c in config.channels if c.id in new_ids]
            self._stitch_hubs.update(stitching_hub.attach_each(made, self.registry, self.data_dir))
            for channel_config in made:
                channel = await self._bring_up(channel_config)
                self.channel_bus.publish(
                    ChannelUpdate(ChannelChange.ADDED, channel.id, channel.status())
                )
        _LOGGER.info("%s: %s, channels %s", device_id, changes, ", ".join(new_ids))
        return new_ids

    def _written_linkage(self) -> Any:
        """The ``linkage`` section as the user wrote it (the engine edits its rules)."""
        return self.config_file.data.get("linkage")

    async def _adopt_linkage(self, section: dict[str, Any]) -> Mapping[str, Any]:
        """A changed ``linkage`` section: validated with the rest, written back, in force."""
        async with self.config_file.lock:
            config = await self._adopt({**self.config_file.data, "linkage": section})
        return config.linkage

    async def _adopt(self, data: dict[str, Any]) -> RuntimeConfig:
        """Validate (with the overlay), write the file back (without it), adopt the config."""
        config = self.validate_config(self.config_file.effective(data))
        await self.storage.guard(CONFIG, self.config_file.adopt(data, self._writer))
        self.config = config
        return config


__all__ = ["MODEL", "Runtime"]
