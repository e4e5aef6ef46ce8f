"""The narrow view of a runtime that hooks and faces receive (``RuntimeView``).

Everything a plugin or a face may read or call is here, and nothing else: no channel object,
no live-view buffer, no history or capture store. Faces (API, MQTT, the client library) are
typed against this view, so mypy holds them to it, and ``Runtime`` implements it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..model import SEARCH_KINDS

if TYPE_CHECKING:
    import pluggy

    from ..config import RuntimeConfig
    from ..model import ChannelStatus, ChannelUpdate, DeviceInfo, Event, EventUpdate
    from ..registry import PluginRegistry
    from .linkage import LinkageView

Unsubscribe = Callable[[], None]


class ByteStream(Protocol):
    """A live stream's bytes for one client: ``chunks()`` until it ends, then ``close()``."""

    #: The MIME type of the bytes (``video/mp2t``, ``video/mp4``).
    content_type: str

    def chunks(self) -> AsyncGenerator[bytes]: ...

    def close(self) -> None: ...


class RuntimeView(Protocol):
    """One running camera runtime, as plugins and faces see it.

    Commands raise ``NotFoundError`` for an unknown channel, detector or control,
    ``ConfigError`` (nothing changed) for a value the schema refuses, and ``StorageError``
    (nothing changed) when a setting that must survive a restart cannot be written.
    """

    @property
    def device_id(self) -> str:
        """A stable id of this runtime, kept in its data folder."""

    @property
    def data_dir(self) -> Path:
        """The runtime's data folder; a face keeps its own files there (MQTT its outbox)."""

    @property
    def config(self) -> RuntimeConfig:
        """The validated configuration in force."""

    @property
    def registry(self) -> PluginRegistry:
        """The plugin classes registered, per extension point and kind."""

    @property
    def linkage(self) -> LinkageView:
        """The linkage rules, resources and the record of fired rules (``linkage/``)."""

    @property
    def hook(self) -> pluggy.HookRelay:
        """The plugin hooks, for a face that calls one (the API calls ``extend_api``)."""

    # ------------------------------------------------------------------ state

    def channel_ids(self) -> list[str]:
        """The channels, in config order."""

    def channel_status(self, channel_id: str) -> ChannelStatus:
        """A channel's status, with its capabilities and their values."""

    def channel_statuses(self) -> list[ChannelStatus]:
        """Every channel's status, in config order."""

    def device_info(self) -> DeviceInfo:
        """The device's basic information."""

    def has_picture(self, channel_id: str) -> bool:
        """Whether the channel has a picture to show (false before its first frame)."""

    def subscribe_events(self, callback: Callable[[EventUpdate], None]) -> Unsubscribe:
        """Every event change, in order, on the event loop."""

    def publish_event(self, update: EventUpdate) -> None:
        """Raise an event change of a face or plugin (on the event loop): it reaches the
        history and every subscriber like the channels' own. Its type must be declared."""

    def subscribe_channels(self, callback: Callable[[ChannelUpdate], None]) -> Unsubscribe:
        """Channels added, changed and removed, on the event loop."""

    # ------------------------------------------------------------------ commands

    async def set_armed(self, channel_id: str, armed: bool) -> None:
        """The channel's arming switch; kept across restarts."""

    async def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Switch a detector and/or merge options into it; kept across restarts."""

    async def set_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Switch an image stage and/or merge options into it; kept across restarts."""

    async def preview_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> bytes:
        """A JPEG of the newest picture with an image stage changed as ``set_stage`` would
        (the same checks), the live privacy mask kept; nothing saved, nothing live changed."""

    async def set_target_cropping(self, channel_id: str, changes: Mapping[str, Any]) -> None:
        """Change some target cropping keys (``ConfigError`` names each bad one); kept."""

    async def set_control(self, channel_id: str, key: str, value: Any) -> str:
        """Set one of the channel's declared controls (switch, number, select); returns the
        channel the control is on now (another when a stitched device's output mode or
        distance rebuilt its channels)."""

    async def press(self, channel_id: str, key: str) -> dict[str, Any]:
        """Press one of the channel's declared buttons; returns what it produced."""

    async def capture(
        self,
        channel_id: str,
        reason: str = "manual",
        size: tuple[int, int] | None = None,
        quality: int = 90,
    ) -> dict[str, Any]:
        """Capture picture: keep a JPEG of the newest frame (at ``size``, ``None``: full, and
        ``quality``), and queue it for the upload targets that take pictures; ``reason`` says
        why (``manual``, ``timing``, an event type) and names it there. Returns its description
        with the targets (``uploads``)."""

    def upload_status(self) -> dict[str, Any]:
        """Each upload target's state: pending, uploaded, failures, dropped, last error."""

    async def test_upload(self, target_id: str) -> dict[str, Any]:
        """The manual's *Test* of an upload target: ``ok`` or the ``error`` in words."""

    async def snapshot(
        self, channel_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        """A JPEG of the newest frame (``NoFrameError`` before the first), smaller when
        ``width`` and/or ``height`` are given: one alone keeps the aspect ratio; each must be
        from 1 to the picture's own (``InvalidValueError`` otherwise)."""

    def live(self, channel_id: str) -> AsyncGenerator[bytes]:
        """The live view: one JPEG per new frame until the caller stops or the channel does."""

    async def stream(self, channel_id: str, role: str, container: str = "ts") -> ByteStream:
        """A channel's stream (``main``, ``sub``, ``third``) from its next keyframe, as
        MPEG-TS (``ts``) or fragmented MP4 (``mp4``); checked before the first chunk
        (``NotFoundError``, ``ChannelStoppedError``, ``NoFrameError``,
        ``StreamUnavailableError``). Close it when done."""

    def capture_file(self, capture_id: str) -> Path:
        """The file of a captured picture, by id only (``NotFoundError`` otherwise)."""

    async def recordings_of(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> dict[str, Any]:
        """A channel's recorded segments and clips overlapping ``[start, end]`` (ids only)."""

    async def pictures(
        self,
        channel_id: str,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
    ) -> list[dict[str, Any]]:
        """Picture search: a channel's captures in ``[start, end]`` for ``reason``."""

    async def playback_mp4(self, channel_id: str, start: float, end: float) -> Path:
        """A time range remuxed into one MP4 file a browser plays."""

    async def picture_file(self, capture_id: str) -> Path:
        """The file of a captured picture, found in the index off the loop."""

    async def picture_thumbnail(
        self, capture_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        """JPEG of a captured picture (smaller with width/height)."""

    async def search(
        self,
        channel_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str | None = None,
        within: tuple[str, ...] = SEARCH_KINDS,
        limit: int = 1000,
    ) -> dict[str, list[dict[str, Any]]]:
        """One search over segments, clips, pictures and events (ids only)."""

    async def recording_thumbnail(
        self, segment_id: int, width: int | None = None, height: int | None = None
    ) -> bytes:
        """JPEG of a recorded segment's first picture (smaller with width/height)."""

    async def recordings_storage(self) -> dict[str, Any]:
        """The recordings' and pictures' storage: use, limits, free space, full or not."""

    async def recording_file(self, segment_id: int) -> Path:
        """A segment's MPEG-TS file, by id only (``NotFoundError`` otherwise)."""

    async def playback_files(self, channel_id: str, start: float, end: float) -> list[Path]:
        """The segment files that, concatenated, play ``[start, end]``."""

    async def record_clip(
        self, channel_id: str, pre: float = 5.0, length: float = 30.0
    ) -> dict[str, Any]:
        """Record a clip from ``pre`` s before now, ``length`` s long; returns the clip."""

    async def record_start(self, channel_id: str) -> dict[str, Any]:
        """Start manual recording (until ``record_stop``); returns its clip."""

    async def record_stop(self, channel_id: str) -> bool:
        """Stop manual recording; ``False`` when it was not on."""

    def recording_status(self, channel_id: str) -> dict[str, Any]:
        """Whether and what the channel records, with its counters."""

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
        """The event history, newest first."""

    async def event(self, event_id: str) -> Event | None:
        """One event of the history."""

    def report_storage(
        self, source: str, error: str | None, *, pending: int = 0, dropped: int = 0
    ) -> None:
        """A face's own storage (the MQTT outbox) failed to write (``error``: why, without
        paths) or writes again (``None``): raised as the device's ``storage_error``."""

    def effective_config(self) -> dict[str, Any]:
        """The configuration in force, as plain data (``GET /api/config``, secrets still in)."""

    def validate_config(self, data: Any) -> RuntimeConfig:
        """Check a whole configuration as this runtime would (``ConfigError`` lists every
        problem); changes nothing."""

    def stitching(self) -> list[dict[str, Any]]:
        """Every stitched device (``stitching:``): output mode, channels, calibration state."""

    async def recalibrate(self, device_id: str) -> dict[str, Any]:
        """Calibrate a stitched device again from its next pictures; its status once done."""

    def stitching_preview(self, device_id: str) -> Path:
        """The preview picture of a stitched device's last calibration."""

    async def add_channel(self, data: Mapping[str, Any]) -> ChannelStatus:
        """Add and start a channel (an entry of the config's ``channels``)."""

    async def remove_channel(self, channel_id: str) -> None:
        """Stop and remove a channel; its events stay in the history."""

    # ePTZ (docs/ptz.md): numbers as in the manual; ``NotFoundError`` on a channel without
    # ePTZ or an unknown preset, patrol or pattern; payloads checked (``ConfigError``).

    def ptz_status(self, channel_id: str) -> dict[str, Any]:
        """The window (pan, tilt, zoom), what moves it, the saved presets, patrols, patterns."""

    async def ptz_move(self, channel_id: str, data: Any) -> dict[str, Any]:
        """Continuous move: ``pan``/``tilt``/``zoom`` directions -1..1 at ``speed`` 1-7."""

    async def ptz_stop(self, channel_id: str) -> dict[str, Any]:
        """Stop a move, patrol or pattern."""

    async def ptz_absolute(self, channel_id: str, data: Any) -> dict[str, Any]:
        """Absolute move: ``pan``, ``tilt`` (0..1, the window's centre) and ``zoom``."""

    async def position_3d(self, channel_id: str, data: Any) -> dict[str, Any]:
        """3D positioning: ``{x, y}`` centres a point, ``{x0, y0, x1, y1}`` zooms on a box."""

    def count_pixel(self, channel_id: str, data: Any) -> dict[str, int]:
        """Count pixel: the size in pixels of a box ``{x0, y0, x1, y1}`` on the live picture."""

    async def save_preset(self, channel_id: str, number: Any, name: Any = None) -> dict[str, Any]:
        """Save the window as preset ``number`` (1-256)."""

    async def call_preset(self, channel_id: str, number: Any) -> dict[str, Any]:
        """Move the window to a saved preset."""

    async def rename_preset(self, channel_id: str, number: Any, name: Any) -> dict[str, Any]:
        """Rename a saved preset."""

    async def delete_preset(self, channel_id: str, number: Any) -> None:
        """Delete a preset no patrol uses."""

    async def set_patrol(self, channel_id: str, number: Any, points: Any) -> dict[str, Any]:
        """Save patrol ``number`` (1-8): ``[{preset, dwell, speed}]``."""

    async def delete_patrol(self, channel_id: str, number: Any) -> None:
        """Delete a patrol."""

    async def start_patrol(self, channel_id: str, number: Any) -> dict[str, Any]:
        """Run a saved patrol until stopped."""

    async def stop_patrol(self, channel_id: str) -> dict[str, Any]:
        """Stop a running patrol or pattern."""

    async def start_pattern_recording(self, channel_id: str) -> dict[str, Any]:
        """Record the moves made from now on."""

    async def save_pattern(self, channel_id: str, number: Any) -> dict[str, Any]:
        """End the recording, saved as pattern ``number`` (1-4)."""

    async def run_pattern(self, channel_id: str, number: Any) -> dict[str, Any]:
        """Replay a saved pattern once."""

    async def delete_pattern(self, channel_id: str, number: Any) -> None:
        """Delete a pattern."""


__all__ = ["ByteStream", "RuntimeView", "Unsubscribe"]
