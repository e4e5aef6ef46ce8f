"""Benchmark: what relaying a worker-hosted channel's 1080p25 main stream to one client costs,
in the worker and in the runtime's process (``camera_runtime/workers/stream_relay.py``).

A spawned worker (``WorkerProcess``) runs one channel: the 1080p clip as its main stream
(``file``, ``realtime``, ``loop``, passed through) and the 360p clip as its sub-stream
(decoded, motion). This process is the runtime's side: a ``RemoteChannel`` whose main stream is
opened as MPEG-TS (``served.served("main").open("ts")``) and read by one consumer that drops
the bytes (no HTTP: its cost is the same as for a local channel's stream).

Phases, alternated ``--reps`` times, ``--seconds`` each: ``idle`` (the channel runs, nobody
watches) and ``1 client``. Per phase: CPU (``schedstat``: user + system) and context switches of each process
(``/proc``), and in the worker of the threads the first client started (the relay's event loop
thread: its pumps, pickling and pipe writes; the loop's executor thread, idle once attached).
The relay's cost in the worker is those threads'; the rest of the worker's increase is the
muxing (the feed's thread), which a local channel's client costs too. In the runtime's
process the whole increase is the relay's (the link's reader thread, unpickling, the hand-over
to the event loop and the consumer). Per packet = per 1080p frame (25 a second).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

from _common import clip, environment, loadavg, median

from camera_runtime.host import validate
from camera_runtime.registry import build_plugins
from camera_runtime.workers.pool import plugin_modules
from camera_runtime.workers.process import WorkerProcess
from camera_runtime.workers.remote import RemoteChannel

FPS = 25


def threads(pid: int | str) -> dict[int, tuple[float, int]]:
    """tid -> (CPU s, context switches) of every thread of ``pid`` (CPU from ``schedstat``:
    nanoseconds, where ``stat``'s ticks of 10 ms are too coarse for a thread's share)."""
    found: dict[int, tuple[float, int]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            ran = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text()
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except OSError:
            continue
        switches = sum(
            int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line
        )
        found[int(tid)] = (int(ran.split()[0]) / 1e9, switches)
    return found


def delta(
    before: dict[int, tuple[float, int]], after: dict[int, tuple[float, int]], tids: set[int]
) -> tuple[float, int]:
    cpu = sum(after[t][0] - before.get(t, (0.0, 0))[0] for t in tids if t in after)
    switches = sum(after[t][1] - before.get(t, (0.0, 0))[1] for t in tids if t in after)
    return cpu, switches


async def consume(stream: Any, counted: list[int]) -> None:
    async for data in stream.chunks():
        counted[0] += len(data)


async def window(worker_pid: int, seconds: float) -> dict[str, tuple[float, int]]:
    """Each process's CPU s and switches over ``seconds`` (all threads)."""
    w0, r0 = threads(worker_pid), threads("self")
    await asyncio.sleep(seconds)
    w1, r1 = threads(worker_pid), threads("self")
    return {
        "worker": delta(w0, w1, set(w1)),
        "runtime": delta(r0, r1, set(r1)),
        "_w0": w0,  # type: ignore[dict-item]
        "_w1": w1,  # type: ignore[dict-item]
    }


async def run(seconds: float, reps: int) -> None:
    main, sub = clip("busy1080"), clip("busy360")
    data: dict[str, Any] = {
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam",
                "source": {"type": "file", "path": str(main), "realtime": True, "loop": True},
                "substream": {"type": "file", "path": str(sub), "realtime": True, "loop": True},
            }
        ],
    }
    changed: asyncio.Event = asyncio.Event()
    loop = asyncio.get_running_loop()
    worker = WorkerProcess(
        "bench-worker",
        plugin_modules(build_plugins(data)[0]),
        lambda update: None,
        lambda channel_id: loop.call_soon_threadsafe(changed.set),
    )
    await asyncio.to_thread(worker.start)
    assert worker.pid is not None
    channel = await asyncio.to_thread(
        RemoteChannel, validate(data).channels[0], worker, lambda cid: None
    )
    await asyncio.to_thread(channel.start)
    while channel.status()["streams"]["main"]["codec"] != "h264":
        changed.clear()
        await changed.wait()
    await asyncio.sleep(5)  # settle (the sub-stream's decoder, the motion model)
    # the relay's threads in the worker: the ones the first client starts
    before_first = set(threads(worker.pid))
    stream = await channel.served.served("main").open("ts")
    counted = [0]
    reader = asyncio.create_task(consume(stream, counted))
    await asyncio.sleep(2)
    relay_tids = set(threads(worker.pid)) - before_first
    stream.close()
    await reader
    rows: dict[str, list[dict[str, float]]] = {"idle": [], "1 client": []}
    for rep in range(reps):
        for phase in ("idle", "1 client") if rep % 2 == 0 else ("1 client", "idle"):
            stream = None
            if phase == "1 client":
                stream = await channel.served.served("main").open("ts")
                counted = [0]
                reader = asyncio.create_task(consume(stream, counted))
                await asyncio.sleep(1)
            measured = await window(worker.pid, seconds)
            relay = delta(measured["_w0"], measured["_w1"], relay_tids)  # type: ignore[arg-type]
            frames = FPS * seconds
            row = {
                "worker ms/frame": measured["worker"][0] * 1000 / frames,
                "worker switches/frame": measured["worker"][1] / frames,
                "relay thread ms/frame": relay[0] * 1000 / frames,
                "relay thread switches/frame": relay[1] / frames,
                "runtime ms/frame": measured["runtime"][0] * 1000 / frames,
                "runtime switches/frame": measured["runtime"][1] / frames,
            }
            if stream is not None:
                stream.close()
                await reader
                row["Mbit/s"] = counted[0] * 8 / seconds / 1e6
            rows[phase].append(row)
            print(rep, phase, {k: round(v, 3) for k, v in row.items()}, flush=True)
    print("median of", reps, "x", seconds, "s; load", loadavg())
    for key in rows["idle"][0]:
        idle = median([r[key] for r in rows["idle"]])
        one = median([r[key] for r in rows["1 client"]])
        print(f"{key:30s} idle {idle:8.3f}  1 client {one:8.3f}  +{one - idle:8.3f}")
    print("Mbit/s", median([r["Mbit/s"] for r in rows["1 client"]]))
    await asyncio.to_thread(channel.stop)
    await asyncio.to_thread(worker.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(environment())
    asyncio.run(run(args.seconds, args.reps))


if __name__ == "__main__":
    main()
