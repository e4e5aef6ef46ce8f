"""Benchmark: CPU cost of a passed-through 1080p25 main stream, with 0, 1, 5 and 20 clients.

One Runtime and its API server in this process. The channel has a 1080p25 main stream (a
``file`` source over the 1080p clip, ``loop``, ``realtime``) and a 360p sub-stream (the 360p
clip) that is decoded for live view and motion detection; the main stream is only
demultiplexed and served as MPEG-TS (``/api/channels/cam/streams/main.ts``) to clients in a
spawned process (their CPU does not count; they authenticate with a stream URL). The CPU
measured is this process's over each window (``os.times()``: the runtime and the server, every
thread), split into user and system time, and per thread (``_threads``). System time includes
the loopback: the kernel's work for the receiving side of each write (TCP receive, copy to the
clients' socket buffers) is mostly charged to the sending process here, which a real network
would not do; it is reported as it is, not taken out.

Phases: ``sub only`` (the same channel without a main stream: the baseline), then the channel
with its main stream and 0, 1, 5 and 20 clients, then ``decode 1080p`` (the main stream decoded
instead, as without a sub-stream) for comparison. The cost of passthrough is each phase's CPU
minus the baseline's, per repetition (each repetition runs every phase, in an order rotated
from one repetition to the next, so a slow minute of a shared machine does not land on one
phase every time), then the median over the repetitions. Target (issue #12): under 2 % of a
core per 1080p25 stream with 1, 5 and 20 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import multiprocessing.connection
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

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
from _threads import by_group, thread_names, thread_times

from camera_runtime.api.server import ApiServer
from camera_runtime.host import runtime_from_data

NAME = "passthrough"
TARGET = 0.02  # of a core
CLIENTS = (0, 1, 5, 20)


# ------------------------------------------------------------------------ client process


async def _watch(url: str, count: int, conn: Any) -> None:
    import aiohttp

    received = [0] * count
    ready = asyncio.Event()
    connected = 0

    async def one(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal connected
        async with session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"client {index}: HTTP {response.status}")
            connected += 1
            if connected == count:
                ready.set()
            async for chunk in response.content.iter_any():
                received[index] += len(chunk)

    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tasks = [asyncio.create_task(one(i, session)) for i in range(count)]
        await ready.wait()
        conn.send("connected")
        start = time.monotonic()
        counted = list(received)
        await loop.run_in_executor(None, conn.recv)  # "stop"
        elapsed = time.monotonic() - start
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(
        {"bytes": [r - c for r, c in zip(received, counted, strict=True)], "seconds": elapsed}
    )


def clients(url: str, count: int, conn: Any) -> None:
    """Entry point of the spawned client process."""
    asyncio.run(_watch(url, count, conn))


# ------------------------------------------------------------------------ the server side


@dataclass
class Phase:
    name: str
    clients: int
    repetition: int
    window: float
    cpu_cores: float
    user_cores: float
    system_cores: float
    #: Cores per thread group (``_threads.group_name``): user + system.
    threads: dict[str, float]
    packets: int  # main-stream packets demultiplexed in the window
    decoded: int  # frames decoded in the window (the sub-stream's, or the main's)
    client_kbps: float  # mean per client
    client_min_kbps: float
    loadavg: float


async def _phase(
    name: str,
    channel_data: dict[str, Any],
    count: int,
    window: float,
    repetition: int,
    wait: bool = True,
) -> Phase:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="bench-passthrough-") as tmp:
        runtime = runtime_from_data(runtime_config([channel_data]), data_dir=tmp)
        await runtime.start()
        server = ApiServer(runtime, "127.0.0.1", 0)
        await server.start()
        proc: Any = None
        conn: multiprocessing.connection.Connection | None = None
        try:
            import aiohttp

            channel = runtime.channels["cam"]
            async with aiohttp.ClientSession() as session:
                headers = await api_token(session, server.url)
                while channel.packets["main"].info is None:  # noqa: ASYNC110 - bench only
                    await asyncio.sleep(0.05)
                path = "/api/channels/cam/streams/main/url"
                async with session.post(f"{server.url}{path}", headers=headers) as r:
                    url = (await r.json())["url"]
            if wait:
                await loop.run_in_executor(None, wait_quiet)
            if count:
                ctx = mp.get_context("spawn")
                conn, child = ctx.Pipe()
                proc = ctx.Process(target=clients, args=(url, count, child), daemon=True)
                proc.start()
                if await loop.run_in_executor(None, conn.recv) != "connected":
                    raise RuntimeError("the clients did not connect")
            await asyncio.sleep(2.0)  # warm-up
            packets0, decoded0 = channel.packets["main"].packets, channel.frames
            times0, threads0, t0 = os.times(), thread_times(), time.monotonic()
            await asyncio.sleep(window)
            times1, threads1 = os.times(), thread_times()
            elapsed = time.monotonic() - t0
            groups = by_group(threads0, threads1, thread_names())
            user, system = times1.user - times0.user, times1.system - times0.system
            packets, decoded = channel.packets["main"].packets - packets0, channel.frames - decoded0
            kbps = low = 0.0
            if proc is not None and conn is not None:
                conn.send("stop")
                report = await loop.run_in_executor(None, conn.recv)
                rates = [8 * b / 1000 / report["seconds"] for b in report["bytes"]]
                kbps, low = sum(rates) / len(rates), min(rates)
                await loop.run_in_executor(None, proc.join, 10)
        finally:
            await server.stop()
            await runtime.stop()
    return Phase(
        name,
        count,
        repetition,
        elapsed,
        (user + system) / elapsed,
        user / elapsed,
        system / elapsed,
        {g: round((t.user + t.system) / elapsed, 5) for g, (t, _n) in groups.items()},
        packets,
        decoded,
        kbps,
        low,
        loadavg()[0],
    )


async def measure(repeat: int, window: float, wait: bool) -> list[Phase]:
    """Every phase ``repeat`` times, the order rotated per repetition."""
    main, sub = clip("busy1080"), clip("busy360")
    with_sub = file_channel("cam", main, realtime=True, loop=True)
    with_sub["substream"] = {"type": "file", "path": str(sub), "realtime": True, "loop": True}
    sub_only = file_channel("cam", sub, realtime=True, loop=True)
    decoded = file_channel("cam", main, realtime=True, loop=True)
    plan: list[tuple[str, dict[str, Any], int]] = [
        ("sub only", sub_only, 0),
        *[("main + sub", with_sub, n) for n in CLIENTS],
        ("decode 1080p", decoded, 0),
    ]
    phases: list[Phase] = []
    for rep in range(repeat):
        shift = rep % len(plan)  # rotated: each phase meets another part of a noisy minute
        for name, data, count in plan[shift:] + plan[:shift]:
            phase = await _phase(name, data, count, window, rep, wait)
            phases.append(phase)
            print(
                f"  [{rep + 1}/{repeat}] {name}, {count} client(s): "
                f"{100 * phase.cpu_cores:.1f}% of a core "
                f"(user {100 * phase.user_cores:.1f}, system {100 * phase.system_cores:.1f}), "
                f"load {phase.loadavg:.1f}",
                flush=True,
            )
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, 8 s windows")
    parser.add_argument("--repeat", type=int, help="repetitions (default 3)")
    parser.add_argument("--window", type=float, help="seconds measured per phase (default 20)")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="do not wait for a quiet machine before each phase (a busy shared one: the "
        "differences to each repetition's own baseline still hold)",
    )
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 3)
    window = args.window or (8.0 if args.quick else 20.0)

    env = environment()
    env["waited_for_quiet"] = not args.no_wait
    print_header("Passthrough main stream: CPU with 0, 1, 5 and 20 clients", env, args.quick)
    phases = asyncio.run(measure(repeat, window, not args.no_wait))

    def of(name: str, count: int) -> list[Phase]:
        return [p for p in phases if p.name == name and p.clients == count]

    baselines = {p.repetition: p for p in of("sub only", 0)}

    def over_base(ps: list[Phase], cores: Callable[[Phase], float]) -> float:
        """The median over the repetitions of each one's phase minus its own baseline."""
        return median([cores(p) - cores(baselines[p.repetition]) for p in ps])

    rows: list[list[Any]] = []
    results: dict[str, dict[str, float]] = {}
    for name, count in [
        ("sub only", 0),
        *[("main + sub", n) for n in CLIENTS],
        ("decode 1080p", 0),
    ]:
        ps = of(name, count)
        base = name == "sub only"
        cost = over_base(ps, lambda p: p.cpu_cores)
        user = over_base(ps, lambda p: p.user_cores)
        system = over_base(ps, lambda p: p.system_cores)
        spread = [p.cpu_cores - baselines[p.repetition].cpu_cores for p in ps]
        results[f"{name} {count}"] = {"cores": cost, "user": user, "system": system}
        passthrough = name == "main + sub" and count > 0
        rows.append(
            [
                name,
                count,
                f"{100 * median([p.cpu_cores for p in ps]):.1f}",
                "ref" if base else f"{100 * cost:+.2f}",
                "" if base else f"{100 * user:+.2f}",
                "" if base else f"{100 * system:+.2f}",
                "" if base else " / ".join(f"{100 * x:.1f}" for x in sorted(spread)),
                f"{median([p.packets / p.window for p in ps]):.1f}" if not base else "",
                f"{median([p.decoded / p.window for p in ps]):.1f}",
                f"{median([p.client_kbps for p in ps]):.0f}" if count else "",
                f"{min(p.client_min_kbps for p in ps):.0f}" if count else "",
                f"< {100 * TARGET:.0f}" if passthrough else "",
                verdict(cost < TARGET) if passthrough else "",
            ]
        )
    print()
    print(
        markdown_table(
            [
                "phase",
                "clients",
                "CPU % of a core",
                "over sub only %",
                "of which user %",
                "of which system %",
                "each repetition %",
                "main packets/s",
                "frames/s decoded",
                "kbit/s per client",
                "slowest client kbit/s",
                "target %",
                "result",
            ],
            rows,
        )
    )
    print(
        f"\nMedian over {repeat} repetition(s) of {window:.0f} s windows, each phase a fresh "
        "runtime, of each repetition's phase minus its own 'sub only' phase. 'over sub only': "
        "the CPU the 1080p main stream adds to a channel that decodes its 360p sub-stream "
        "(demux, plus the shared MPEG-TS muxer and the HTTP writes when clients watch); "
        "'decode 1080p' is the same channel decoding its main stream instead. System time "
        "includes the loopback's receive side, charged to this process (a real network "
        "would not)."
    )
    print("\nCPU % of a core per thread group (median over the repetitions):")
    groups = sorted({g for p in phases for g, cores in p.threads.items() if cores >= 0.0005})
    thread_rows = []
    for name, count in [("sub only", 0), *[("main + sub", n) for n in CLIENTS]]:
        ps = of(name, count)
        thread_rows.append(
            [
                f"{name}, {count}",
                *[f"{100 * median([p.threads.get(g, 0.0) for p in ps]):.2f}" for g in groups],
            ]
        )
    print(markdown_table(["phase, clients", *groups], thread_rows))
    finish(
        NAME,
        args.quick,
        env,
        {
            "window": window,
            "repeat": repeat,
            "cost_over_sub_only": results,
            "phases": [asdict(p) for p in phases],
        },
    )


if __name__ == "__main__":
    main()
