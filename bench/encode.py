"""Benchmark: CPU per frame of the ``ffmpeg`` encoder plugin, as a ratio to the ffmpeg CLI encoding the same raw pictures with the same settings.

For 1080p and 720p, measured in one run and interleaved (the machines are noisy):

- the CLI: ``ffmpeg -threads 1 -f rawvideo -pix_fmt yuv420p -s WxH -r 25 -i raw.yuv
  -c:v libx264 <our options> -f null -`` (the reference), its CPU time from ``getrusage``;
- ours: ``FFmpegEncoder.encode(frame)`` for every ``Frame`` (read-only Y/U/V planes, as a
  decoder hands them), ``thread_count=1``, the copy into an ``av.VideoFrame`` included, timed
  with ``time.process_time()``.

Both encode the same pictures: the first frames of the ``busy`` clips, decoded once, held in
memory (ours) and written as raw yuv420p (the CLI), played twice in a row. The CLI gets the
options of the plugin's own resolved settings, so both run libx264 with the same preset,
``tune=zerolatency``, profile, GOP, CRF and VBV. Rows: H.264 at three presets, MJPEG at
medium quality. Target (issue #12): ours <= 1.15x the CLI's CPU per frame.

Also shown: the plane copy alone (``video_frame``), what ``EncodedStream.put`` costs with
no consumer attached, and the latency of a live 1080p25 ``EncodedStream`` with two consumers,
from ``put`` to ``get``.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
from _common import (
    FPS,
    clip,
    environment,
    finish,
    markdown_table,
    median,
    percentile,
    print_header,
    verdict,
    wait_quiet,
)

from camera_runtime.encoding import EncodedStream
from camera_runtime.interfaces import EncoderContext, StageContext
from camera_runtime.model import Frame
from camera_runtime_plugins.encoders.ffmpeg import FFmpegEncoder, video_frame
from camera_runtime_plugins.encoders.options import Settings
from camera_runtime_plugins.stages.osd import OsdStage
from camera_runtime_plugins.stages.privacy_mask import PrivacyMaskStage

NAME = "encode"
TARGET = 1.15
#: (label, options) of the encoder rows.
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("H.264 ultrafast", {"video_encoding": "h264", "preset": "ultrafast"}, False),
    ("H.264 superfast (default)", {"video_encoding": "h264", "preset": "superfast"}, False),
    # What a channel with a privacy mask and an OSD pays to re-encode its stream: the two
    # stages run on every picture before the encoder (the CLI reference encodes only).
    (
        "H.264 superfast + privacy mask + OSD",
        {"video_encoding": "h264", "preset": "superfast"},
        True,
    ),
    ("H.264 veryfast", {"video_encoding": "h264", "preset": "veryfast"}, False),
    ("MJPEG medium", {"video_encoding": "mjpeg"}, False),
]
#: The stages of the staged case: two mask areas (a window, a neighbour's garden) and the OSD.
MASK = {
    "areas": [
        [[0.05, 0.1], [0.3, 0.1], [0.3, 0.45], [0.05, 0.45]],
        [[0.6, 0.5], [0.95, 0.55], [0.9, 0.95], [0.55, 0.9]],
    ]
}
OSD = {"texts": ["Front door", "camera_runtime"], "show_week": True}


def make_stages(width: int, height: int) -> list[Any]:
    """The privacy mask and the OSD, built as a channel builds them."""
    context = StageContext("bench", "Bench", width, height, float(FPS))
    return [
        PrivacyMaskStage(PrivacyMaskStage.CONFIG_SCHEMA(MASK), context),
        OsdStage(OsdStage.CONFIG_SCHEMA(OSD), context),
    ]


#: Times the pictures are played in a row.
LOOPS = 2


@dataclass(frozen=True, slots=True)
class Sample:
    frames: int
    cpu: float
    bytes: int

    @property
    def cpu_ms_per_frame(self) -> float:
        return 1000 * self.cpu / self.frames


def load_frames(path: Path, count: int, raw: Path) -> list[Frame]:
    """The first ``count`` pictures of a clip as ``Frame``s (zero-copy, read-only planes), and
    the same pictures written to ``raw`` as yuv420p for the CLI."""
    out: list[Frame] = []
    with av.open(str(path)) as container, raw.open("wb") as sink:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for picture in container.decode(stream):
            i420 = picture.to_ndarray(format="yuv420p")  # contiguous I420, (H * 3 / 2, W)
            height, width = picture.height, picture.width
            sink.write(i420.tobytes())
            quarter = (height // 2) * (width // 2)
            flat = i420[height:].reshape(-1)
            y = i420[:height]
            u = flat[:quarter].reshape(height // 2, width // 2)
            v = flat[quarter : 2 * quarter].reshape(height // 2, width // 2)
            for plane in (y, u, v):
                plane.flags.writeable = False
            out.append(Frame(y, u, v, 0.0, 0.0, 0.0))
            if len(out) == count:
                break
    return out


def cli_args(settings: Settings) -> list[str]:
    """The CLI options that make the same encoder as ``settings``."""
    args = ["-c:v", settings.encoder, "-g", str(settings.gop), "-bf", "0"]
    if settings.bit_rate:
        args += ["-b:v", str(settings.bit_rate)]
    if settings.qscale:
        args += ["-qmin", str(settings.qscale), "-qmax", str(settings.qscale)]
    for key, value in settings.codec_options.items():
        args += [f"-{key}", value]
    if settings.encoding == "mjpeg":
        args += ["-pix_fmt", "yuvj420p"]
    return args


def _input(raw: Path, width: int, height: int) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-threads", "1",
        "-stream_loop", str(LOOPS - 1),
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-r", str(FPS),
        "-i", str(raw), "-threads", "1",
    ]  # fmt: skip


def _child_cpu(command: list[str]) -> tuple[float, int]:
    """(CPU seconds, bytes written to stdout) of one CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, check=True, capture_output=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), len(out)


