"""Benchmark: CPU cost of MJPEG live view with 0, 1 and 10 viewers of one live 1080p25 channel.

One Runtime and its API server (``ApiServer``) in this process, with one channel: a ``file``
source over the 1080p clip (``loop``, ``realtime``) and the motion detector. The viewers are
aiohttp clients of ``/api/channels/cam/live.mjpeg`` in a spawned process, so their parsing does
not count: the CPU measured (``time.process_time()`` over the window, every thread) is the
runtime's and the server's alone. Phases in order: 0, 1, 10, 0 viewers (repeated ``--repeat``
times); the last 0 checks that encoding stops when the viewers leave.

Targets: 10 viewers <= 1.2x the CPU of 1 viewer (one JPEG encode per frame, shared); with 0
viewers nothing is encoded (``LiveView.frames_encoded`` does not move).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import multiprocessing.connection
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

import psutil
from _common import (
    api_token,
    clip,
    environment,
    file_channel,
    finish,
    loadavg,
    markdown_table,
    median,
    print_header,
    runtime_config,
    verdict,
    wait_quiet,
)

from camera_runtime.api.server import ApiServer
from camera_runtime.host import runtime_from_data
from camera_runtime.runtime import Runtime

NAME = "mjpeg"
TARGET_RATIO = 1.2
BOUNDARY = b"--frame\r\n"


# ------------------------------------------------------------------------ viewer process


async def _view(url: str, headers: dict[str, str], count: int, conn: Any) -> None:
    import aiohttp

    frames = [0] * count
    received = [0] * count
    ready = asyncio.Event()
    connected = 0

    async def one(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal connected
        async with session.get(url, headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"viewer {index}: HTTP {response.status}")
            connected += 1
            if connected == count:
                ready.set()
            async for chunk in response.content.iter_any():
                frames[index] += chunk.count(BOUNDARY)
                received[index] += len(chunk)

    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tasks = [asyncio.create_task(one(i, session)) for i in range(count)]
        await ready.wait()
        conn.send("connected")
        start = time.monotonic()
        await loop.run_in_executor(None, conn.recv)  # "stop"
        elapsed = time.monotonic() - start
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    conn.send({"frames": frames, "bytes": received, "seconds": elapsed})


def viewers(url: str, headers: dict[str, str], count: int, conn: Any) -> None:
    """Entry point of the spawned viewer process."""
    asyncio.run(_view(url, headers, count, conn))


# ------------------------------------------------------------------------ the server side


@dataclass
class Phase:
    viewers: int
    window: float
    cpu_cores: float
    encoded: int
    decoded: int
    viewer_fps: float  # mean frames per second each viewer received (since connecting)
    viewer_min_fps: float
    viewer_cpu_cores: float
    loadavg: float


async def _phase(
    runtime: Runtime, url: str, headers: dict[str, str], count: int, window: float, warmup: float
) -> Phase:
    loop = asyncio.get_running_loop()
    channel = runtime.channels["cam"]
    await loop.run_in_executor(None, wait_quiet)
    proc: Any = None
    conn: multiprocessing.connection.Connection | None = None
    if count:
        ctx = mp.get_context("spawn")
        conn, child = ctx.Pipe()
        proc = ctx.Process(target=viewers, args=(url, headers, count, child), daemon=True)
        proc.start()
        if await loop.run_in_executor(None, conn.recv) != "connected":
            raise RuntimeError("the viewers did not connect")
    await asyncio.sleep(warmup)
    child_cpu0 = psutil.Process(proc.pid).cpu_times() if proc else None
    encoded0, decoded0 = channel.live.frames_encoded, channel.frames
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(window)
    cpu, elapsed = time.process_time() - cpu0, time.monotonic() - t0
    encoded, decoded = channel.live.frames_encoded - encoded0, channel.frames - decoded0
    fps = low = child_cpu = 0.0
    if proc is not None and conn is not None and child_cpu0 is not None:
        child_cpu1 = psutil.Process(proc.pid).cpu_times()
        child_cpu = (
            child_cpu1.user + child_cpu1.system - child_cpu0.user - child_cpu0.system
        ) / elapsed
        conn.send("stop")
        report = await loop.run_in_executor(None, conn.recv)
        rates = [f / report["seconds"] for f in report["frames"]]
        fps, low = sum(rates) / len(rates), min(rates)
        await loop.run_in_executor(None, proc.join, 10)
        # Let the server notice the disconnects and the encoder stop before the next phase.
        for _ in range(50):
            if channel.live.viewers == 0:
                break
            await asyncio.sleep(0.1)
    return Phase(
        viewers=count,
        window=elapsed,
        cpu_cores=cpu / elapsed,
        encoded=encoded,
        decoded=decoded,
        viewer_fps=fps,
        viewer_min_fps=low,
        viewer_cpu_cores=child_cpu,
        loadavg=loadavg()[0],
    )


async def measure(repeat: int, window: float, warmup: float) -> list[Phase]:
    config = runtime_config([file_channel("cam", clip("busy1080"), realtime=True, loop=True)])
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="bench-mjpeg-") as tmp:
        runtime = runtime_from_data(config, data_dir=tmp)
        await runtime.start()
        server = ApiServer(runtime, "127.0.0.1", 0)
        await server.start()
        try:
            import aiohttp

            async with aiohttp.ClientSession() as session:
                headers = await api_token(session, server.url)
            url = f"{server.url}/api/channels/cam/live.mjpeg"
            await asyncio.sleep(warmup)
            for rep in range(repeat):
                for count in (0, 1, 10, 0):
                    phase = await _phase(runtime, url, headers, count, window, warmup)
                    phases.append(phase)
                    print(
                        f"  [{rep + 1}/{repeat}] {count} viewer(s): {100 * phase.cpu_cores:.1f}% "
                        f"of a core, {phase.encoded / phase.window:.1f} JPEG/s",
                        flush=True,
                    )
        finally:
            await server.stop()
            await runtime.stop()
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, 8 s windows")
    parser.add_argument("--repeat", type=int, help="repetitions of 0/1/10/0 (default 2)")
    parser.add_argument("--window", type=float, help="seconds measured per phase (default 20)")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 2)
    window = args.window or (8.0 if args.quick else 20.0)
    warmup = 2.0

    env = environment()
    print_header("MJPEG live view: CPU with 0, 1 and 10 viewers (1080p25)", env, args.quick)
    phases = asyncio.run(measure(repeat, window, warmup))

    by_count: dict[int, list[Phase]] = {0: [], 1: [], 10: []}
    for p in phases:
        by_count[p.viewers].append(p)
    cpu = {n: median([p.cpu_cores for p in ps]) for n, ps in by_count.items()}
    ratio = cpu[10] / cpu[1]
    idle_encoded = sum(p.encoded for p in by_count[0])
    rows: list[list[Any]] = []
    for n, ps in by_count.items():
        rows.append(
            [
                n,
                f"{100 * cpu[n]:.1f}",
                f"{cpu[n] / cpu[1]:.2f}",
                f"{median([p.encoded / p.window for p in ps]):.1f}",
                f"{median([p.decoded / p.window for p in ps]):.1f}",
                f"{median([p.viewer_fps for p in ps]):.1f}" if n else "",
                f"{min(p.viewer_min_fps for p in ps):.1f}" if n else "",
                f"{100 * median([p.viewer_cpu_cores for p in ps]):.0f}" if n else "",
                f"<= {TARGET_RATIO} x 1 viewer"
                if n == 10
                else "no JPEG encoded"
                if n == 0
                else "ref",
                verdict(ratio <= TARGET_RATIO)
                if n == 10
                else verdict(idle_encoded == 0)
                if n == 0
                else "",
            ]
        )
    print()
    print(
        markdown_table(
            [
                "viewers",
                "server CPU % of a core",
                "x 1 viewer",
                "JPEG/s encoded",
                "frames/s decoded",
                "fps per viewer",
                "slowest viewer fps",
                "viewer process CPU %",
                "target",
                "result",
            ],
            rows,
        )
    )
    print(
        f"\nMedian of {repeat} repetition(s) of {window:.0f} s windows; 0 viewers is measured "
        "before the first viewer and after the last one left (JPEGs encoded with 0 viewers: "
        f"{idle_encoded}). Cost of live view: 1 viewer {100 * (cpu[1] - cpu[0]):.1f}% of a core "
        f"over 0 viewers; each extra viewer {100 * (cpu[10] - cpu[1]) / 9:.2f}%."
    )
    finish(
        NAME,
        args.quick,
        env,
        {
            "window": window,
            "repeat": repeat,
            "cpu_cores": cpu,
            "ratio_10_to_1": ratio,
            "idle_encoded": idle_encoded,
            "phases": [asdict(p) for p in phases],
        },
    )


if __name__ == "__main__":
    main()
