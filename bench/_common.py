"""Shared helpers of the benchmarks: test clips made with the ffmpeg CLI, run conditions, tables, results.

The benchmarks are scripts (``python bench/<name>.py``), so this module is imported as
``_common`` from the ``bench/`` folder on ``sys.path``. Nothing here is part of the library.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
#: Generated clips are cached here (gitignored); override with CAMERA_RUNTIME_BENCH_CLIPS.
CLIPS_DIR = Path(os.environ.get("CAMERA_RUNTIME_BENCH_CLIPS", BENCH_DIR / ".clips"))
RESULTS_DIR = BENCH_DIR / "results"
FPS = 25
GOP = 50


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """A test clip: H.264 main profile, GOP 50, 25 fps, no B-frames (like an IP camera's stream).

    ``busy``: testsrc2 (moving shapes, a scrolling gradient, a clock) plus temporal noise over
    the whole picture, so the encoder and decoder have real work in every macroblock, at an IP
    camera's bitrate. ``blink``: a static picture (SMPTE bars) with the same noise and a white
    box that shows for 0.5 s every 2 s: motion events start and end over and over. The box
    appears 0.32 s after each keyframe, not on it: an I-frame takes ~10x longer to decode, and
    motion that always started on one would measure the worst case only. ``yard``: one cycle
    of the synthetic source's yard (``plugins/sources/yard.py``: people and a car crossing, a
    bag left, a crate taken, a lamp switched on; what a home camera sees), rendered here and
    piped to the encoder.
    """

    name: str
    width: int
    height: int
    seconds: int
    bitrate: str
    scene: str

    def filtergraph(self) -> str:
        size = f"size={self.width}x{self.height}:rate={FPS}"
        noise = "noise=alls=6:allf=t"
        if self.scene == "busy":
            return f"testsrc2={size},{noise},format=yuv420p"
        if self.scene == "blink":
            box = (
                "drawbox=x=iw*0.42:y=ih*0.35:w=iw*0.16:h=ih*0.30:color=white:t=fill"
                r":enable='between(mod(t\,2)\,0.32\,0.8)'"
            )
            return f"smptehdbars={size},{noise},{box},format=yuv420p"
        raise ValueError(f"unknown scene {self.scene!r}")

    def command(self, output: Path) -> list[str]:
        # "4M" or "512k": the VBV cap at 1.25x the rate, its buffer two seconds of it.
        unit = self.bitrate[-1]
        rate = int(self.bitrate[:-1])
        if self.scene == "yard":  # raw I420 pictures on standard input (``_render_yard``)
            size = f"{self.width}x{self.height}"
            source = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", size, "-r", str(FPS), "-i", "-"]  # fmt: skip
        else:
            source = ["-f", "lavfi", "-i", self.filtergraph()]
        return [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            *source, "-t", str(self.seconds),
            "-c:v", "libx264", "-profile:v", "main", "-preset", "veryfast",
            "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0", "-bf", "0",
            "-b:v", self.bitrate, "-maxrate", f"{rate * 5 // 4}{unit}", "-bufsize", f"{rate * 2}{unit}",
            "-pix_fmt", "yuv420p", "-an", "-movflags", "+faststart", str(output),
        ]  # fmt: skip

    @property
    def frames(self) -> int:
        return self.seconds * FPS


CLIPS: dict[str, ClipSpec] = {
    spec.name: spec
    for spec in (
        ClipSpec("busy1080", 1920, 1080, 30, "4M", "busy"),
        ClipSpec("busy720", 1280, 720, 30, "2M", "busy"),
        ClipSpec("blink1080", 1920, 1080, 30, "4M", "blink"),
        ClipSpec("busy360", 640, 360, 30, "512k", "busy"),
        ClipSpec("blink360", 640, 360, 30, "512k", "blink"),
        ClipSpec("yard360", 640, 360, 40, "512k", "yard"),
    )
}


def clip(name: str) -> Path:
    """The path of clip ``name``, generated on first use (the name carries the command's hash,
    so changing a spec makes a new file)."""
    spec = CLIPS[name]
    if shutil.which("ffmpeg") is None:
        sys.exit("the benchmarks need the ffmpeg CLI on PATH")
    digest = hashlib.sha1(" ".join(spec.command(Path("x"))).encode()).hexdigest()[:8]
    path = CLIPS_DIR / f"{name}-{digest}.mp4"
    if not path.exists():
        CLIPS_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.mp4")
        print(
            f"generating {path.name} ({spec.seconds} s {spec.width}x{spec.height})...", flush=True
        )
        if spec.scene == "yard":
            _render_yard(spec, tmp)
        else:
            subprocess.run(spec.command(tmp), check=True)
        os.replace(tmp, path)
    return path


def _render_yard(spec: ClipSpec, output: Path) -> None:
    """Encode ``spec.frames`` pictures of the synthetic yard (frame ``i`` at scene time
    ``i / FPS``: a pure function of the index, so the clip is the same on every machine)."""
    from camera_runtime_plugins.sources.synthetic import SyntheticSource

    options = {"width": spec.width, "height": spec.height, "fps": FPS, "scene": "yard"}
    source = SyntheticSource(SyntheticSource.CONFIG_SCHEMA({**options, "realtime": False}))
    with subprocess.Popen(spec.command(output), stdin=subprocess.PIPE) as encoder:
        assert encoder.stdin is not None
        for index in range(spec.frames):
            encoder.stdin.write(source.render(index).source)
        encoder.stdin.close()
    if encoder.returncode != 0:
        raise subprocess.CalledProcessError(encoder.returncode, spec.command(output))


# ------------------------------------------------------------------------ run conditions


def quiet_logs() -> None:
    """Only errors from the runtime (activation and token creation log audit warnings)."""
    import logging

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


def ffmpeg_reference(path: Path) -> tuple[int, float, float]:
    """``ffmpeg -threads 1 -i clip -f null -``: (frames, wall s, CPU s). The machine's decode
    speed right now: the reference every benchmark divides by, since these hosts are noisy."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(path)]
    subprocess.run([*command, "-f", "null", "-"], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    import av

    with av.open(str(path)) as container:
        frames = int(container.streams.video[0].frames)
    return frames, wall, cpu


def wait_quiet(max_busy: float = 25.0, timeout: float = 90.0) -> float:
    """Wait (up to ``timeout`` s) until the machine's CPUs are less than ``max_busy`` % busy
    over one second, so a measurement does not start while someone else's job hogs them.
    Returns the last busy % seen; the caller reports it either way."""
    import psutil

    deadline = time.monotonic() + timeout
    busy = float(psutil.cpu_percent(interval=1.0))
    while busy >= max_busy and time.monotonic() < deadline:
        busy = float(psutil.cpu_percent(interval=1.0))
    return busy


def environment() -> dict[str, Any]:
    """What the numbers depend on; printed and stored with every result. Also quiets the
    runtime's logs down to errors."""
    quiet_logs()
    import av
    import cv2
    import numpy

    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=False)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "av": av.__version__,
        "opencv": cv2.__version__,
        "numpy": numpy.__version__,
        "ffmpeg_cli": ffmpeg.stdout.split("\n", 1)[0].replace("ffmpeg version ", "").split(" ")[0],
        "loadavg_start": [round(x, 2) for x in loadavg()],
    }


