"""Benchmark: resident memory of one live 1080p channel over time: bounded, and flat once warm.

One Runtime in this process with one channel: a ``file`` source over the 1080p clip (``loop``,
``realtime``: a live camera) and the motion detector with default options (the busy clip keeps
a motion event going). RSS (psutil) is sampled every ``--interval`` seconds for ``--duration``
seconds; the slope is a least-squares fit over the samples after the warm-up (the first 10% of
the run, at least 10 s). RSS counts the interpreter and its libraries too, so the RSS before
the runtime starts (after the imports) is reported as the baseline.

Targets: max RSS < 150 MB; flat: slope < 1 MB/min after warm-up.

``--record`` (issue 14, "memory flat over a one-hour recording"): the channel a camera with a
sub-stream is: its 1080p25 main stream (``busy1080``) only demultiplexed and recorded
continuously by remux (``record.enabled``, 60 s MPEG-TS segments in the temporary data
folder), its 360p sub-stream (``busy360``) decoded with motion. One hour (``--quick``: 120 s),
RSS every minute (``--quick``: every 10 s). Targets: max RSS < 150 MB; flat: abs(slope) after
the warm-up < 10 MB per hour (a leak of one segment's bookkeeping per minute would show).
Results in ``memory-record.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
from _common import (
    clip,
    environment,
    file_channel,
    finish,
    loadavg,
    markdown_table,
    print_header,
    runtime_config,
    slope_per_minute,
    verdict,
)

from camera_runtime.allocator import fix_mmap_threshold
from camera_runtime.host import runtime_from_data
from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.recorder import Recorder

NAME = "memory"
TARGET_MAX_MB = 150.0
TARGET_SLOPE_MB_MIN = 1.0
#: ``--record``: flat over an hour of recording, as MB per hour.
TARGET_RECORD_SLOPE_MB_HOUR = 10.0
MB = 1024 * 1024


@dataclass
class MemoryResult:
    duration: float
    interval: float
    warmup: float
    baseline_mb: float
    samples: list[tuple[float, float]]  # (seconds since start, RSS MB)
    threads: tuple[int, int]  # at the first and last sample
    gc_objects: tuple[int, int]
    frames: int
    channel_state: str
    cpu_cores: float
    #: ``--record``: segments closed, bytes in them, packets the recorder dropped.
    segments: int = 0
    recorded_bytes: int = 0
    dropped_packets: int = 0

    @property
    def rss(self) -> list[float]:
        return [r for _t, r in self.samples]

    @property
    def warm(self) -> list[tuple[float, float]]:
        return [(t, r) for t, r in self.samples if t >= self.warmup]

    @property
    def slope(self) -> float:
        warm = self.warm
        return slope_per_minute([t for t, _r in warm], [r for _t, r in warm])


def recording_channel() -> dict[str, Any]:
    """A camera with a sub-stream: the 1080p main stream recorded by remux (never decoded),
    the 360p sub-stream decoded with motion."""
    channel = file_channel("cam", clip("busy1080"), realtime=True, loop=True)
    channel["substream"] = {
        "type": "file",
        "path": str(clip("busy360")),
        "realtime": True,
        "loop": True,
    }
    channel["record"] = {"enabled": True, "record_type": "continuous", "stream": "main"}
    return channel


async def measure(duration: float, interval: float, record: bool = False) -> MemoryResult:
    process = psutil.Process()
    gc.collect()
    baseline = process.memory_info().rss / MB
    channel_config = (
        recording_channel()
        if record
        else file_channel("cam", clip("busy1080"), realtime=True, loop=True)
    )
    config = runtime_config([channel_config])
    samples: list[tuple[float, float]] = []
    counts: list[tuple[int, int]] = []  # (threads, gc-tracked objects)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        runtime = runtime_from_data(config, data_dir=tmp)
        t0 = time.monotonic()
        cpu0 = time.process_time()
        await runtime.start()
        channel = runtime.channels["cam"]
        next_report = t0 + max(60.0, interval)
        while (elapsed := time.monotonic() - t0) <= duration:
            samples.append((round(elapsed, 2), process.memory_info().rss / MB))
            counts.append((threading.active_count(), len(gc.get_objects())))
            if time.monotonic() >= next_report:
                print(f"  {elapsed:.0f} s: RSS {samples[-1][1]:.1f} MB", flush=True)
                next_report += max(60.0, interval)
            await asyncio.sleep(max(0.0, t0 + len(samples) * interval - time.monotonic()))
        result = MemoryResult(
            duration=duration,
            interval=interval,
            warmup=max(10.0, duration * 0.1),
            baseline_mb=baseline,
            samples=samples,
            threads=(counts[1][0], counts[-1][0]),
            gc_objects=(counts[1][1], counts[-1][1]),
            frames=channel.frames,
            channel_state=channel.state.value,
            cpu_cores=(time.process_time() - cpu0) / duration,
        )
        recorder = runtime.recordings.recorders.get("cam")
        await runtime.stop()
        if record:  # after the stop: the last segment is closed and in the index
            recorder_stats(Path(tmp), recorder, result)
    return result


def recorder_stats(data_dir: Path, recorder: Recorder | None, result: MemoryResult) -> None:
    """What the recording wrote: segments and their bytes (from the index), packets dropped."""
    if recorder is not None:
        result.dropped_packets = recorder.dropped
    index = RecordingIndex(data_dir / "recordings.sqlite3")
    segments = index.segments("cam")
    index.close()
    result.segments = len(segments)
    result.recorded_bytes = sum(s.size for s in segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="30 s instead of 600 s")
    parser.add_argument(
        "--record",
        action="store_true",
        help="record the 1080p main stream by remux, decode a 360p sub-stream (1 h, every "
        "60 s; quick: 120 s, every 10 s); results in memory-record",
    )
    parser.add_argument("--duration", type=float, help="seconds (default 600, quick 30)")
    parser.add_argument(
        "--interval", type=float, help="seconds between samples (default 5, quick 1)"
    )
    parser.add_argument(
        "--glibc-default",
        action="store_true",
        help="leave glibc's mmap threshold adjusting itself (the standalone CLI fixes it: "
        "camera_runtime/allocator.py)",
    )
    args = parser.parse_args()
    if not args.glibc_default:
        fix_mmap_threshold()  # as `camera-runtime run` and `demo` do
    if args.record:
        duration = args.duration or (120.0 if args.quick else 3600.0)
        interval = args.interval or (10.0 if args.quick else 60.0)
        title = "Memory: one 1080p25 main stream recorded by remux, 360p sub-stream with motion"
    else:
        duration = args.duration or (30.0 if args.quick else 600.0)
        interval = args.interval or (1.0 if args.quick else 5.0)
        title = "Memory: one live 1080p channel with motion detection"

    env = environment()
    print_header(title, env, args.quick)
    print(f"  sampling RSS every {interval:g} s for {duration:g} s...", flush=True)
    r = asyncio.run(measure(duration, interval, args.record))

    rss = r.rss
    warm = [v for _t, v in r.warm]
    max_ok = max(rss) < TARGET_MAX_MB
    if args.record:
        slope = f"{60 * r.slope:+.2f} MB/hour"
        slope_target = f"abs(slope) < {TARGET_RECORD_SLOPE_MB_HOUR:g} MB/hour"
        slope_ok = abs(60 * r.slope) < TARGET_RECORD_SLOPE_MB_HOUR
    else:
        slope = f"{r.slope:+.3f} MB/min"
        slope_target = f"abs(slope) < {TARGET_SLOPE_MB_MIN:g} MB/min"
        slope_ok = abs(r.slope) < TARGET_SLOPE_MB_MIN
    rows: list[list[object]] = [
        ["RSS after imports, before the runtime (baseline)", f"{r.baseline_mb:.1f} MB", "", ""],
        ["RSS at start / min / end", f"{rss[0]:.1f} / {min(rss):.1f} / {rss[-1]:.1f} MB", "", ""],
        ["RSS max", f"{max(rss):.1f} MB", f"< {TARGET_MAX_MB:.0f} MB", verdict(max_ok)],
        [
            f"RSS range after {r.warmup:.0f} s warm-up",
            f"{min(warm):.1f} - {max(warm):.1f} MB",
            "",
            "",
        ],
        ["slope after warm-up", slope, slope_target, verdict(slope_ok)],
        ["threads (second / last sample)", f"{r.threads[0]} / {r.threads[1]}", "", ""],
        [
            "gc-tracked objects (second / last sample)",
            f"{r.gc_objects[0]} / {r.gc_objects[1]}",
            "",
            "",
        ],
        ["frames decoded", r.frames, f"~{25 * duration:.0f}", ""],
        ["CPU cores used", f"{r.cpu_cores:.2f}", "", ""],
    ]
    if args.record:
        rows.append(
            [
                "segments recorded / MB / packets dropped",
                f"{r.segments} / {r.recorded_bytes / 1e6:.0f} / {r.dropped_packets}",
                "0 dropped",
                verdict(r.dropped_packets == 0 and r.segments > 0),
            ]
        )
    print()
    print(markdown_table(["measure", "value", "target", "result"], rows))
    print(f"\nchannel state at the end: {r.channel_state}; load average {loadavg()[0]:.2f}")
    summary = {
        "start_mb": rss[0],
        "min_mb": min(rss),
        "max_mb": max(rss),
        "end_mb": rss[-1],
        "slope_mb_per_min": r.slope,
        "slope_mb_per_hour": 60 * r.slope,
        "pass": {"max": max_ok, "slope": slope_ok},
    }
    name = f"{NAME}-record" if args.record else NAME
    finish(name, args.quick, env, {"summary": summary, "result": asdict(r)})


if __name__ == "__main__":
    main()
