"""A channel's recorder: takes one stream role's packets from its ``PacketFanout``, keeps the
pre-record ring, and writes segments while recording is wanted.

The feed's thread only queues a packet (``put_nowait`` on a bounded queue): it never waits for
the disk. A writer thread takes them, keeps the ring and writes the segment files. When the
queue is full (a disk slower than the stream), packets are dropped up to the next keyframe
that fits, each one counted in ``dropped`` and each episode logged; the next packet written is
marked as a discontinuity so the file's timeline stays monotonic.

What is wanted is a set of open clips (a time range each, ``until`` infinite while an event
or a manual recording lasts); with ``record_type: continuous`` recording is wanted within the
record schedule (from ``pre_record`` before a period to ``post_record`` after it).
A recording that starts opens its segment at the ring's keyframe at or before the earliest
open clip's start (event time minus pre-record, to within one GOP). A segment is closed at
the first keyframe after ``segment_length`` seconds, at a discontinuity (a reconnect may
change the stream), and when nothing is wanted any more.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import math
import queue
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..feed import PacketFanout
from ..model import Packet
from .index import RecordingIndex, Segment
from .recovery import adopt
from .ring import PreRecordRing
from .segments import SegmentFile

_LOGGER = logging.getLogger(__name__)

#: Packets waiting for the writer at most (about 20 s of a 25 fps stream).
QUEUE_PACKETS = 500
#: What ``record_clip`` records by default: from 5 s before, 30 s long (the linkage action).
CLIP_PRE, CLIP_LENGTH = 5.0, 30.0
_STOP = object()


@dataclasses.dataclass
class _Want:
    clip_id: int
    start: float
    until: float


def _no_space(err: OSError | sqlite3.Error) -> bool:
    """Whether ``err`` says the disk (or the user's quota) is full: a file write's ENOSPC,
    or SQLite's "database or disk is full" when the index cannot grow."""
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT)
    return getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


