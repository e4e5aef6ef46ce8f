"""A channel's recorder: takes one stream role's packets from its ``PacketFanout``, keeps the
pre-record ring, and writes segments while recording is wanted.

The feed's thread only appends a packet to a bounded deque (no lock, no wake-up): it never
waits for the disk. A writer thread wakes every ``FLUSH_INTERVAL`` seconds (at once for a
command, or when the deque is half full), takes every packet waiting, keeps the ring, muxes
them into the segment file and writes their bytes in one system call: a packet reaches the
file within ``FLUSH_INTERVAL`` plus the batch's own time while the writer keeps up, so a
killed process loses at most that last half second. Per packet that is an append instead of a
lock, a condition and a thread hand-off (25 a second per recorded stream, which a process
with dozens of channels pays in the GIL). When the deque is full (a disk slower than the
stream), packets are dropped up to the next keyframe that fits, each one counted in
``dropped`` and each episode logged; the next packet written is marked as a discontinuity so
the file's timeline stays monotonic.

What is wanted is a set of open clips (a time range each, ``until`` infinite while an event
or a manual recording lasts); with ``record_type: continuous`` recording is wanted within the
record schedule (from ``pre_record`` before a period to ``post_record`` after it).
A recording that starts opens its segment at the ring's keyframe at or before the earliest
open clip's start (event time minus pre-record, to within one GOP). A segment is closed at
the first keyframe after ``segment_length`` seconds, at a discontinuity (a reconnect may
change the stream), and when nothing is wanted any more.

What is recorded: the source's packets passed through (remuxed, never decoded) while nothing
changes the pixels; while something does (``changes_pictures``: a privacy mask, OSD, display
info...) or the source hands no packets a segment carries (a synthetic or stitched picture),
the stream role's encoded stream (``encoded``: the ``EncodedStream`` the role's live clients
share, one encoder however many consumers). A switch between the two closes the segment and
empties the ring (packets of two streams never mix in a file); the next segment opens at the
new source's first keyframe. After a switch because the pictures changed, no passthrough
packet is taken any more (each is checked when the writer takes it) and the encoded stream
is taken from a keyframe of a picture demultiplexed after the switch: a privacy mask is never
bypassed, not even by the ring. Without an encoded stream to be had (no encoder, no picture
yet, it failed) nothing is recorded while the pictures are changed (``refused``), and the
recorder tries again every ``RETRY`` seconds.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import logging
import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..encoding import EncodedStream, StreamConsumer
from ..exceptions import CameraRuntimeError
from ..feed import PacketFanout
from ..model import Packet, StreamInfo
from ..streaming import SERVED_CODECS
from .index import Clip, RecordingIndex, Segment
from .recovery import adopt
from .ring import PreRecordRing
from .segments import SegmentFile

_LOGGER = logging.getLogger(__name__)

#: Packets waiting for the writer at most (about 20 s of a 25 fps stream).
QUEUE_PACKETS = 500
#: What ``record_clip`` records by default: from 5 s before, 30 s long (the linkage action).
CLIP_PRE, CLIP_LENGTH = 5.0, 30.0
_STOP = object()
#: Seconds between two tries to take the encoded stream (none yet, or it failed), and how
#: often the writer looks whether the source must change while no packet comes.
RETRY = 0.5
#: How often (s) the writer takes the packets waiting and writes them: what a segment's file
#: lags the stream at most while the writer keeps up (a kill -9 loses at most that).
FLUSH_INTERVAL = 0.5
#: What a recorder records: the source's packets, or the stream role's encoded stream.
PASSTHROUGH, ENCODED = "passthrough", "encoded"


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
    every closed segment, ``on_clip`` of every finished clip (closed in the index, and every
    segment it covers closed: its recording is complete), both in the writer thread (they
    must return at once)."""

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
        on_clip: Callable[[Clip], None] | None = None,
        report: Callable[[str | None], None] | None = None,
        changes_pictures: Callable[[], bool] = lambda: False,
        encoded: Callable[[], EncodedStream] | None = None,
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
        self._on_clip = on_clip
        #: Clips closed in the index whose last segment is still being written: (id, end).
        self._closing: list[tuple[int, float]] = []
        self._report = report or (lambda error: None)
        self._changes_pictures = changes_pictures
        self._room, self._out_of_space = room, out_of_space
        self._full = False
        #: Packets not recorded, though wanted, because the storage was full (overwrite off).
        self.full_packets = 0
        self._encoded = encoded
        self._refusing = False
        #: Packets not recorded because the pictures are changed (a privacy mask...) and no
        #: encoded stream could be had: the source's packets would show what a stage hides.
        self.refused = 0
        #: What is recorded now (``PASSTHROUGH`` or ``ENCODED``; ``None`` before the start).
        self.source: str | None = None
        #: Switches between the two, and the packets left out at them (queued from the former
        #: source, or encoded from pictures older than the switch).
        self.switches = 0
        self.switch_packets = 0
        self._generation = 0  # of the subscription: packets of an older one are left out
        self._subscription: StreamConsumer | None = None  # the encoded stream's
        self._sub_lock = threading.Lock()  # subscribing against ``stop``
        self._stopping = False
        self._retry_at = 0.0  # monotonic: when to try the encoded stream again
        self._unavailable = False  # the encoded stream could not be had (logged once)
        self._ended = -1  # the generation whose encoded stream ended (the writer sets it)
        self._fresh_after: float | None = None  # monotonic: see the module docstring
        self._failing = False
        self.continuous = settings["record_type"] == "continuous"
        self._schedule_second = -1
        self._in_schedule = False
        self.ring = PreRecordRing(max(settings["pre_record"], CLIP_PRE))
        #: Packets for the writer, ``(generation, packet)``: appended by the feed's thread,
        #: taken by the writer's (a deque's append and popleft are atomic: no lock). A
        #: ``None`` packet: that generation's encoded stream ended there.
        self._pending: deque[tuple[int, Packet | None]] = deque()
        self._capacity = queue_packets
        self._wake_at = max(1, queue_packets // 2)  # pending packets that wake the writer
        #: Commands for the writer (``_STOP``, a ``drain``'s event), after the packets
        #: appended before them.
        self._commands: deque[object] = deque()
        self._wake = threading.Event()
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

    def _on_packet(self, generation: int, packet: Packet) -> None:
        """From the feed's thread (passthrough) or the encoder's (encoded): an append, and a
        wake-up only when the writer lets packets pile up (half the deque)."""
        if self._dropping and not packet.keyframe:
            self.dropped += 1
            return
        pending = self._pending
        if len(pending) >= self._capacity:
            self.dropped += 1
            if not self._dropping:
                self.drop_episodes += 1
                _LOGGER.warning(
                    "%s: recording behind the %s stream: packets dropped to the next keyframe",
                    self.channel,
                    self.stream,
                )
            self._dropping = True
            self._wake.set()
            return
        if self._dropping:
            packet = dataclasses.replace(packet, discontinuity=True)
            self._dropping = False
        pending.append((generation, packet))
        if len(pending) == self._wake_at:
            self._wake.set()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Take the source's packets from now on (the writer thread moves to the encoded
        stream at once when the pictures are changed or the source hands no packets)."""
        self._thread = threading.Thread(
            target=self._run, name=f"recorder-{self.channel}-{self.stream}", daemon=True
        )
        self._subscribe_passthrough()
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking packets, write what waits, close the open segment and open clips."""
        with self._sub_lock:
            self._stopping = True
            self._unsubscribe_now()
        if self._thread is not None:
            self._command(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until the writer handled every packet queued so far and wrote it to the file
        (``False``: not within ``timeout``). Blocking."""
        done = threading.Event()
        self._command(done)
        return done.wait(timeout)

    def _command(self, command: object) -> None:
        self._commands.append(command)
        self._wake.set()

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

    # -- the source: passthrough or encoded --------------------------------------------

    def _subscribe_passthrough(self) -> None:
        with self._sub_lock:
            if self._stopping:
                return
            self._unsubscribe_now()
            self._generation += 1
            generation = self._generation
            # A partial, not a lambda: no Python frame more per packet.
            self._unsubscribe = self._fanout.subscribe(
                functools.partial(self._on_packet, generation)
            )
            self.source = PASSTHROUGH
            self._dropping = False

    def _subscribe_encoded(self, stream: EncodedStream) -> None:
        """Attach to ``stream`` (blocking: the first consumer opens its encoder); raises
        what ``attach`` raises, leaving the passthrough subscription as it was."""
        with self._sub_lock:
            if self._stopping:
                return
            generation = self._generation + 1
            consumer = stream.attach(
                functools.partial(self._on_packet, generation),
                on_end=lambda error: self._stream_ended(generation, error),
            )
            self._unsubscribe_now()
            self._generation = generation
            self._subscription = consumer
            self._unsubscribe = consumer.close
            self.source = ENCODED
            self._dropping = False

    def _unsubscribe_now(self) -> None:
        """With ``_sub_lock`` held."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        self._subscription = None
        if unsubscribe is not None:
            unsubscribe()

    def _stream_ended(self, generation: int, error: str) -> None:
        """The encoded stream ended this consumer (any thread): it was rebuilt (a new
        picture size, the channel stopped) or its encoder failed. The writer takes the next."""
        if error:
            _LOGGER.warning(
                "%s: the recorded %s stream ended: %s", self.channel, self.stream, error
            )
            self._retry_at = time.monotonic() + RETRY
        # In line with the packets: those it sent before its end are still recorded.
        self._pending.append((generation, None))
        self._wake.set()

    def _source_info(self) -> StreamInfo | None:
        consumer = self._subscription
        if self.source == ENCODED and consumer is not None:
            return consumer.stream.stream_info()
        return self._fanout.info

    def _wanted_source(self) -> str:
        """Encoded while the pictures are changed or the source hands no packets a segment
        carries (a synthetic or stitched picture); else passed through."""
        info = self._fanout.info
        if self._changes_pictures() or (info is not None and info.codec not in SERVED_CODECS):
            return ENCODED
        return PASSTHROUGH

    def _select(self) -> None:
        """Writer thread: move to the source wanted now, when it differs (and can be had)."""
        if self._ended == self._generation and self.source == ENCODED:
            self._switched()
            self._subscribe_passthrough()  # until the encoded stream is had again
        wanted = self._wanted_source()
        if wanted == self.source:
            return
        if wanted == PASSTHROUGH:
            self._switched()
            self._subscribe_passthrough()
            return
        if self._encoded is None or time.monotonic() < self._retry_at:
            return
        fresh_after = time.monotonic() if self._changes_pictures() else None
        try:
            self._subscribe_encoded(self._encoded())
        except (CameraRuntimeError, ValueError) as err:  # vol.Invalid is a ValueError
            self._retry_at = time.monotonic() + RETRY
            if not self._unavailable:
                self._unavailable = True
                _LOGGER.warning(
                    "%s: cannot record the encoded %s stream (retrying): %s",
                    self.channel,
                    self.stream,
                    err,
                )
            return
        if self._unavailable:
            self._unavailable = False
            _LOGGER.info("%s: recording the encoded %s stream", self.channel, self.stream)
        self._switched()
        self._fresh_after = fresh_after

    def _switched(self) -> None:
        """The source changes: the open segment ends, the ring starts anew with it."""
        self.switches += 1
        self._fresh_after = None
        self.ring.clear()
        self._close()
        self.on_state()

    def _fresh(self, packet: Packet) -> bool:
        """Whether an encoded packet may be recorded after a switch: from the first keyframe
        of a picture demultiplexed after it (an older one may predate the privacy mask)."""
        fresh_after = self._fresh_after
        if fresh_after is None:
            return True
        if packet.keyframe and packet.demux_time > fresh_after:
            self._fresh_after = None
            return True
        consumer = self._subscription
        if packet.keyframe and consumer is not None:
            consumer.stream.request_keyframe()  # too old: the next picture is one
        return False

    # -- the writer thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                # The commands first: the packets appended before them are all in
                # ``_pending`` now, and are written before a drain is told.
                commands = [self._commands.popleft() for _ in range(len(self._commands))]
                try:
                    self._select()
                except (OSError, sqlite3.Error) as err:  # closing the segment at a switch
                    self._failed(err)
                self._take_pending()
                for command in commands:
                    if isinstance(command, threading.Event):
                        command.set()
                if _STOP in commands:
                    break
                self._wake.wait(FLUSH_INTERVAL)
                self._wake.clear()  # what set it came before: it is taken next
        finally:
            self._finish()

    def _take_pending(self) -> None:
        """Handle every packet waiting, then write the open segment's new bytes at once."""
        pending = self._pending
        for _ in range(len(pending)):
            try:
                self._take(*pending.popleft())
            except (OSError, sqlite3.Error) as err:
                self._failed(err)
        segment = self._segment
        if segment is not None:
            try:
                segment.flush()
            except OSError as err:
                self._failed(err)

    def _take(self, generation: int, packet: Packet | None) -> None:
        if packet is None:  # the stream of ``generation`` ended after its packets before
            self._ended = generation
            self._select()
            return
        self._select()  # a mask on or off since the last look: the other source from here
        if generation != self._generation:  # from the source recorded before a switch
            self.switch_packets += 1
            return
        if self.source == ENCODED and not self._fresh(packet):
            self.switch_packets += 1
            return
        self._handle(packet)

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
        if self.source == PASSTHROUGH and self._changes_pictures():
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
        """The pictures are changed and their encoded stream cannot be had (yet): nothing
        unchanged is stored, not even in the ring (a privacy mask is never bypassed)."""
        self.refused += 1
        if not self._refusing:
            _LOGGER.warning(
                "%s: not recording while the pictures are changed and their encoded %s stream "
                "cannot be had",
                self.channel,
                self.stream,
            )
        self._refusing = True
        self.ring.clear()
        self._close()

    def _wanted(self, now: float) -> tuple[bool, float]:
        """Whether anything wants recording at ``now``, and from when; clips past their end
        are closed in the index. Asked for every packet: nothing is built without a clip."""
        ended: list[_Want] = []
        start = math.inf
        with self._lock:
            if self._wants:
                for want in list(self._wants.values()):
                    if want.until < now:
                        ended.append(self._wants.pop(want.clip_id))
                    else:
                        start = min(start, want.start)
        for want in ended:
            self._closed_clip(want, want.until)
        if self._closing:
            self._finish_clips()
        if self.continuous and self._scheduled(now):
            start = min(start, now)
        if start == math.inf:
            return False, now
        return True, start

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
        info = self._source_info()
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
        self._finish_clips()
        with self.segment_closed:
            self.segment_closed.notify_all()
        self.on_state()

    def _closed_clip(self, want: _Want, until: float) -> None:
        """Close a clip in the index; it is finished once no open segment covers it."""
        self._index.close_clip(want.clip_id, until)
        if self._on_clip is not None:
            self._closing.append((want.clip_id, until))

    def _finish_clips(self) -> None:
        """Tell ``on_clip`` of the closed clips the open segment (if any) no longer covers:
        a segment opened after a clip's end holds none of it."""
        if not self._closing:
            return
        segment = self._segment
        waiting: list[tuple[int, float]] = []
        for clip_id, end in self._closing:
            if segment is not None and segment.start <= end:
                waiting.append((clip_id, end))
                continue
            found = self._index.clip(clip_id)
            if found is not None and self._on_clip is not None:
                try:
                    self._on_clip(found)
                except Exception:  # a listener's bug never stops the recording
                    _LOGGER.exception("%s: a finished clip's listener failed", self.channel)
        self._closing = waiting

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
            self._closed_clip(want, until)
        self._finish_clips()
