"""Benchmark: decode + motion detection throughput of the real pipeline, as a ratio to `ffmpeg -threads 1`.

For the 1080p and 720p clips, measured in one run and interleaved (the machines are noisy):

- ``ffmpeg -threads 1 -i clip -f null -``: the reference (the decode floor);
- PyAV decoding with one thread in this process: a second reference;
- PyAV decode + ``downscale_luma`` + the motion detector on every frame, inline in one thread,
  without the runtime: where the time goes, and the runtime's own overhead by difference;
- the runtime: one channel with a ``file`` source (``realtime: false``, ``loop: false``) and the
  motion detector, from ``start()`` to the channel's end (``Channel.join()``), (a) detecting on
  every frame (detect fps 60 > 25) and (b) at the default detect rate (5 fps).

Targets (throughput relative to the CLI): (a) >= 0.80, (b) >= 0.90. CPU time per frame is
reported too: the pipeline may overlap decoding and detection on two threads, so its wall-clock
throughput can exceed one decoder thread's while it spends more CPU per frame.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from _common import (
    Stopwatch,
    clip,
    environment,
    ffmpeg_reference,
    file_channel,
    finish,
    markdown_table,
    median,
    print_header,
    runtime_config,
    verdict,
    wait_quiet,
)

from camera_runtime.detection import detect_size
from camera_runtime.host import runtime_from_data
from camera_runtime.imaging import downscale_luma
from camera_runtime.interfaces import DetectorContext
from camera_runtime_plugins.detectors.motion import MotionDetector

NAME = "decode_detect"
TARGET_EVERY_FRAME = 0.80
TARGET_DEFAULT_RATE = 0.90
#: Detect fps above the clips' 25 fps: every frame is detected on.
EVERY_FRAME_FPS = 60.0


@dataclass(frozen=True, slots=True)
class Sample:
    """One run: frames decoded, wall-clock seconds, CPU seconds (all threads)."""

    frames: int
    wall: float
    cpu: float

    @property
    def fps(self) -> float:
        return self.frames / self.wall

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000 * self.cpu / self.frames


def run_cli(path: Path) -> Sample:
    frames, wall, cpu = ffmpeg_reference(path)
    return Sample(frames=frames, wall=wall, cpu=cpu)


def _decode(path: Path, on_frame: Callable[[Any], None] | None) -> Sample:
    watch = Stopwatch()
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            frames += 1
            if on_frame is not None:
                on_frame(frame)
    wall, cpu = watch.read()
    return Sample(frames=frames, wall=wall, cpu=cpu)


def run_pyav(path: Path) -> Sample:
    return _decode(path, None)


def run_inline(path: Path) -> Sample:
    """Decode, shrink the luma plane and detect motion on every frame in this thread."""
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        width, height = detect_size(ctx.width, ctx.height, 320)
    options = MotionDetector.CONFIG_SCHEMA({})
    detector = MotionDetector(options, DetectorContext("bench", width, height, 25.0))

    def on_frame(frame: Any) -> None:
        plane = frame.planes[0]
        flat = np.frombuffer(plane, dtype=np.uint8, count=plane.line_size * frame.height)
        y = flat.reshape(frame.height, plane.line_size)[:, : frame.width]
        detector.process(downscale_luma(y, width, height), frame.time or 0.0)

    return _decode(path, on_frame)


async def _run_runtime(path: Path, detect_fps: float) -> Sample:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        config = runtime_config(
            [file_channel("cam", path, realtime=False, loop=False, detect_fps=detect_fps)]
        )
        runtime = runtime_from_data(config, data_dir=tmp)
        loop = asyncio.get_running_loop()
        watch = Stopwatch()
        await runtime.start()
        channel = runtime.channels["cam"]
        await loop.run_in_executor(None, channel.join)
        wall, cpu = watch.read()
        sample = Sample(frames=channel.frames, wall=wall, cpu=cpu)
        await runtime.stop()
        if channel.last_error:
            raise RuntimeError(f"the channel failed: {channel.last_error}")
        return sample


def run_every_frame(path: Path) -> Sample:
    return asyncio.run(_run_runtime(path, EVERY_FRAME_FPS))


def run_default_rate(path: Path) -> Sample:
    return asyncio.run(_run_runtime(path, 5.0))


VARIANTS: dict[str, tuple[str, Callable[[Path], Sample]]] = {
    "cli": ("ffmpeg -threads 1 (reference)", run_cli),
    "pyav": ("PyAV decode, 1 thread", run_pyav),
    "inline": ("PyAV + downscale + motion every frame, inline", run_inline),
    "every_frame": ("runtime, motion on every frame (a)", run_every_frame),
    "default_rate": ("runtime, motion at 5 fps (b)", run_default_rate),
}
TARGETS = {"every_frame": TARGET_EVERY_FRAME, "default_rate": TARGET_DEFAULT_RATE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, 720p and 1080p")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 5, quick 1)")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 5)

    env = environment()
    print_header("Decode + motion detection throughput", env, args.quick)
    clips = {"1080p": clip("busy1080"), "720p": clip("busy720")}
    samples: dict[str, dict[str, list[Sample]]] = {c: {v: [] for v in VARIANTS} for c in clips}
    busy_before: list[float] = []
    for rep in range(repeat):
        busy_before.append(wait_quiet())
        for label, path in clips.items():
            for key, (_title, run) in VARIANTS.items():
                sample = run(path)
                samples[label][key].append(sample)
                print(
                    f"  [{rep + 1}/{repeat}] {label} {key}: {sample.fps:.0f} fps",
                    flush=True,
                )

    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    for label, by_variant in samples.items():
        stats: dict[str, dict[str, Any]] = {}
        for key, runs in by_variant.items():
            stats[key] = {
                "fps": median([r.fps for r in runs]),
                "cpu_ms_per_frame": median([r.cpu_ms_per_frame for r in runs]),
                "frames": runs[0].frames,
                "runs": [asdict(r) for r in runs],
            }
        ref, pyav = stats["cli"]["fps"], stats["pyav"]["fps"]
        for key, (title, _run) in VARIANTS.items():
            s = stats[key]
            s["ratio_cli"] = s["fps"] / ref
            s["ratio_pyav"] = s["fps"] / pyav
            target = TARGETS.get(key)
            s["target"] = target
            s["pass"] = None if target is None else bool(s["ratio_cli"] >= target)
            rows.append(
                [
                    label,
                    title,
                    round(s["fps"]),
                    s["cpu_ms_per_frame"],
                    s["ratio_cli"],
                    s["ratio_pyav"],
                    f">= {target:.2f}" if target is not None else "ref" if key == "cli" else "",
                    verdict(s["pass"]) if target is not None else "",
                ]
            )
        summary[label] = stats

    print()
    print(
        markdown_table(
            [
                "clip",
                "variant",
                "fps",
                "CPU ms/frame",
                "x ffmpeg CLI",
                "x PyAV",
                "target (x CLI)",
                "result",
            ],
            rows,
        )
    )
    print(
        f"\nMedian of {repeat} interleaved run(s); clips: 30 s, H.264 main, GOP 50, 25 fps, no "
        "B-frames, busy scene (testsrc2 + noise), 4 Mb/s at 1080p and 2 Mb/s at 720p."
    )
    print(
        "Before each repetition the run waited (up to 90 s) for the machine to be < 25% busy; "
        f"it was {', '.join(f'{b:.0f}%' for b in busy_before)}."
    )
    finish(
        NAME,
        args.quick,
        env,
        {"repeat": repeat, "clips": {k: str(v) for k, v in clips.items()}, "results": summary},
    )


if __name__ == "__main__":
    main()
