"""The ``RuntimeClient`` contract shared by the remote (HTTP) and the local (in-process) client,
with the state mirror both keep: channel statuses and active events, pushed, never polled.

A host (Home Assistant, a script) talks to one runtime through this class whether the runtime
runs on another machine or in its own process. Updates are plain JSON-shaped dicts, the same
shapes the runtime's WebSocket sends, so a host handles both modes with one code path:

- event update: ``{"phase": "new" | "update" | "end", "event": {id, channel, type, start,
  end, active, data}}``;
- channel update: ``{"change": "added" | "changed" | "removed", "channel": id, "status":
  {...} | None}``.

Callbacks run on the event loop, synchronously, in subscription order; they must not block.
One that raises is logged and the others still run.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..buses import Bus
from ..exceptions import StreamUnavailableError
from ..model import SEARCH_KINDS
from .ptz import PtzCall

if TYPE_CHECKING:
    from ..interfaces.runtime import ByteStream

_LOGGER = logging.getLogger(__name__)

Update = dict[str, Any]
UpdateCallback = Callable[[Update], None]
ConnectionCallback = Callable[[bool], None]
Unsubscribe = Callable[[], None]

#: How many ended event ids the mirror remembers, to drop a late duplicate ``end`` (or a stale
#: ``new``/``update``) that a resync already published; far more than can be in flight.
ENDED_MEMORY = 512


@dataclass(frozen=True, slots=True)
class Download:
    """A file of the runtime as it streams to a host, which hands it on as it comes (never
    whole in memory): the HTTP status (200, or 206 for a byte range), the headers a player
    needs (``Content-Type``, ``Content-Length``, ``Accept-Ranges``, ``Content-Range``) and the
    bytes in chunks."""

    status: int
    headers: Mapping[str, str]
    chunks: AsyncIterator[bytes]


class RuntimeClient(ABC):
    """One runtime, seen from a host.

    ``await start()`` connects (raising ``CannotConnectError``, ``InvalidAuthError`` or
    ``NotActivatedError`` when the first attempt fails) and fills the state mirror; from then
    on the client keeps ``channels`` and the active events current from pushed updates and
    tells subscribers. ``await close()`` stops it.
    """

    #: Whether ``stream_url`` gives URLs (a runtime reached over HTTP does).
    serves_streams: ClassVar[bool] = False
    #: Whether ``open_stream`` hands a stream's bytes in this process (an embedded runtime
    #: does: its host serves them, as Home Assistant's HTTP server does for its ``stream``).
    opens_streams: ClassVar[bool] = False

    def __init__(self) -> None:
        self._event_listeners = Bus[Update]("runtime client events")
        self._channel_listeners = Bus[Update]("runtime client channels")
        self._connection_listeners = Bus[bool]("runtime client connection")
        self._channels: dict[str, dict[str, Any]] = {}
        self._active: dict[str, dict[str, Any]] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._connected = False

    # ------------------------------------------------------------------ subscriptions

    def subscribe_events(self, callback: UpdateCallback) -> Unsubscribe:
        """Every event update (``new``, ``update``, ``end``) of every channel, in order."""
        return self._event_listeners.subscribe(callback)

    def subscribe_channels(self, callback: UpdateCallback) -> Unsubscribe:
        """Channels added, changed (arming, detectors, state, fps...) and removed."""
        return self._channel_listeners.subscribe(callback)

    def subscribe_connection(self, callback: ConnectionCallback) -> Unsubscribe:
        """``False`` when the link to the runtime drops, ``True`` when it is back (after the
        state mirror was brought up to date)."""
        return self._connection_listeners.subscribe(callback)

    # ------------------------------------------------------------------ state mirror

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def web_url(self) -> str | None:
        """The runtime's web page, for a host to link to; ``None`` when it serves none (a
        runtime in the host's process runs no HTTP server)."""
        return None

    @property
    def channels(self) -> Mapping[str, dict[str, Any]]:
        """The last known status of every channel, by id."""
        return self._channels

    def active_events(
        self, channel: str | None = None, type: str | None = None
    ) -> list[dict[str, Any]]:
        """The events in progress, optionally of one channel and/or one type."""
        return [
            event
            for event in self._active.values()
            if (channel is None or event.get("channel") == channel)
            and (type is None or event.get("type") == type)
        ]

    def _apply_event(self, update: Update) -> None:
        """Take an event update into the mirror, then tell subscribers, once per phase.

        After a reconnection or an overflow, a resync publishes a synthetic ``new`` (or
        ``end``) and the pushes queued meanwhile then bring the same one again: a ``new`` for
        an event already active, and anything for an event that recently ended, is dropped.
        An ``update`` or ``end`` of an event the mirror never saw start (its ``new`` was lost
        in an overflow, and it ended before the resync) is dropped too: subscribers would get
        an end without a start.
        """
        event = update.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            _LOGGER.debug("ignoring a malformed event update: %r", update)
            return
        event_id: str = event["id"]
        phase = update.get("phase")
        if event_id not in self._active:
            if event_id in self._ended:
                _LOGGER.debug("ignoring a late %s of ended event %s", phase, event_id)
                return
            if phase != "new":
                _LOGGER.debug("ignoring a %s of event %s, never seen to start", phase, event_id)
                return
        if phase == "end" or event.get("end") is not None:
            self._active.pop(event_id, None)
            self._ended[event_id] = None
            if len(self._ended) > ENDED_MEMORY:
                self._ended.popitem(last=False)
        elif phase == "new" and event_id in self._active:
            _LOGGER.debug("ignoring a repeated new of event %s", event_id)
            return
        else:
            self._active[event_id] = event
        self._event_listeners.publish(update)

    def _apply_channel(self, update: Update) -> None:
        """Take a channel update into the mirror, then tell subscribers."""
        channel_id = update.get("channel")
        if not isinstance(channel_id, str):
            _LOGGER.debug("ignoring a malformed channel update: %r", update)
            return
        if update.get("change") == "removed":
            if self._channels.pop(channel_id, None) is None:
                return
            for event_id in [i for i, e in self._active.items() if e.get("channel") == channel_id]:
                del self._active[event_id]
        else:
            status = update.get("status")
            if not isinstance(status, dict):
                return
            change = "changed" if channel_id in self._channels else "added"
            self._channels[channel_id] = status
            update = {**update, "change": change}
        self._channel_listeners.publish(update)

    def _apply_status(self, status: dict[str, Any]) -> dict[str, Any]:
        """A command's answer is the channel's new status: apply it at once (the push that
        follows says the same thing again)."""
        if isinstance(status.get("id"), str):
            self._apply_channel({"change": "changed", "channel": status["id"], "status": status})
        return status

    def _resync(self, channels: list[dict[str, Any]], active: list[dict[str, Any]]) -> None:
        """Replace the mirror with a fresh snapshot and publish the differences: channels
        added/removed/changed, events that started (``new``) since the link dropped.
        Events that ended meanwhile are published by the caller, which can fetch them."""
        fresh = {s["id"]: s for s in channels if isinstance(s.get("id"), str)}
        for channel_id in [c for c in self._channels if c not in fresh]:
            self._apply_channel({"change": "removed", "channel": channel_id, "status": None})
        for channel_id, status in fresh.items():
            self._apply_channel({"change": "changed", "channel": channel_id, "status": status})
        for event in active:
            if event.get("id") not in self._active:
                self._apply_event({"phase": "new", "event": event})

    def _set_connected(self, connected: bool) -> None:
        if connected != self._connected:
            self._connected = connected
            self._connection_listeners.publish(connected)

    # ------------------------------------------------------------------ lifecycle

    @abstractmethod
    async def start(self) -> None:
        """Connect, load the state mirror, and keep it current until ``close()``."""

    @abstractmethod
    async def close(self) -> None:
        """Stop receiving updates and release what the client holds."""

    # ------------------------------------------------------------------ queries and commands

    @abstractmethod
    async def device_info(self) -> dict[str, Any]:
        """``device_name``, ``device_no``, ``model``, ``serial_no``, ``firmware_version``,
        ``device_id``, ``channels``, ``platform``, ``uptime`` (and more as the runtime grows)."""

    @abstractmethod
    async def fetch_channels(self) -> list[dict[str, Any]]:
        """Every channel's status, asked of the runtime now (not the mirror)."""

    @abstractmethod
    async def set_armed(self, channel_id: str, armed: bool) -> dict[str, Any]:
        """Arm or disarm a channel; returns its new status."""

    @abstractmethod
    async def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Switch a detector and/or merge options into it; returns the channel's new status."""

    @abstractmethod
    async def set_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Switch an image stage and/or merge options into it; returns the channel's new
        status."""

    @abstractmethod
    async def set_target_cropping(
        self, channel_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change some of the channel's target cropping keys (``enabled``, ``resolution``
        ``"WxH"``, ``x``, ``y``: the third stream's window); returns the channel's new status
        (its ``target_cropping`` shows the window). Bad keys are refused, each named by its
        key path: ``RequestError`` 422 remote, the runtime's ``ConfigError`` local."""

    @abstractmethod
    async def set_control(self, channel_id: str, key: str, value: Any) -> dict[str, Any]:
        """Set one of the controls the channel declares (its status' ``controls``: a switch
        takes a bool, a number a number in its range, a select one of its ``options``);
        returns the channel's new status."""

    @abstractmethod
    async def press(self, channel_id: str, key: str) -> dict[str, Any]:
        """Press one of the buttons the channel declares; returns what its command produced."""

    @abstractmethod
    async def capture(self, channel_id: str) -> dict[str, Any]:
        """Save a picture of the newest frame; returns ``{"id", "channel", "time", "size",
        "url"}``."""

    @abstractmethod
    async def recordings(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> dict[str, Any]:
        """A channel's recorded ``segments`` and ``clips`` overlapping ``[start, end]``."""

    @abstractmethod
    async def recording(self, segment_id: int) -> bytes:
        """One recorded segment, as MPEG-TS bytes."""

    @abstractmethod
    async def picture(self, capture_id: str) -> bytes:
        """One captured picture's JPEG, by id."""

    @abstractmethod
    def playback(
        self, channel_id: str, start: float, end: float, byte_range: str | None = None
    ) -> AbstractAsyncContextManager[Download]:
        """A time range of a channel's recordings as one MP4 file (the segments remuxed, index
        first): what a browser plays, streamed; ``byte_range`` is a seeking player's ``Range``
        header (a ``RequestError`` with status 416 when it lies outside the file)."""

    @abstractmethod
    async def pictures(
        self,
        channel_id: str,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
    ) -> list[dict[str, Any]]:
        """Picture search: a channel's captures in ``[start, end]`` for ``reason``
        (``manual``, ``timing``, an event type; ``None``: any)."""

    @abstractmethod
    async def search(
        self,
        channel_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str | None = None,
        within: tuple[str, ...] = SEARCH_KINDS,
    ) -> dict[str, list[dict[str, Any]]]:
        """One search over segments, clips, pictures and events of a channel (``None``:
        all) in ``[start, end]``; ``kind`` narrows clips, pictures and events (a capture type,
        clip reason or event type)."""

    @abstractmethod
    async def recordings_storage(self) -> dict[str, Any]:
        """The recordings' and pictures' storage: use, limits, free space, full or not."""

    @abstractmethod
    async def record_clip(
        self, channel_id: str, pre: float = 5.0, length: float = 30.0
    ) -> dict[str, Any]:
        """Record a clip from ``pre`` s before now, ``length`` s long; returns the clip."""

    @abstractmethod
    async def ptz(self, channel_id: str, call: PtzCall) -> dict[str, Any]:
        """One ePTZ command (``client/ptz.py``: ``move``, ``stop``, ``position``,
        ``position_3d``, ``call_preset``, ``start_patrol``, ``stop_patrol``, ``run_pattern``)
        with its number or data; returns the window's status."""

    @abstractmethod
    async def record_start(self, channel_id: str) -> dict[str, Any]:
        """Start manual recording; returns its clip."""

    @abstractmethod
    async def record_stop(self, channel_id: str) -> bool:
        """Stop manual recording; ``False`` when it was not on."""

    @abstractmethod
    async def snapshot(
        self, channel_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        """A JPEG of the newest frame, made smaller by the runtime when ``width`` and/or
        ``height`` are given (one alone keeps the aspect ratio; each must be from 1 to the
        picture's own size, or the runtime refuses: ``RequestError`` remote, the runtime's
        ``InvalidValueError`` local)."""

    @abstractmethod
    async def stream_url(self, channel_id: str, role: str = "main") -> str | None:
        """A URL that plays the channel's ``role`` stream (MPEG-TS) without further
        credentials, for players that take a URL only (Home Assistant's ``stream``, go2rtc);
        ``None`` when the runtime serves no HTTP (embedded without the API)."""

    async def open_stream(
        self, channel_id: str, role: str = "main", container: str = "ts"
    ) -> ByteStream:
        """The channel's ``role`` stream from its next keyframe, as MPEG-TS (``ts``) or
        fragmented MP4 (``mp4``), when ``opens_streams`` (``RuntimeView.stream``: the same
        errors); a client of a runtime over HTTP plays ``stream_url`` instead."""
        raise StreamUnavailableError(
            f"channel {channel_id!r}: this client hands no stream bytes; play its stream URL"
        )

    @abstractmethod
    def mjpeg(self, channel_id: str) -> AsyncGenerator[bytes]:
        """The live view: one JPEG per new frame, for as long as the caller iterates. Close the
        generator when done (``contextlib.aclosing``): that ends the stream at once."""


__all__ = [
    "ENDED_MEMORY",
    "ConnectionCallback",
    "Download",
    "RuntimeClient",
    "Unsubscribe",
    "Update",
    "UpdateCallback",
]