def run_cli(raw: Path, width: int, height: int, settings: Settings, frames: int) -> Sample:
    """The CLI encoding the raw file, its stream written to a pipe (to compare sizes)."""
    muxer = "mjpeg" if settings.encoding == "mjpeg" else "h264"
    command = [*_input(raw, width, height), *cli_args(settings), "-f", muxer, "-"]
    cpu, size = _child_cpu(command)
    return Sample(frames=frames, cpu=cpu, bytes=size)


def run_cli_overhead(raw: Path, width: int, height: int, frames: int) -> Sample:
    """What the CLI spends besides encoding: starting, reading the raw file and passing its
    pictures on (``-c:v copy``), which ours does not pay (its frames are in memory)."""
    cpu, _ = _child_cpu([*_input(raw, width, height), "-c:v", "copy", "-f", "null", "-"])
    return Sample(frames=frames, cpu=cpu, bytes=0)


def make_encoder(options: dict[str, Any], width: int, height: int) -> FFmpegEncoder:
    context = EncoderContext("bench", "main", width, height, float(FPS))
    return FFmpegEncoder(FFmpegEncoder.CONFIG_SCHEMA(options), context)


def run_ours(pool: list[Frame], options: dict[str, Any], staged: bool = False) -> Sample:
    width, height = pool[0].width, pool[0].height
    stages = make_stages(width, height) if staged else []
    # Wall-clock times a second apart every 25 pictures: the OSD's clock line changes.
    frames = [
        Frame(f.y, f.u, f.v, t, 1.8e9 + t, 0.0)
        for n in range(LOOPS)
        for i, f in enumerate(pool)
        for t in [(n * len(pool) + i) / FPS]
    ]
    encoder = make_encoder(options, width, height)
    size = 0
    start = time.process_time()
    for frame in frames:
        for stage in stages:
            frame = stage.process(frame)
        for packet in encoder.encode(frame):
            size += len(packet.data)
    for packet in encoder.flush():
        size += len(packet.data)
    cpu = time.process_time() - start
    encoder.close()
    return Sample(frames=len(frames), cpu=cpu, bytes=size)


def copy_cost_us(pool: list[Frame], repeat: int = 3) -> float:
    """Microseconds per picture of the plane copy into a new ``av.VideoFrame``."""
    start = time.perf_counter()
    for _ in range(repeat):
        for frame in pool:
            video_frame(frame)
    return 1e6 * (time.perf_counter() - start) / (repeat * len(pool))