class Recorder:
    """``settings`` is the channel's validated ``record`` section. ``on_segment`` is told of
    every closed segment, in the writer thread (it must return at once)."""

    def __init__(
        self,
        channel: str,
        settings: Mapping[str, Any],
        fanout: PacketFanout,
        index: RecordingIndex,
        root: Path,
        *,
        queue_packets: int = QUEUE_PACKETS,
        on_segment: Callable[[Segment], None] | None = None,
        report: Callable[[str | None], None] | None = None,
        changes_pictures: Callable[[], bool] = lambda: False,
        room: Callable[[], bool] = lambda: True,
        out_of_space: Callable[[], None] = lambda: None,
    ) -> None:
        self.channel = channel
        self.settings = settings
        self.stream = fanout.role
        self._fanout = fanout
        self._index = index
        self._root = root
        self._on_segment = on_segment
        self._report = report or (lambda error: None)
        self._changes_pictures = changes_pictures
        self._room, self._out_of_space = room, out_of_space
        self._full = False
        #: Packets not recorded, though wanted, because the storage was full (overwrite off).
        self.full_packets = 0
        self._refusing = False
        #: Packets not recorded because an image stage (a privacy mask...) changes the
        #: pictures: the source's packets would show what the stage hides.
        self.refused = 0
        self._failing = False
        self.continuous = settings["record_type"] == "continuous"
        self._schedule_second = -1
        self._in_schedule = False
        self.ring = PreRecordRing(max(settings["pre_record"], CLIP_PRE))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_packets)
        self._lock = threading.Lock()
        self._wants: dict[int, _Want] = {}
        self._segment: SegmentFile | None = None
        self._written_until = -math.inf  # the newest packet written to a segment
        self._dropping = False
        self._unsubscribe: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        #: Packets dropped because the writer was behind, and the episodes.
        self.dropped = 0
        self.drop_episodes = 0
        self.segments_written = 0
        self.write_errors = 0
        #: Packets not recorded after a failed write, until the next keyframe.
        self.failed_packets = 0
        #: Told (from the writer thread) when recording starts or stops: a segment opened
        #: with nothing open before, or the last one closed.
        self.on_state: Callable[[], None] = lambda: None
        #: Set whenever a segment was closed (tests and the API wait on it).
        self.segment_closed = threading.Condition()

    # -- the feed's thread --------------------------------------------------------------

    def _on_packet(self, packet: Packet) -> None:
        if self._dropping and not packet.keyframe:
            self.dropped += 1
            return
        if self._dropping:
            packet = dataclasses.replace(packet, discontinuity=True)
        try:
            self._queue.put_nowait(packet)
        except queue.Full:
            self.dropped += 1
            if not self._dropping:
                self.drop_episodes += 1
                _LOGGER.warning(
                    "%s: recording behind the %s stream: packets dropped to the next keyframe",
                    self.channel,
                    self.stream,
                )
            self._dropping = True
            return
        self._dropping = False

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"recorder-{self.channel}-{self.stream}", daemon=True
        )
        self._thread.start()
        self._unsubscribe = self._fanout.subscribe(self._on_packet)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking packets, write what waits, close the open segment and open clips."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._queue.put(_STOP, timeout=timeout)
            self._thread.join(timeout)
            self._thread = None

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until the writer handled every packet queued so far (``False``: not within
        ``timeout``). Blocking."""
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    # -- commands (any thread) ----------------------------------------------------------

    def want(self, start: float, until: float, reason: str) -> int:
        """Record from ``start`` (to within one GOP, as far back as the ring reaches) until
        ``until`` (``math.inf``: until ``release``); returns the clip's id. Blocking."""
        clip_id = self._index.open_clip(self.channel, start, reason)
        with self._lock:
            self._wants[clip_id] = _Want(clip_id, start, until)
        return clip_id

    def release(self, clip_id: int, until: float) -> None:
        """End clip ``clip_id`` at ``until`` (its post-record included)."""
        with self._lock:
            want = self._wants.get(clip_id)
            if want is not None:
                want.until = until

    @property
    def recording(self) -> bool:
        return self._segment is not None

    @property
    def open_bytes(self) -> int:
        """Bytes of the segment being written (not in the index yet)."""
        segment = self._segment
        return segment.size if segment is not None else 0

    def open_clip_ids(self) -> list[int]:
        with self._lock:
            return list(self._wants)

    # -- the writer thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                try:
                    self._handle(item)
                except (OSError, sqlite3.Error) as err:
                    self._failed(err)
        finally:
            self._finish()

    def _failed(self, err: OSError | sqlite3.Error) -> None:
        """A write failed (a full disk, an I/O error): counted, logged once per episode and
        reported (the storage-error exception). The open segment keeps what was written: it
        is finished and indexed now when it plays (else its ``.part`` is left for the next
        start's recovery). A full disk is told to the service (overwrite or stop).
        Recording retries at the next keyframe."""
        self.write_errors += 1
        if not self._failing:
            _LOGGER.error("%s: a recording write failed: %s", self.channel, err)
            why = err.strerror if isinstance(err, OSError) else None
            self._report(f"{self.channel}: {why or err}")
        self._failing = True
        segment, self._segment = self._segment, None
        if segment is not None:
            segment.abort()
            self._written_until = max(self._written_until, segment.last_wall)
            self.on_state()
        if _no_space(err):
            self._out_of_space()  # first: with overwrite on, the index needs the room too
        if segment is not None:
            self._salvage(segment)

    def _salvage(self, segment: SegmentFile) -> None:
        """Keep what an aborted segment holds, as the start-up recovery would."""
        try:
            row = adopt(self._root, segment.part, self._index, segment.path)
        except (OSError, sqlite3.Error) as err:
            _LOGGER.warning(
                "%s: the interrupted segment %s waits for the next start's recovery: %s",
                self.channel,
                segment.name,
                err,
            )
            return
        if row is None:
            segment.part.unlink(missing_ok=True)
            return
        self.segments_written += 1
        if self._on_segment is not None:
            self._on_segment(row)
        with self.segment_closed:
            self.segment_closed.notify_all()

    def _handle(self, packet: Packet) -> None:
        if self._changes_pictures():
            self._refuse()
            return
        self._refusing = False
        self.ring.add(packet)
        now = packet.wall_time
        wanted, start = self._wanted(now)
        if (packet.keyframe or self._segment is None) and (wanted or self._full):
            self._full = not self._room()
        if self._full:
            self.full_packets += wanted
            self._close()  # what was written stays, complete
            return
        segment = self._segment
        if segment is not None:
            if not wanted:
                self._close()
                return
            if packet.discontinuity or (
                packet.keyframe and now - segment.start >= self.settings["segment_length"]
            ):
                self._close()
                if not packet.keyframe:
                    return  # the next segment starts at a keyframe
                self._open([packet])
                return
            segment.write(packet)
            return
        # ``now < start``: the writer is behind the clip's start (packets still queued from
        # before it); opening now would start at an older keyframe than the clip needs.
        if wanted and now >= start and (packet.keyframe or not self._failing):
            # Never before what a closed segment holds: two files of the same time (and the
            # same name) would overwrite one another.
            packets = self.ring.since(start, after=self._written_until)
            if packets:
                self._open(packets)
        elif wanted and self._failing:
            self.failed_packets += 1  # after a failed write, recording resumes at a keyframe

    def _refuse(self) -> None:
        """An image stage is on: nothing unchanged is stored, not even in the ring (a privacy
        mask is never bypassed); re-encoding the staged pictures is not built yet."""
        self.refused += 1
        if not self._refusing:
            _LOGGER.warning(
                "%s: not recording while an image stage changes the pictures", self.channel
            )
        self._refusing = True
        self.ring.clear()
        self._close()

    def _wanted(self, now: float) -> tuple[bool, float]:
        """Whether anything wants recording at ``now``, and from when; clips past their end
        are closed in the index."""
        ended: list[_Want] = []
        with self._lock:
            for want in list(self._wants.values()):
                if want.until < now:
                    ended.append(self._wants.pop(want.clip_id))
            starts = [w.start for w in self._wants.values()]
        for want in ended:
            self._index.close_clip(want.clip_id, want.until)
        if self.continuous and self._scheduled(now):
            starts.append(now)
        return bool(starts), min(starts, default=now)

    def _scheduled(self, now: float) -> bool:
        """Continuous recording's schedule (manual 5.2.1): within a period, from
        ``pre_record`` seconds before it starts to ``post_record`` seconds after it ends.
        Answered once a second (the schedule has minutes; packets come 25 times a second)."""
        second = int(now)
        if second != self._schedule_second:
            schedule = self.settings["schedule"]
            self._schedule_second = second
            self._in_schedule = (
                schedule.is_armed(now)
                or schedule.is_armed(now + self.settings["pre_record"])
                or schedule.is_armed(now - self.settings["post_record"])
            )
        return self._in_schedule

    def _open(self, packets: list[Packet]) -> None:
        info = self._fanout.info
        if info is None:
            return
        segment = SegmentFile(self._root, self.channel, self.stream, info, packets[0])
        self._segment = segment
        self.on_state()
        for packet in packets[1:]:
            segment.write(packet)
        if self._failing:
            self._failing = False
            _LOGGER.info("%s: recording writes again", self.channel)
            self._report(None)

    def _close(self) -> None:
        segment = self._segment
        if segment is None:
            return
        self._written_until = max(self._written_until, segment.last_wall)
        try:
            written = segment.close()
            row = self._index.add_segment(
                self.channel,
                self.stream,
                written.start,
                written.end,
                written.path,
                written.size,
                written.keyframes,
            )
            self.segments_written += 1
        finally:
            # Not recording any more only once the segment is counted: who waits for the
            # recording to end then sees its segment.
            self._segment = None
        if self._on_segment is not None:
            self._on_segment(row)
        with self.segment_closed:
            self.segment_closed.notify_all()
        self.on_state()

    def _finish(self) -> None:
        """At stop: the open segment is closed and every open clip ends where it is."""
        end = self._segment.end if self._segment is not None else None
        try:
            self._close()
        except OSError:
            self.write_errors += 1
            _LOGGER.exception("%s: closing the last segment failed", self.channel)
        with self._lock:
            wants, self._wants = list(self._wants.values()), {}
        for want in wants:
            until = want.until if not math.isinf(want.until) else (end or want.start)
            self._index.close_clip(want.clip_id, until)