def print_header(title: str, env: Mapping[str, Any], quick: bool) -> None:
    load = ", ".join(f"{x:.2f}" for x in env["loadavg_start"])
    print(f"## {title}{' (quick)' if quick else ''}\n")
    print(
        f"{env['date']} | {env['cpus']} CPUs | Python {env['python']} | av {env['av']} | "
        f"OpenCV {env['opencv']} | ffmpeg CLI {env['ffmpeg_cli']} | load average {load}\n",
        flush=True,
    )


# ------------------------------------------------------------------------ output


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def write_results(name: str, data: Mapping[str, Any]) -> Path:
    """Store ``data`` as ``bench/results/<name>.json`` (the quick mode gets its own file)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"\nresults: {path.relative_to(BENCH_DIR.parent)}", flush=True)
    return path


def finish(name: str, quick: bool, env: dict[str, Any], data: dict[str, Any]) -> None:
    env["loadavg_end"] = [round(x, 2) for x in loadavg()]
    print(f"\nload average at the end: {', '.join(f'{x:.2f}' for x in env['loadavg_end'])}")
    write_results(f"{name}-quick" if quick else name, {"environment": env, "quick": quick, **data})


# ------------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def slope_per_minute(times: Sequence[float], values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` over ``times`` (seconds), per minute."""
    if len(times) < 2:
        return float("nan")
    return statistics.linear_regression(times, values).slope * 60.0


# ------------------------------------------------------------------------ runtime config


def file_channel(
    channel_id: str,
    path: Path,
    *,
    realtime: bool,
    loop: bool,
    detect_fps: float | None = None,
    motion: Mapping[str, Any] | None = None,
    source_type: str = "file",
    enabled: bool = True,
    **source: Any,
) -> dict[str, Any]:
    """One channel's config: a file source and the motion detector (default options)."""
    channel: dict[str, Any] = {
        "id": channel_id,
        "enabled": enabled,
        "source": {
            "type": source_type,
            "path": str(path),
            "realtime": realtime,
            "loop": loop,
            **source,
        },
        "detectors": {"motion": dict(motion or {})},
    }
    if detect_fps is not None:
        channel["detect"] = {"fps": detect_fps}
    return channel


def runtime_config(channels: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A runtime config with nothing but the given channels (no zeroconf)."""
    return {"zeroconf": {"enabled": False}, "channels": list(channels)}


class Stopwatch:
    """Wall and process CPU time over a window (CPU of all threads of this process)."""

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()

    def restart(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = time.process_time()

    def read(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds) since the start."""
        return time.perf_counter() - self.wall0, time.process_time() - self.cpu0


# ------------------------------------------------------------------------ the HTTP API

#: The admin password the benchmarks activate their throw-away runtimes with.
BENCH_PASSWORD = "Bench-Pass-2024"


async def api_token(session: Any, base_url: str) -> dict[str, str]:
    """Activate a fresh runtime's API over HTTP and return ``Authorization`` headers with an
    API token (cheap to check per request, unlike a password: scrypt costs ~50 ms)."""
    import aiohttp

    async with session.post(f"{base_url}/api/activate", json={"password": BENCH_PASSWORD}) as r:
        if r.status not in (200, 409):
            raise RuntimeError(f"activation failed: {r.status} {await r.text()}")
    auth = aiohttp.BasicAuth("admin", BENCH_PASSWORD)
    async with session.post(f"{base_url}/api/tokens", json={"name": "bench"}, auth=auth) as r:
        if r.status != 201:
            raise RuntimeError(f"token creation failed: {r.status} {await r.text()}")
        token = (await r.json())["token"]
    return {"Authorization": f"Bearer {token}"}


class LoopLag:
    """Measures how late the event loop runs a 10 ms timer: the loop must never block for
    more than 10 ms (DESIGN 4). ``start()`` from a coroutine; ``lags`` in seconds."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self.recording = False
        self._task: Any = None

    def start(self) -> None:
        import asyncio

        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        import asyncio

        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        import asyncio

        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = time.perf_counter() - start - self.interval
            if self.recording:
                self.lags.append(lag)