def idle_put_ns(frame: Frame, calls: int = 200_000) -> float:
    """Nanoseconds per ``EncodedStream.put`` with nobody attached."""
    stream = EncodedStream(lambda: make_encoder({}, frame.width, frame.height), "bench")
    put = stream.put
    start = time.perf_counter()
    for _ in range(calls):
        put(frame)
    return 1e9 * (time.perf_counter() - start) / calls


def live_latency(pool: list[Frame], seconds: float) -> dict[str, float]:
    """An ``EncodedStream`` with the default H.264 settings and two queue consumers, fed in
    real time at 25 fps: milliseconds from ``put`` (the frame's ``demux_time``) to each
    consumer's ``get``, and the stream's counters."""
    width, height = pool[0].width, pool[0].height
    stream = EncodedStream(lambda: make_encoder({}, width, height), "bench")
    consumers = [stream.attach(), stream.attach()]
    latencies: list[float] = []

    def read(consumer: Any) -> None:
        while (packet := consumer.get()) is not None:
            latencies.append(time.monotonic() - packet.demux_time)

    readers = [threading.Thread(target=read, args=(c,)) for c in consumers]
    for reader in readers:
        reader.start()
    count = round(seconds * FPS)
    start = time.monotonic()
    for index in range(count):
        due = start + index / FPS
        time.sleep(max(0.0, due - time.monotonic()))
        frame = pool[index % len(pool)]
        stream.put(Frame(frame.y, frame.u, frame.v, index / FPS, time.time(), time.monotonic()))
    time.sleep(0.5)  # the last packets
    stream.close()
    for reader in readers:
        reader.join()
    stream.join()
    return {
        "frames": count,
        "frames_encoded": stream.frames_encoded,
        "frames_skipped": stream.frames_skipped,
        "packets_dropped": sum(c.packets_dropped for c in consumers),
        "p50_ms": 1000 * percentile(latencies, 50),
        "p99_ms": 1000 * percentile(latencies, 99),
        "max_ms": 1000 * max(latencies),
    }


