"""The Runtime's recording methods (library first: the API and the client call these), kept
beside ``runtime.py`` so that neither grows past one concern. Blocking index and file work
runs in the default executor; the event loop only hands it over."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from .capture_plan import CapturePlans
from .captures import Captures
from .channel import Channel
from .channels import Channels
from .config import RuntimeConfig
from .model import SEARCH_KINDS, EventUpdate
from .recording.index import Clip
from .recording.recorder import CLIP_LENGTH, CLIP_PRE
from .recording.service import Recordings
from .recording.settings import MOTION
from .recording.thumbnails import thumbnail
from .storage_health import StorageHealth
from .storage_sensors import RECORD_STATE, record_state
from .uploads.naming import Picture
from .uploads.uploader import Uploads

_LOGGER = logging.getLogger(__name__)

#: Types that name how a picture or clip was made, not an event type.
_NOT_EVENT_TYPES = frozenset({"manual", "timing", "clip", "continuous"})


async def _off_loop[T](call: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, call, *args)


class RecordingMethods:
    """Mixed into ``Runtime``: needs its ``recordings``, ``channels`` and ``config``."""

    recordings: Recordings
    channels: Channels
    config: RuntimeConfig
    captures: Captures
    capture_plans: CapturePlans
    storage: StorageHealth
    uploads: Uploads
    #: The runtime's ``capture`` (channel, reason, size, quality).
    capture: Callable[[str, str, tuple[int, int] | None, int], Awaitable[dict[str, Any]]]
    #: What an uploaded picture's (or clip's) name is made of (channel, time, reason).
    _picture: Callable[[str, float, str], Picture]
    #: Finished clips being made into MP4 files and queued for upload.
    _clip_uploads: set[asyncio.Task[None]]

    async def _upload_clips(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue every finished clip for the targets that take clips; first those a stop or
        crash kept from being queued (recovery closed the ones a crash left open). With no
        target taking clips, clips are only marked handed on (enabling clips later uploads
        no history)."""
        self._clip_uploads = set()
        index = self.recordings.index
        if not self.uploads.takes("clips"):
            for clip in await _off_loop(index.unhanded_clips):
                await _off_loop(index.hand_clip, clip.id)
            self.recordings.on_clip = lambda clip: index.hand_clip(clip.id)
            return

        def finished(clip: Clip) -> None:  # in a recorder's writer thread
            if loop.is_closed():
                _LOGGER.warning(
                    "clip %d finished after the runtime stopped: queued at start", clip.id
                )
                return
            loop.call_soon_threadsafe(self._clip_finished, clip)

        self.recordings.on_clip = finished
        for clip in await _off_loop(index.unhanded_clips):
            self._clip_finished(clip)

    def _clip_finished(self, clip: Clip) -> None:
        task = asyncio.create_task(self._upload_clip(clip), name=f"upload clip {clip.id}")
        self._clip_uploads.add(task)
        task.add_done_callback(self._clip_uploads.discard)

    async def _upload_clip(self, clip: Clip) -> None:
        """Clip ``clip`` (finished) remuxed to one MP4 and queued, named as a picture is by
        its start and reason; then marked handed on (queued, or counted as not queued)."""
        assert clip.end is not None
        try:
            picture = self._picture(clip.channel, clip.start, clip.reason)
        except (KeyError, ValueError):  # the channel was removed meanwhile
            _LOGGER.warning("clip %d of removed channel %s not uploaded", clip.id, clip.channel)
        else:
            await self.uploads.offer_clip(picture, lambda out: self.recordings.clip_mp4(clip, out))
        await _off_loop(self.recordings.index.hand_clip, clip.id)

    async def _stop_recording(self) -> None:
        """Stop the recorders (their open clips finish), queue the clips that finished, then
        close the recordings: a clip ending at the stop is uploaded too."""
        for channel_id in list(self.recordings.recorders):
            # A clip finishing in the stop is handed to the loop before the stop returns, so
            # its task exists when the await below resumes.
            await _off_loop(self.recordings.stop_channel, channel_id)
        while self._clip_uploads:
            await asyncio.wait(list(self._clip_uploads))
        await _off_loop(self.recordings.close)

    def _plan_captures(self, channel: Channel) -> None:
        """Start the channel's automatic captures (by timing, on events) when it runs."""
        if channel.config.enabled:
            self.capture_plans.start(channel.id, channel.config.capture)

    async def _auto_capture(
        self, channel_id: str, reason: str, size: tuple[int, int] | None, quality: int
    ) -> None:
        await self.capture(channel_id, reason, size, quality)

    async def pictures(
        self,
        channel_id: str,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
    ) -> list[dict[str, Any]]:
        """Picture search: a channel's captures taken in ``[start, end]``, for ``reason``."""
        self.channels.find(channel_id)
        found = await _off_loop(self.captures.search, channel_id, start, end, reason)
        return [c.as_dict() for c in found]

    async def picture_file(self, capture_id: str) -> Path:
        """The file of picture ``capture_id`` (``NotFoundError`` when there is none)."""
        return await _off_loop(self.captures.path, capture_id)

    async def picture_thumbnail(
        self, capture_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        """JPEG of picture ``capture_id``, smaller with ``width``/``height``."""
        path = await _off_loop(self.captures.path, capture_id)
        return await _off_loop(thumbnail, path, width, height)

    async def search(
        self,
        channel_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str | None = None,
        within: tuple[str, ...] = SEARCH_KINDS,
        limit: int = 1000,
    ) -> dict[str, list[dict[str, Any]]]:
        """One search of the index and the event history: the segments, clips, pictures and
        events of ``channel_id`` (``None``: every channel) in ``[start, end]``, of the lists
        named in ``within``, at most ``limit`` of each. ``kind`` narrows clips, pictures and
        events: a capture type (``manual``, ``timing``, ``event``: any event's), a clip
        reason (``clip``) or an event type (``motion``...); segments are what plays, listed
        whatever ``kind``. Ids only, never paths: the files are fetched by id."""
        if channel_id is not None:
            self.channels.find(channel_id)
        found: dict[str, list[dict[str, Any]]] = {}
        if "segments" in within:
            segments = await _off_loop(self.recordings.index.segments, channel_id, start, end)
            found["segments"] = [s.as_dict() for s in segments[:limit]]
        if "clips" in within:
            clips = await _off_loop(self.recordings.index.clips, channel_id, start, end)
            found["clips"] = [c.as_dict() for c in clips if _clip_matches(c.reason, kind)][:limit]
        if "pictures" in within:
            pictures = await _off_loop(self.captures.search, channel_id, start, end, kind, limit)
            found["pictures"] = [p.as_dict() for p in pictures]
        if "events" in within:
            events = []
            if kind is None or kind not in _NOT_EVENT_TYPES:
                event_type = None if kind in (None, "event") else kind
                history = await self.events(
                    channel=channel_id, type=event_type, since=start, until=end, limit=limit
                )
                events = [e.as_dict() for e in reversed(history)]  # oldest first, as the rest
            found["events"] = events
        return found

    def _record(self, channel: Channel) -> None:
        """Start the channel's recorder when its ``record`` is enabled; it then declares its
        recording controls (manual recording, record clip)."""
        record = channel.config.record
        if not record["enabled"]:
            return
        if not record["motion_events"]:  # the event types declared with the motion class
            motion = [info.name for _, info in channel.event_types() if info.device_class == MOTION]
            record = {**record, "motion_events": motion}
        # Pixels changed (not the ePTZ window: recording passes the whole picture through
        # while only the window moves): the role's encoded stream, shared with live clients.
        self.recordings.start_channel(
            channel.id,
            record,
            channel.packets,
            lambda: channel.image.active or channel.display.enabled,
            channel.served.encoded,
        )
        recorder = self.recordings.recorders.get(channel.id)
        if recorder is not None:
            channel.manual_recording = lambda: self.recordings.manual_on(channel.id)
            channel.recording_state = lambda: recorder.recording
            recorder.on_state = channel.notify  # from its writer thread: the faces hear it
            channel.sensors = [
                *(sensor for sensor in channel.sensors if sensor[0] is not RECORD_STATE),
                (
                    RECORD_STATE,
                    lambda: record_state(self.recordings, channel.id, self.storage.failing),
                ),
            ]

    def _recordings_event(self, update: EventUpdate) -> None:
        """On the loop: an event may open or end a clip (an index write: off the loop, on
        one thread, so an event's end never overtakes its start)."""
        if update.event.channel in self.recordings.recorders:
            self.recordings.submit_event(update)

    async def _prune_recordings(self) -> None:
        days = {c.id: float(c.record["expiration_days"]) for c in self.config.channels}
        await _off_loop(self.recordings.prune, time.time(), days)

    async def recordings_of(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> dict[str, Any]:
        """A channel's segments and clips overlapping ``[start, end]`` (ids, never paths)."""
        self.channels.find(channel_id)
        segments = await _off_loop(self.recordings.segments, channel_id, start, end)
        clips = await _off_loop(self.recordings.clips, channel_id, start, end)
        return {
            "segments": [s.as_dict() for s in segments],
            "clips": [c.as_dict() for c in clips],
        }

    async def recording_file(self, segment_id: int) -> Path:
        """The file of segment ``segment_id`` (``NotFoundError`` when there is none)."""
        return await _off_loop(self.recordings.segment_file, segment_id)

    async def recording_thumbnail(
        self, segment_id: int, width: int | None = None, height: int | None = None
    ) -> bytes:
        """JPEG of segment ``segment_id``'s first picture, smaller with ``width``/``height``."""
        path = await _off_loop(self.recordings.segment_file, segment_id)
        return await _off_loop(thumbnail, path, width, height)

    async def playback_files(self, channel_id: str, start: float, end: float) -> list[Path]:
        """The segment files that together play ``[start, end]`` as one MPEG-TS file."""
        self.channels.find(channel_id)
        return await _off_loop(self.recordings.playback_files, channel_id, start, end)

    async def playback_mp4(self, channel_id: str, start: float, end: float) -> Path:
        """``[start, end]`` remuxed into one MP4 file a browser plays (kept for a while)."""
        self.channels.find(channel_id)
        return await _off_loop(self.recordings.playback_mp4, channel_id, start, end)

    async def record_clip(
        self, channel_id: str, pre: float = CLIP_PRE, length: float = CLIP_LENGTH
    ) -> dict[str, Any]:
        """The linkage action "record": ``pre`` s before now (5), ``length`` s long (30)."""
        self.channels.find(channel_id)
        clip = await _off_loop(self.recordings.record_clip, channel_id, pre, length)
        return clip.as_dict()

    async def record_start(self, channel_id: str) -> dict[str, Any]:
        """Manual recording on, until ``record_stop``."""
        channel = self.channels.find(channel_id)
        clip = await _off_loop(self.recordings.start_manual, channel_id)
        channel.notify()  # the manual recording switch is on
        return clip.as_dict()

    async def record_stop(self, channel_id: str) -> bool:
        """Manual recording off (``False``: it was not on)."""
        channel = self.channels.find(channel_id)
        stopped = await _off_loop(self.recordings.stop_manual, channel_id)
        channel.notify()
        return stopped

    async def recordings_storage(self) -> dict[str, Any]:
        """The recordings' storage (video bytes, limits, free and total, full or not) and the
        pictures' (bytes kept, count)."""
        video = await _off_loop(self.recordings.storage)
        return {**video, "picture_bytes": self.captures.size, "pictures": len(self.captures)}

    #: The runtime's event history query (``Runtime.events``).
    events: Callable[..., Awaitable[list[Any]]]

    def recording_status(self, channel_id: str) -> dict[str, Any]:
        self.channels.find(channel_id)
        return self.recordings.status(channel_id)


def _clip_matches(reason: str, kind: str | None) -> bool:
    """Whether a clip recorded for ``reason`` is of ``kind`` (``event``: any event's)."""
    if kind is None or kind == reason:
        return True
    return kind == "event" and reason not in _NOT_EVENT_TYPES
