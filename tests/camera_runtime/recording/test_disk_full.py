"""A real small filesystem (a 2 MB tmpfs mounted by the fixture; skipped where mounting is not
permitted) filled by recording: with overwrite off, recording stops at the free-space floor,
or when the disk is full, with the storage-full report, no crash and every segment written
before kept, playable and indexed; it resumes when there is room. With overwrite on, the
oldest go and recording goes on."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.model import Packet, StreamInfo
from camera_runtime.recording.segments import probe
from camera_runtime.recording.service import Recordings
from camera_runtime.recording.settings import RECORD_SCHEMA

from .helpers import EPOCH, packets_and_info

CLIP_SECONDS = 10


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a 2 MB tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        # Lazy: a failed test may leave the index open; the mount goes when it closes.
        subprocess.run(["umount", "--lazy", str(mount)], check=True, timeout=30)


def looped(clip: Path, times: int) -> tuple[list[Packet], StreamInfo]:
    """``clip``'s packets ``times`` over, one timeline: ``times`` x 10 s from EPOCH."""
    packets, info = packets_and_info(clip)
    span = int(CLIP_SECONDS / info.time_base)
    out = []
    for k in range(times):
        for p in packets:
            assert p.pts is not None and p.dts is not None
            out.append(
                dataclasses.replace(
                    p,
                    pts=p.pts + k * span,
                    dts=p.dts + k * span,
                    wall_time=p.wall_time + k * CLIP_SECONDS,
                )
            )
    return out, info


class Run:
    """Recordings on ``folder`` of one continuous channel, with what they reported."""

    def __init__(self, folder: Path, info: StreamInfo, **limits: object) -> None:
        self.errors: list[str | None] = []
        self.full: list[str | None] = []
        self.fanout = PacketFanout(MAIN)
        self.fanout.info = info
        self.recordings = Recordings(
            folder,
            self.errors.append,
            report_full=self.full.append,
            **limits,  # type: ignore[arg-type]
        )
        self.recordings.open()
        settings = RECORD_SCHEMA({"enabled": True, "segment_length": 1})
        self.recordings.start_channel("cam", settings, {MAIN: self.fanout})
        self.recorder = self.recordings.recorders["cam"]

    def publish(self, packets: list[Packet]) -> None:
        """A GOP at a time, each written before the next (the queue never overflows)."""
        for i, packet in enumerate(packets):
            self.fanout.publish(packet)
            if i % 25 == 24:
                assert self.recorder.drain()
        assert self.recorder.drain()
        assert self.recorder.dropped == 0


def consistent(folder: Path) -> list[tuple[float, float]]:
    """Reopen (recovery included): every file indexed, every row's file there and playing
    from a keyframe; the segments' time ranges."""
    recordings = Recordings(folder)
    recordings.open()
    try:
        segments = recordings.segments("cam")
        files = sorted(
            p.relative_to(recordings.root).as_posix() for p in recordings.root.rglob("*")
        )
        files = [f for f in files if f.endswith(".ts") or f.endswith(".part")]
        assert files == sorted(s.path for s in segments)
        for segment in segments:
            found = probe(recordings.root / segment.path)
            assert found is not None and found.starts_with_keyframe
        return [(s.start, s.end) for s in segments]
    finally:
        recordings.close()


def gapless(ranges: list[tuple[float, float]]) -> bool:
    return all(abs(b[0] - a[1]) < 0.05 for a, b in itertools.pairwise(ranges))


def test_overwrite_off_stops_at_the_free_space_floor(small_disk: Path, h264_clip: Path) -> None:
    packets, info = looped(h264_clip, 6)  # 60 s, about 3 MB: more than the disk
    run = Run(small_disk, info, overwrite=False, min_free_bytes=900 * 1024)
    run.publish(packets[: len(packets) // 2])
    assert run.full and "MB free on the disk" in str(run.full[0])
    assert run.errors == [] and run.recorder.write_errors == 0
    assert run.recorder.full_packets > 0 and not run.recorder.recording
    assert shutil.disk_usage(small_disk).free >= 800 * 1024  # stopped before it filled
    stopped_at = run.recordings.segments("cam")[-1].end
    assert run.recordings.storage()["full"] == run.full[0]
    # Room again (the floor lowered): recording resumes, the event ends.
    run.recordings.min_free_bytes = 100 * 1024
    run.publish(packets[len(packets) // 2 : len(packets) // 2 + 250])
    assert run.full[-1] is None
    assert run.recordings.segments("cam")[-1].end > stopped_at
    run.recordings.close()
    ranges = consistent(small_disk)
    assert ranges[0][0] == EPOCH and gapless([r for r in ranges if r[1] <= stopped_at])
    assert run.recordings.retention.overwritten == 0  # nothing recorded was deleted


def test_overwrite_off_survives_a_full_disk(small_disk: Path, h264_clip: Path) -> None:
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (1200 * 1024))
    packets, info = looped(h264_clip, 6)
    run = Run(small_disk, info, overwrite=False)
    run.publish(packets[: len(packets) // 2])
    assert run.full == ["the disk is full"]
    assert run.errors and "No space left" in str(run.errors[0])
    assert run.recorder.full_packets > 0
    before = run.recordings.segments("cam")
    assert before and before[0].start == EPOCH
    filler.unlink()  # space freed: recording resumes
    run.publish(packets[len(packets) // 2 : len(packets) // 2 + 250])
    assert run.full[-1] is None and run.errors[-1] is None
    assert run.recordings.segments("cam")[-1].end > before[-1].end
    run.recordings.close()
    ranges = consistent(small_disk)
    kept = {(s.start, s.end) for s in before}
    assert kept <= set(ranges)  # nothing recorded before the disk filled was lost
    assert gapless(sorted(kept))


def test_overwrite_on_deletes_the_oldest_and_goes_on(small_disk: Path, h264_clip: Path) -> None:
    (small_disk / "filler").write_bytes(b"\0" * (1200 * 1024))
    packets, info = looped(h264_clip, 6)
    run = Run(small_disk, info)
    run.publish(packets)
    assert run.full == []
    assert run.recordings.retention.overwritten > 0
    # A failed write loses the packets up to the next keyframe (one GOP at most), counted.
    assert 0 < run.recorder.failed_packets <= 25 * run.recorder.write_errors
    run.recordings.close()
    ranges = consistent(small_disk)
    assert ranges[-1][1] >= EPOCH + 59  # recorded to the end, to within one GOP
    assert ranges[0][0] > EPOCH  # the oldest made the room
