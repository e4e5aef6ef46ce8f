"""Benchmark: resident memory of one live 1080p channel over time: bounded, and flat once warm.

One Runtime in this process with one channel: a ``file`` source over the 1080p clip (``loop``,
``realtime``: a live camera) and the motion detector with default options (the busy clip keeps
a motion event going). RSS (psutil) is sampled every ``--interval`` seconds for ``--duration``
seconds; the slope is a least-squares fit over the samples after the warm-up (the first 10% of
the run, at least 10 s). RSS counts the interpreter and its libraries too, so the RSS before
the runtime starts (after the imports) is reported as the baseline.

Targets: max RSS < 150 MB; flat: slope < 1 MB/min after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import threading
import time
from dataclasses import asdict, dataclass

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

from camera_runtime.host import runtime_from_data

NAME = "memory"
TARGET_MAX_MB = 150.0
TARGET_SLOPE_MB_MIN = 1.0
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


async def measure(duration: float, interval: float) -> MemoryResult:
    process = psutil.Process()
    gc.collect()
    baseline = process.memory_info().rss / MB
    config = runtime_config([file_channel("cam", clip("busy1080"), realtime=True, loop=True)])
    samples: list[tuple[float, float]] = []
    counts: list[tuple[int, int]] = []  # (threads, gc-tracked objects)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        runtime = runtime_from_data(config, data_dir=tmp)
        t0 = time.monotonic()
        cpu0 = time.process_time()
        await runtime.start()
        channel = runtime.channels["cam"]
        next_report = t0 + 60
        while (elapsed := time.monotonic() - t0) <= duration:
            samples.append((round(elapsed, 2), process.memory_info().rss / MB))
            counts.append((threading.active_count(), len(gc.get_objects())))
            if time.monotonic() >= next_report:
                print(f"  {elapsed:.0f} s: RSS {samples[-1][1]:.1f} MB", flush=True)
                next_report += 60
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
        await runtime.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="30 s instead of 600 s")
    parser.add_argument("--duration", type=float, help="seconds (default 600, quick 30)")
    parser.add_argument(
        "--interval", type=float, help="seconds between samples (default 5, quick 1)"
    )
    args = parser.parse_args()
    duration = args.duration or (30.0 if args.quick else 600.0)
    interval = args.interval or (1.0 if args.quick else 5.0)

    env = environment()
    print_header("Memory: one live 1080p channel with motion detection", env, args.quick)
    print(f"  sampling RSS every {interval:g} s for {duration:g} s...", flush=True)
    r = asyncio.run(measure(duration, interval))

    rss = r.rss
    warm = [v for _t, v in r.warm]
    max_ok = max(rss) < TARGET_MAX_MB
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
        [
            "slope after warm-up",
            f"{r.slope:+.3f} MB/min",
            f"abs(slope) < {TARGET_SLOPE_MB_MIN:g} MB/min",
            verdict(slope_ok),
        ],
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
    print()
    print(markdown_table(["measure", "value", "target", "result"], rows))
    print(f"\nchannel state at the end: {r.channel_state}; load average {loadavg()[0]:.2f}")
    summary = {
        "start_mb": rss[0],
        "min_mb": min(rss),
        "max_mb": max(rss),
        "end_mb": rss[-1],
        "slope_mb_per_min": r.slope,
        "pass": {"max": max_ok, "slope": slope_ok},
    }
    finish(NAME, args.quick, env, {"summary": summary, "result": asdict(r)})


if __name__ == "__main__":
    main()
