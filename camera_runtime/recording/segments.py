"""Segment files: a stream's packets remuxed (``streaming.TsMuxer``, the muxer the live streams
use) into one MPEG-TS file per segment, each starting at a keyframe.

MPEG-TS because a file cut anywhere still plays up to the cut: a segment a crash left half
written loses at most its last packets. Packets are muxed as they come and their bytes written
with one system call per ``flush`` (the recorder flushes after each batch it takes, at least
every ``recorder.FLUSH_INTERVAL`` seconds): a killed process loses what it had muxed since the
last flush, never more. A segment is written under a temporary name
(``.part``) and renamed when closed, after its bytes are synced, so a final name always means
a complete file. Names carry the channel, the stream and the start time (UTC, to the
millisecond): ``<channel>/<YYYY-MM-DD>/<channel>_<stream>_<YYYYMMDDTHHMMSS.mmm>Z.ts``.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av

from ..data_folder import private_folder
from ..model import Packet, StreamInfo
from ..streaming import TsMuxer

SUFFIX = ".ts"
PART = ".part"
#: Muxed bytes and chunks a segment holds back at most before writing them (a backlog taken
#: at once; the chunks are one ``writev``'s, well under its limit of 1024).
MAX_UNWRITTEN, MAX_CHUNKS = 1024 * 1024, 256


def segment_name(channel: str, stream: str, start: float) -> str:
    """The path of a segment, relative to the recordings folder."""
    when = datetime.fromtimestamp(start, UTC)
    stamp = when.strftime("%Y%m%dT%H%M%S") + f".{when.microsecond // 1000:03d}Z"
    return f"{channel}/{when:%Y-%m-%d}/{channel}_{stream}_{stamp}{SUFFIX}"


def parse_name(name: str) -> tuple[str, str, float] | None:
    """``(channel, stream, start)`` of a segment file's name; ``None`` for another file."""
    if not name.endswith(SUFFIX):
        return None
    channel, _, rest = name[: -len(SUFFIX)].rpartition("_")
    channel, _, stream = channel.rpartition("_")
    try:
        when = datetime.strptime(rest, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if not channel or not stream:
        return None
    return channel, stream, when.timestamp()


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Written:
    """A closed segment, as the index records it."""

    path: str
    start: float
    end: float
    size: int
    keyframes: int


class SegmentFile:
    """One segment being written (blocking; its recorder's writer thread only). The first
    packet must be a keyframe."""

    def __init__(
        self, root: Path, channel: str, stream: str, info: StreamInfo, first: Packet
    ) -> None:
        if not first.keyframe:
            raise ValueError("a segment starts at a keyframe")
        self.start = first.wall_time
        self.name = segment_name(channel, stream, self.start)
        self.path = root / self.name
        private_folder(self.path.parent)
        self.part = self.path.with_name(self.path.name + PART)
        # Unbuffered: ``flush`` hands the kernel what was muxed since the last one in one
        # write, so a killed process loses only that (a power cut loses what the kernel had
        # not written yet).
        self._file = open(self.part, "wb", buffering=0)  # noqa: SIM115 - see close()
        self._chunks: list[bytes] = []  # muxed, not written yet
        self._unwritten = 0
        self._muxer = TsMuxer(info)
        self._step = 1.0 / info.fps if info.fps > 0 else 0.04
        self.end = self.start
        #: The newest packet's wall time: what a later segment must start after.
        self.last_wall = self.start
        self.size = 0
        self.keyframes = 0
        self.packets = 0
        try:
            self.write(first)
        except BaseException:
            self.abort()  # the muxer is released here, not by the garbage collector
            raise

    def write(self, packet: Packet) -> None:
        """Mux ``packet``; its bytes reach the file at the next ``flush`` (or at once when
        ``MAX_UNWRITTEN`` bytes wait: a writer catching up on a backlog)."""
        data = self._muxer.mux(packet)
        self._chunks.append(data)
        self._unwritten += len(data)
        if self._unwritten >= MAX_UNWRITTEN or len(self._chunks) >= MAX_CHUNKS:
            self.flush()
        self.size += len(data)
        self.keyframes += packet.keyframe
        self.packets += 1
        self.end = max(self.end, packet.wall_time + self._step)
        self.last_wall = max(self.last_wall, packet.wall_time)

    def flush(self) -> None:
        """Write what was muxed since the last flush, in one system call (blocking; the
        chunks as they are, not joined into one more large block)."""
        chunks, total = self._chunks, self._unwritten
        if not chunks:
            return
        self._chunks, self._unwritten = [], 0
        written = os.writev(self._file.fileno(), chunks)
        if written == total:
            return
        rest = memoryview(b"".join(chunks))[written:]
        while rest:  # a file may take less than asked (a disk filling up)
            written = self._file.write(rest) or 0
            if not written:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.part))
            rest = rest[written:]

    def close(self) -> Written:
        """Finish the file, sync it and give it its final name."""
        tail = self._muxer.finish()
        self._chunks.append(tail)
        self._unwritten += len(tail)
        self.size += len(tail)
        self.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.part, self.path)
        _sync_folder(self.path.parent)
        return Written(self.name, self.start, self.end, self.size, self.keyframes)

    def abort(self) -> None:
        """Stop writing (the recorder could not go on): the ``.part`` stays as written, so
        nothing recorded is deleted; the next start's recovery finishes or removes it. What
        was muxed and not written yet is written if the file still takes it."""
        with contextlib.suppress(OSError):
            self.flush()
        self._muxer.close()
        with contextlib.suppress(OSError):
            self._file.close()


@dataclass(frozen=True, slots=True)
class Probe:
    """What demuxing a segment file found: its packets, keyframes and whether the first is
    one, and its duration in seconds."""

    packets: int
    keyframes: int
    starts_with_keyframe: bool
    duration: float


def probe(path: Path) -> Probe | None:
    """Demux ``path`` to the end (no decoding); ``None`` when it holds no video packet or
    cannot be opened. Blocking."""
    first: float | None = None
    last = 0.0
    packets = keyframes = 0
    starts = False
    step = 0.04
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            step = 1 / float(rate) if rate else 0.04
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                if packets == 0:
                    starts = bool(packet.is_keyframe)
                packets += 1
                keyframes += bool(packet.is_keyframe)
                if packet.pts is not None and packet.time_base is not None:
                    t = float(packet.pts * packet.time_base)
                    first = t if first is None else min(first, t)
                    last = max(last, t)
    except (av.FFmpegError, OSError, ValueError):
        if packets == 0:
            return None  # a file cut mid-packet keeps what demuxed before the cut
    if packets == 0:
        return None
    return Probe(packets, keyframes, starts, (last - (first or 0.0)) + step)
