"""The runtime's recordings: the index (recovered at open), one recorder per channel whose
``record`` is enabled, events turned into clips by record type, manual recording and the
record-clip command, retention, and the queries the API serves. Blocking methods: the
runtime calls them in an executor."""

from __future__ import annotations

import logging
import math
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..data_folder import private_folder
from ..encoding import EncodedStream
from ..exceptions import InvalidValueError, NotFoundError, NotRecordingError
from ..feed import PacketFanout
from ..model import EventUpdate
from .index import Clip, RecordingIndex, Segment
from .recorder import CLIP_LENGTH, CLIP_PRE, Recorder
from .recovery import RecoveryReport, recover
from .remux import PlaybackFiles, remux_mp4
from .retention import RetentionReport, over_limits, prune
from .triggers import Open, RecordTrigger

_LOGGER = logging.getLogger(__name__)

#: The recording index in the data folder: segments, clips and pictures.
INDEX_FILE = "recordings.sqlite3"

MANUAL = "manual"
#: After the disk filled up, recording resumes once this much more is free, at least (or
#: the largest segment written, when larger).
_ROOM_AFTER_FULL = 2**20
#: The longest range a browser plays at once (s): one remux of at most this much.
MAX_BROWSER_PLAYBACK = 3 * 3600.0


class Recordings:
    """``report`` is told, from a writer thread, when a recorder cannot write (the error) and
    when it writes again (``None``)."""

    def __init__(
        self,
        data_dir: Path,
        report: Callable[[str | None], None] | None = None,
        *,
        quota_bytes: int = 0,
        min_free_bytes: int = 0,
        overwrite: bool = True,
        report_full: Callable[[str | None], None] | None = None,
    ) -> None:
        self._report = report
        #: The video limits (0: none), checked after every segment a recorder closes, at
        #: every retention run and, with ``overwrite`` off, at every keyframe recorded.
        self.quota_bytes, self.min_free_bytes = quota_bytes, min_free_bytes
        #: On: the oldest are overwritten past the limits. Off: recording stops there and
        #: ``report_full`` is told why (the storage-full exception), then ``None`` when
        #: there is room again.
        self.overwrite = overwrite
        self._report_full = report_full or (lambda reason: None)
        self.full: str | None = None
        #: Free bytes when a write failed for want of space, with overwrite off: there is
        #: room again only once more than this is free.
        self._free_at_enospc: int | None = None
        self._video_bytes = 0
        self._largest = 0  # the largest segment written
        self._room_lock = threading.Lock()
        self._expiration: dict[str, float] = {}
        self._prune_lock = threading.Lock()
        self.root = data_dir / "recordings"
        self._db = data_dir / INDEX_FILE
        self._index: RecordingIndex | None = None
        self.recorders: dict[str, Recorder] = {}
        #: (channel, event id or trigger key) -> the clip it opened
        self._event_clips: dict[tuple[str, str], int] = {}
        self._triggers: dict[str, RecordTrigger] = {}
        self._manual: dict[str, int] = {}
        self._lock = threading.Lock()
        self.recovery = RecoveryReport()
        self.retention = RetentionReport()
        self._events: ThreadPoolExecutor | None = None
        #: Told, in a recorder's thread, of every finished clip (its recording complete:
        #: closed, and every segment it covers closed); it must return at once.
        self.on_clip: Callable[[Clip], None] = lambda clip: None
        #: The MP4 files of the last ranges a browser played.
        self.playback = PlaybackFiles(data_dir / "playback")

    @property
    def index(self) -> RecordingIndex:
        if self._index is None:
            raise RuntimeError("recordings are not open")
        return self._index

    def open(self) -> RecoveryReport:
        """Open the index and reconcile it with the files (what a crash left)."""
        private_folder(self.root)
        self.playback.clear()
        self._index = RecordingIndex(self._db)
        self.recovery = recover(self.root, self._index)
        self._video_bytes = self._index.video_bytes()
        self._events = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recordings-events")
        return self.recovery

    def close(self) -> None:
        if self._events is not None:
            self._events.shutdown()
            self._events = None
        for channel_id in list(self.recorders):
            self.stop_channel(channel_id)
        if self._index is not None:
            self._index.close()
            self._index = None

    def start_channel(
        self,
        channel_id: str,
        settings: Mapping[str, Any],
        fanouts: Mapping[str, PacketFanout],
        changes_pictures: Callable[[], bool] = lambda: False,
        encoded: Callable[[str], EncodedStream] | None = None,
    ) -> None:
        """Record ``channel_id`` when its ``record`` section is enabled: its stream's packets,
        or while ``changes_pictures()`` (a privacy mask, OSD, display info...) the stream
        encoded from the changed pictures, ``encoded(role)`` (nothing without it)."""
        role = settings["stream"]
        fanout = fanouts.get(role)
        if not settings["enabled"] or fanout is None or channel_id in self.recorders:
            return
        self._expiration[channel_id] = float(settings["expiration_days"])
        recorder = Recorder(
            channel_id,
            settings,
            fanout,
            self.index,
            self.root,
            report=self._report,
            on_segment=self._segment_closed,
            on_clip=self._clip_finished,
            changes_pictures=changes_pictures,
            encoded=(lambda: encoded(role)) if encoded is not None else None,
            room=self.room,
            out_of_space=self._out_of_space,
        )
        recorder.start()
        self._triggers[channel_id] = RecordTrigger(settings)
        self.recorders[channel_id] = recorder

    def stop_channel(self, channel_id: str) -> None:
        recorder = self.recorders.pop(channel_id, None)
        self._triggers.pop(channel_id, None)
        with self._lock:
            for key in [k for k in self._event_clips if k[0] == channel_id]:
                del self._event_clips[key]
        if recorder is not None:
            recorder.stop()

    def trigger(self, channel_id: str) -> RecordTrigger | None:
        """The record type of a recording channel, as applied to its events."""
        return self._triggers.get(channel_id)

    def recorder(self, channel_id: str) -> Recorder:
        recorder = self.recorders.get(channel_id)
        if recorder is None:
            raise NotRecordingError(
                f"channel {channel_id!r} does not record: its record.enabled is off"
            )
        return recorder

    # -- what starts and ends clips -------------------------------------------------------

    def submit_event(self, update: EventUpdate) -> None:
        """``on_event`` on the recordings' event thread, in order (from the event loop)."""
        if self._events is not None:
            self._events.submit(self._on_event_logged, update)

    def _on_event_logged(self, update: EventUpdate) -> None:
        try:
            self.on_event(update)
        except Exception:  # a thread's future: nobody else would see it
            _LOGGER.exception("%s: an event's recording failed", update.event.channel)

    def on_event(self, update: EventUpdate) -> None:
        """An event opens or closes clips by its channel's record type and schedule
        (``triggers.py``): from its start minus pre-record to post-record after its end."""
        event = update.event
        recorder = self.recorders.get(event.channel)
        trigger = self._triggers.get(event.channel)
        if recorder is None or trigger is None:
            return
        for action in trigger.update(update):
            key = (event.channel, action.key)
            if isinstance(action, Open):
                clip_id = recorder.want(action.start, math.inf, action.reason)
                with self._lock:
                    self._event_clips[key] = clip_id
            else:
                with self._lock:
                    found = self._event_clips.pop(key, None)
                if found is not None:
                    recorder.release(found, action.until)

    def record_clip(
        self, channel_id: str, pre: float = CLIP_PRE, length: float = CLIP_LENGTH
    ) -> Clip:
        """The linkage action "record": from ``pre`` seconds before now (as far back as the
        pre-record ring reaches, to within one GOP), ``length`` seconds long."""
        recorder = self.recorder(channel_id)
        now = time.time()
        clip_id = recorder.want(now - pre, now + length, "clip")
        return Clip(clip_id, channel_id, now - pre, None, "clip")

    def start_manual(self, channel_id: str) -> Clip:
        """Record until ``stop_manual`` (with the channel's pre-record)."""
        recorder = self.recorder(channel_id)
        with self._lock:
            if channel_id in self._manual:
                clip_id = self._manual[channel_id]
                return next(c for c in self.index.clips(channel_id) if c.id == clip_id)
            start = time.time() - recorder.settings["pre_record"]
            clip_id = recorder.want(start, math.inf, MANUAL)
            self._manual[channel_id] = clip_id
        return Clip(clip_id, channel_id, start, None, MANUAL)

    def manual_on(self, channel_id: str) -> bool:
        """Whether manual recording is on for the channel."""
        return channel_id in self._manual

    def stop_manual(self, channel_id: str) -> bool:
        """End the manual recording (``False``: none was running)."""
        recorder = self.recorder(channel_id)
        with self._lock:
            clip_id = self._manual.pop(channel_id, None)
        if clip_id is None:
            return False
        recorder.release(clip_id, time.time())
        return True

    # -- queries --------------------------------------------------------------------------

    def segments(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> list[Segment]:
        return self.index.segments(channel_id, start, end)

    def clips(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> list[Clip]:
        return self.index.clips(channel_id, start, end)

    def segment_file(self, segment_id: int) -> Path:
        segment = self.index.segment(segment_id)
        if segment is None:
            raise NotFoundError(f"no recording {segment_id}")
        return self.root / segment.path

    def playback_files(
        self, channel_id: str, start: float, end: float, stream: str | None = None
    ) -> list[Path]:
        """The segment files covering ``[start, end]`` in order: MPEG-TS concatenates, so
        together they are one file of the range (whole segments: from the keyframe that
        starts the first)."""
        return [self.root / s.path for s in self._covering(channel_id, start, end, stream)]

    def playback_mp4(self, channel_id: str, start: float, end: float) -> Path:
        """``[start, end]`` as one MP4 file a browser plays (``remux.py``): at most
        ``MAX_BROWSER_PLAYBACK`` seconds, times from the first segment's start."""
        if end - start > MAX_BROWSER_PLAYBACK:
            raise InvalidValueError(
                f"a browser plays at most {MAX_BROWSER_PLAYBACK // 3600:.0f} hours at once"
            )
        return self.playback.mp4(self._covering(channel_id, start, end, None), self.root)

    def clip_mp4(self, clip: Clip, out: Path) -> list[Segment]:
        """Finished clip ``clip`` remuxed into the MP4 file ``out`` (no re-encoding: whole
        segments, from the keyframe that starts the first); the segments it holds.
        ``NotFoundError`` when nothing of it was recorded."""
        if clip.end is None:
            raise InvalidValueError(f"clip {clip.id} is still being recorded")
        segments = self._covering(clip.channel, clip.start, max(clip.end, clip.start + 1e-3), None)
        remux_mp4([(self.root / s.path, s.start) for s in segments], out)
        return segments

    def _clip_finished(self, clip: Clip) -> None:
        self.on_clip(clip)

    def _covering(
        self, channel_id: str, start: float, end: float, stream: str | None
    ) -> list[Segment]:
        if end <= start:
            raise InvalidValueError("end must be after start")
        segments = self.index.segments(channel_id, start, end)
        if stream is not None:
            segments = [s for s in segments if s.stream == stream]
        if not segments:
            raise NotFoundError(f"no recording of {channel_id!r} in that time range")
        return segments

    def _segment_closed(self, segment: Segment) -> None:
        """In a recorder's thread: count its bytes; with overwrite on and a limit, make room
        at once, not only at the hourly run."""
        with self._room_lock:
            self._video_bytes += segment.size
            self._largest = max(self._largest, segment.size)
        if self.overwrite and (self.quota_bytes or self.min_free_bytes):
            self.prune(time.time())

    def room(self) -> bool:
        """Whether recorders may write (a recorder asks at each keyframe). Always with
        overwrite on (retention makes the room); with it off, not past the video quota (the
        open segments counted), below the free-space floor, or after the disk filled up
        until space was freed. Each change is reported (the storage-full exception)."""
        if self.overwrite:
            return True
        with self._room_lock:
            total = self._video_bytes + sum(r.open_bytes for r in list(self.recorders.values()))
            reason = over_limits(self.root, total, self.quota_bytes, self.min_free_bytes)
            if reason is None and self._free_at_enospc is not None:
                need = max(_ROOM_AFTER_FULL, self._largest)
                if shutil.disk_usage(self.root).free <= self._free_at_enospc + need:
                    reason = "the disk is full"
                else:
                    self._free_at_enospc = None
            self._set_full(reason)
        return reason is None

    def _out_of_space(self) -> None:
        """A recorder's write failed for want of space (its segment was kept as written):
        with overwrite on, the oldest make room now; off, recording stops until space is
        freed."""
        if self.overwrite:
            try:
                self.prune(time.time(), need_free=self._largest or _ROOM_AFTER_FULL)
            except (OSError, sqlite3.Error):  # the recorder retries at its next keyframe
                _LOGGER.exception("recordings: overwriting to make room failed")
            return
        with self._room_lock:
            self._free_at_enospc = shutil.disk_usage(self.root).free
            self._set_full("the disk is full")

    def _set_full(self, reason: str | None) -> None:
        if reason == self.full:
            return
        if reason is not None:
            _LOGGER.error("recordings: storage full, recording stopped: %s", reason)
        else:
            _LOGGER.info("recordings: room again, recording resumes")
        self.full = reason
        self._report_full(reason)

    def prune(
        self,
        now: float,
        expiration_days: Mapping[str, float] | None = None,
        need_free: int = 0,
    ) -> RetentionReport:
        """Expiration (by channel: ``expiration_days``, else the recording channels' own),
        then, with overwrite on, the quota and the free-space floor (at least ``need_free``
        bytes). One at a time (recorders close segments in parallel)."""
        days = self._expiration if expiration_days is None else expiration_days
        with self._prune_lock:
            report = prune(
                self.root,
                self.index,
                days,
                now,
                quota_bytes=self.quota_bytes,
                min_free_bytes=max(self.min_free_bytes, need_free),
                overwrite=self.overwrite,
            )
            with self._room_lock:
                self._video_bytes = self.index.video_bytes()
        self.retention.expired += report.expired
        self.retention.overwritten += report.overwritten
        self.retention.kept_for_clips += report.kept_for_clips
        self.retention.clips_removed += report.clips_removed
        if not self.overwrite:
            self.room()  # expiration may have made room
        return report

    def storage_bytes(self) -> int:
        """Bytes of video kept (every indexed segment)."""
        with self._room_lock:
            return self._video_bytes

    def storage(self) -> dict[str, Any]:
        """The recordings' storage: bytes of video, the limits, free and total space of
        the disk, whether it is full (with overwrite off) and why."""
        usage = shutil.disk_usage(self.root)
        with self._room_lock:
            video = self._video_bytes
        return {
            "video_bytes": video,
            "quota_bytes": self.quota_bytes,
            "min_free_bytes": self.min_free_bytes,
            "free_bytes": usage.free,
            "total_bytes": usage.total,
            "overwrite": self.overwrite,
            "full": self.full,
            "expired": self.retention.expired,
            "overwritten": self.retention.overwritten,
            "clips_removed": self.retention.clips_removed,
        }

    def status(self, channel_id: str) -> dict[str, Any]:
        recorder = self.recorders.get(channel_id)
        if recorder is None:
            return {"enabled": False, "recording": False}
        return {
            "enabled": True,
            "recording": recorder.recording,
            "stream": recorder.stream,
            "record_type": recorder.settings["record_type"],
            "manual": channel_id in self._manual,
            "dropped_packets": recorder.dropped,
            "segments_written": recorder.segments_written,
            "write_errors": recorder.write_errors,
            "pre_record_bytes": recorder.ring.bytes,
            "source": recorder.source,
            "switches": recorder.switches,
            "switch_packets": recorder.switch_packets,
            "refused_packets": recorder.refused,
            "full_packets": recorder.full_packets,
            "failed_packets": recorder.failed_packets,
        }