def x264_versions(raw: Path, width: int, height: int, pool: list[Frame]) -> dict[str, str]:
    """The libx264 build of each side (from the SEI it writes into its first picture)."""
    encoder = make_encoder({"video_encoding": "h264"}, width, height)
    ours = b"".join(p.data for p in encoder.encode(pool[0]) + encoder.flush())
    encoder.close()
    command = [
        *_input(raw, width, height)[:4], "-f", "rawvideo", "-pix_fmt", "yuv420p",
        "-s", f"{width}x{height}", "-i", str(raw), "-frames:v", "1",
        "-c:v", "libx264", "-f", "h264", "-",
    ]  # fmt: skip
    cli = subprocess.run(command, capture_output=True, check=True).stdout

    def core(data: bytes) -> str:
        match = re.search(rb"x264 - core (\d+)", data)
        return match.group(1).decode() if match else "?"

    return {"pyav": core(ours), "cli": core(cli)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, 50 pictures")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 3)")
    parser.add_argument("--frames", type=int, default=None, help="pictures (default 125)")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    count = args.frames or (50 if args.quick else 125)

    env = environment()
    print_header("Stream encoding cost against the ffmpeg CLI", env, args.quick)
    clips = {"1080p": clip("busy1080"), "720p": clip("busy720")}
    results: dict[str, Any] = {}
    rows: list[list[Any]] = []
    busy_before: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-encode-") as tmp:
        pools: dict[str, tuple[list[Frame], Path]] = {}
        for label, path in clips.items():
            raw = Path(tmp) / f"{label}.yuv"
            pools[label] = (load_frames(path, count, raw), raw)
        pool1080, raw1080 = pools["1080p"]
        versions = x264_versions(raw1080, pool1080[0].width, pool1080[0].height, pool1080)
        copy_us = copy_cost_us(pool1080)
        put_ns = idle_put_ns(pool1080[0])
        latency = live_latency(pool1080, 4.0 if args.quick else 20.0)
        samples: dict[tuple[str, str], dict[str, list[Sample]]] = {
            (label, case): {"cli": [], "ours": []} for label in clips for case, _, _ in CASES
        }
        overheads: dict[str, list[Sample]] = {label: [] for label in clips}
        for rep in range(repeat):
            busy_before.append(wait_quiet())
            for label, (pool, raw) in pools.items():
                width, height = pool[0].width, pool[0].height
                frames = len(pool) * LOOPS
                overheads[label].append(run_cli_overhead(raw, width, height, frames))
                for case, options, staged in CASES:
                    settings = make_encoder(options, width, height).settings
                    cli = run_cli(raw, width, height, settings, frames)
                    ours = run_ours(pool, options, staged)
                    samples[(label, case)]["cli"].append(cli)
                    samples[(label, case)]["ours"].append(ours)
                    print(
                        f"  [{rep + 1}/{repeat}] {label} {case}: ours "
                        f"{ours.cpu_ms_per_frame:.2f} ms, CLI {cli.cpu_ms_per_frame:.2f} ms",
                        flush=True,
                    )
        for (label, case), by_side in samples.items():
            overhead_ms = median([s.cpu_ms_per_frame for s in overheads[label]])
            cli_ms = median([s.cpu_ms_per_frame for s in by_side["cli"]])
            encode_ms = cli_ms - overhead_ms
            ours_ms = median([s.cpu_ms_per_frame for s in by_side["ours"]])
            ratio = ours_ms / encode_ms
            seconds = by_side["ours"][0].frames / FPS
            kbps = by_side["ours"][0].bytes * 8 / seconds / 1000
            cli_kbps = by_side["cli"][0].bytes * 8 / seconds / 1000
            ok = ratio <= TARGET
            results[f"{label} {case}"] = {
                "cli_ms": cli_ms,
                "cli_overhead_ms": overhead_ms,
                "cli_encode_ms": encode_ms,
                "ours_ms": ours_ms,
                "ratio": ratio,
                "ratio_whole_cli": ours_ms / cli_ms,
                "ours_fps_one_core": 1000 / ours_ms,
                "kbps": kbps,
                "cli_kbps": cli_kbps,
                "pass": ok,
                "runs": {k: [asdict(s) for s in v] for k, v in by_side.items()},
            }
            rows.append(
                [label, case, cli_ms, encode_ms, ours_ms, ratio, ours_ms / cli_ms,
                 round(1000 / ours_ms), f"{kbps:.0f} / {cli_kbps:.0f}", f"<= {TARGET}",
                 verdict(ok)]
            )  # fmt: skip

    print()
    print(
        markdown_table(
            [
                "size",
                "encoder",
                "CLI ms/frame",
                "CLI encoding ms/frame",
                "ours ms/frame",
                "ours / CLI encoding",
                "ours / whole CLI",
                "ours fps (1 core)",
                "kb/s ours / CLI",
                "target",
                "result",
            ],
            rows,
        )
    )
    print(
        f"\nCPU per frame, one thread each side, median of {repeat} interleaved run(s) of "
        f"{count} pictures played {LOOPS}x (testsrc2 + noise, 25 fps); default options "
        "otherwise (VBR medium: CRF 23 capped at 4096 kb/s, GOP 50, profile main). libx264 "
        f'core: PyAV {versions["pyav"]}, CLI {versions["cli"]}. "CLI encoding" is the CLI\'s '
        "CPU minus that of the same command with `-c:v copy -f null` (starting, reading the raw "
        "file: ours has its frames in memory); the target applies to it."
    )
    print(
        f"Plane copy into an av.VideoFrame: {copy_us:.0f} us per 1080p picture (included in "
        f"ours). EncodedStream.put with no consumer: {put_ns:.0f} ns."
    )
    print(
        f"Live, 1080p25 in real time ({latency['frames']} frames), default H.264, two "
        f"consumers: put -> get p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms, "
        f"max {latency['max_ms']:.1f} ms; frames skipped {latency['frames_skipped']}, packets "
        f"dropped {latency['packets_dropped']}."
    )
    print(
        "Before each repetition the run waited (up to 90 s) for the machine to be < 25% busy; "
        f"it was {', '.join(f'{b:.0f}%' for b in busy_before)}."
    )
    finish(
        NAME,
        args.quick,
        env,
        {
            "repeat": repeat,
            "frames": count,
            "loops": LOOPS,
            "x264_core": versions,
            "copy_us_1080p": copy_us,
            "idle_put_ns": put_ns,
            "live_latency": latency,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
