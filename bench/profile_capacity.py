"""Profile helper: where the CPU of ``capacity.py --substream`` goes, per thread and per function.

Runs the capacity benchmark's worker (``capacity._worker_main``: N live-paced channels, each
passing its 1080p main stream to an MPEG-TS reader and decoding its 360p sub-stream with motion
detection) in this process, and prints

- CPU ms per frame (all threads, ``time.process_time``) over the window, user and system;
- CPU per thread group (``/proc/self/task/*/stat``), so the source, decoding, detection and
  event-loop threads can be told apart;
- context switches per frame (voluntary and involuntary, ``/proc/self/task/*/status``), in
  all and per thread group: each is a hand-off between threads or a wait for the GIL or a CPU;
- with ``--switch-interval``: the same under another GIL switch interval;
- the detectors' thread CPU per picture they detect on (``DetectorSet.on_frame``, the
  picture's downscale included): against the same detectors alone in one thread
  (``smart_cost.py``, ``gil_calls.py --beside``) it shows what sharing the process with the
  feeds' threads costs them;
- with ``--yappi``: the functions taking the most CPU across every thread (yappi, CPU clock).

``--record``: every channel also records its main stream by remux (``capacity.py --substream
--record``'s load, ``WorkerSpec.record``): run it with and without at the same N to see what
recording costs per frame, in CPU and in thread hand-offs (context switches).

CPU ms per frame at a fixed N is robust to a shared machine (late % is not): compare two
versions of the code by running this for each, interleaved, at the same N. Not a benchmark of
record (no results file); ``capacity.py`` is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

import _paced
import capacity
import psutil
from _common import FPS, GOP, clip
from _threads import by_group, thread_names, thread_times

from camera_runtime.detection import SNAPSHOT_KEY, DetectorSet
from camera_runtime.model import EventPhase, EventUpdate


class _Conn:
    """What ``_worker_main`` talks to instead of a pipe: the start time, the results, and a
    hook at the start and end of its measured window (the ``reset`` of its statistics)."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}

    def send(self, message: Any) -> None:
        if isinstance(message, dict):
            self.result = message

    def recv(self) -> float:
        return time.monotonic() + 0.2


class _EventCounter:
    """Events by type and phase (new, update, end) and the snapshots they name, in the
    window: the churn a busy scene causes (a bus subscriber, on the event loop)."""

    def __init__(self) -> None:
        self.recording = False
        self.counts: Counter[tuple[str, str]] = Counter()
        self.snapshots = 0

    def __call__(self, update: EventUpdate) -> None:
        if not self.recording:
            return
        self.counts[update.event.type, update.phase.value] += 1
        if update.phase is EventPhase.NEW and SNAPSHOT_KEY in update.event.data:
            self.snapshots += 1


class _GcStats:
    """Collections per generation and the time they took, in the window (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.recording = False
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self.recording:
            generation = info["generation"]
            self.count[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._start


class _DetectCost:
    """Thread CPU of the pictures the detectors ran on, in the window: ``DetectorSet.on_frame``
    wrapped (the frames it lets pass without detecting are not counted)."""

    def __init__(self) -> None:
        self.recording = False
        self.pictures = 0
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._original = DetectorSet.on_frame

    def install(self) -> None:
        original, cost = self._original, self

        def on_frame(detector_set: DetectorSet, frame: Any) -> None:
            before = detector_set.detections
            start = time.thread_time()
            original(detector_set, frame)
            spent = time.thread_time() - start
            if cost.recording and detector_set.detections != before:
                with cost._lock:
                    cost.pictures += 1
                    cost.seconds += spent

        DetectorSet.on_frame = on_frame  # type: ignore[method-assign]

    def uninstall(self) -> None:
        DetectorSet.on_frame = self._original  # type: ignore[method-assign]


def _children_cpu() -> float:
    """CPU seconds (user and system) of this process's children: the detection process."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(child.cpu_times()[:2])
    return total


def run(
    n: int,
    window: float,
    warmup: float,
    profile: bool,
    freeze: bool,
    record: bool = False,
    smart: bool = False,
    sub_clip: str = "busy360",
    detect_process: bool = False,
    bare: bool = False,
) -> None:
    offsets = capacity.start_offsets("random", n, GOP / FPS)
    spec = capacity.WorkerSpec(
        str(clip("busy1080")),
        [(f"cam{i:02d}", offsets[i]) for i in range(n)],
        warmup,
        window,
        substream=str(clip(sub_clip)),
        record=record,
        smart=smart,
        detect_process=detect_process,
        bare=bare,
    )
    events = _EventCounter()
    build = capacity.runtime_from_data

    def runtime_from_data(*args: Any, **kwargs: Any) -> Any:
        runtime = build(*args, **kwargs)
        runtime.subscribe_events(events)
        return runtime

    capacity.runtime_from_data = runtime_from_data
    conn = _Conn()
    gc_stats = _GcStats()
    gc.callbacks.append(gc_stats)
    detect_cost = _DetectCost()
    samples: dict[str, Any] = {}

    def start() -> None:
        if freeze:
            gc.freeze()
        samples["t0"] = thread_times()
        samples["os0"] = os.times()
        samples["children0"] = _children_cpu()
        samples["start"] = time.monotonic()
        gc_stats.recording = True
        events.recording = True
        detect_cost.recording = True
        if profile:
            import yappi

            yappi.clear_stats()
            yappi.start(builtins=True, profile_threads=True)

    def end() -> None:
        samples["t1"] = thread_times()
        samples["os1"] = os.times()
        samples["children1"] = _children_cpu()
        samples["names"] = thread_names()
        samples["elapsed"] = time.monotonic() - samples["start"]
        gc_stats.recording = False
        events.recording = False
        detect_cost.recording = False
        if profile:
            import yappi

            yappi.stop()

    class Probe(_paced.SleepProbe):
        """The worker's probe: it starts and stops recording exactly at the window's ends
        (in the event loop's thread, with every channel running), so the samples are taken
        there."""

        @property
        def recording(self) -> bool:
            return bool(getattr(self, "_recording", False))

        @recording.setter
        def recording(self, value: bool) -> None:
            if value and not self.recording:
                start()
            elif not value and self.recording:
                end()
            self._recording = value

    capacity._paced.SleepProbe = Probe  # type: ignore[misc]
    if profile:
        import yappi

        yappi.set_clock_type("cpu")
    detect_cost.install()
    try:
        asyncio.run(capacity._worker_main(spec, conn))  # type: ignore[arg-type]
    finally:
        capacity._paced.SleepProbe = _paced.SleepProbe  # type: ignore[misc]
        capacity.runtime_from_data = build
        detect_cost.uninstall()

    window = samples["elapsed"]
    frames = n * FPS * window
    os0, os1 = samples["os0"], samples["os1"]
    user, system = os1.user - os0.user, os1.system - os0.system
    done = [x for v in conn.result["done"].values() for x in v]
    late = sum(1 for x in done if x > 1.0 / FPS)
    print(
        f"N={n}{' recording' if record else ''}: {(user + system) / window:.2f} cores, "
        f"{1000 * (user + system) / frames:.3f} CPU ms/frame "
        f"(user {1000 * user / frames:.3f}, system {1000 * system / frames:.3f}); "
        f"late {100 * late / max(1, len(done)):.2f}% of {len(done)}; "
        f"threads {len(samples['t1'])}; load {os.getloadavg()[0]:.2f}; "
        f"switch interval {1000 * sys.getswitchinterval():g} ms"
    )
    children = samples["children1"] - samples["children0"]
    if detect_process:
        print(
            f"  the detection process: {children / window:.2f} cores, "
            f"{1000 * children / frames:.3f} CPU ms/frame; with this process "
            f"{(user + system + children) / window:.2f} cores"
        )
    print(
        "  gc: "
        + ", ".join(
            f"gen{g} {gc_stats.count[g] / window:.1f}/s "
            f"{1000 * gc_stats.seconds[g] / frames:.3f} ms/frame"
            for g in range(3)
        )
        + f" (threshold {gc.get_threshold()}, frozen {gc.get_freeze_count()})"
    )
    probe = sorted(conn.result.get("probe", [])) or [0.0]
    done.sort()
    print(
        f"  lateness p50/p99 {1000 * done[len(done) // 2]:.1f}/{1000 * done[len(done) * 99 // 100]:.1f}"
        f" ms; probe (1 ms sleeps) woke late by p50/p99 {1000 * probe[len(probe) // 2]:.2f}/"
        f"{1000 * probe[len(probe) * 99 // 100]:.2f} ms"
    )
    if events.counts or smart:
        print(
            f"  events per second: {events.snapshots / window:.1f} snapshots; "
            + ", ".join(
                f"{kind} {phase} {count / window:.1f}"
                for (kind, phase), count in sorted(events.counts.items())
            )
        )
    print(
        f"  detection: {detect_cost.pictures / window:.1f} pictures/s, "
        f"{1e6 * detect_cost.seconds / max(1, detect_cost.pictures):.0f} us of thread CPU each "
        f"({1000 * detect_cost.seconds / frames:.3f} ms/frame)"
    )
    groups = by_group(samples["t0"], samples["t1"], samples["names"])
    total_switches = sum(times.switches for times, _count in groups.values())
    print(f"  context switches: {total_switches / frames:.2f} per frame")
    for name, (times, count) in groups.items():
        u, s = times.user, times.system
        if u + s > 0:
            print(
                f"  {name[:40]:40s} x{count:<3d} {1000 * (u + s) / frames:.3f} ms/frame "
                f"(user {1000 * u / frames:.3f}, system {1000 * s / frames:.3f}), "
                f"{times.switches / frames:.2f} switches/frame"
            )
    if profile:
        import yappi

        stats = yappi.get_func_stats()
        stats.sort("tsub")
        print("\nBy own time (tsub), ms per frame:")
        for s in list(stats)[:45]:
            print(
                f"  {1000 * s.tsub / frames:7.4f} own {1000 * s.ttot / frames:7.4f} total "
                f"{s.ncall / frames:6.2f} calls/frame  {s.module.split('/')[-1]}:{s.lineno} "
                f"{s.name}"
            )
        stats.sort("ttot")
        print("\nBy total time (ttot), ms per frame:")
        for s in list(stats)[:45]:
            print(
                f"  {1000 * s.ttot / frames:7.4f} total {s.ncall / frames:6.2f} calls/frame  "
                f"{s.module.split('/')[-1]}:{s.lineno} {s.name}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=16, help="channels (default 16)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after the last start")
    parser.add_argument("--yappi", action="store_true", help="profile every thread with yappi")
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() at the start")
    parser.add_argument(
        "--switch-interval",
        type=float,
        help="the GIL's switch interval in ms (sys.setswitchinterval; Python's default is 5)",
    )
    parser.add_argument(
        "--record", action="store_true", help="every channel also records its main stream"
    )
    parser.add_argument(
        "--smart",
        action="store_true",
        help="the tracker and every video smart detector at 10 fps instead of motion at 5 "
        "(capacity.py --smart's detectors)",
    )
    parser.add_argument(
        "--sub-clip",
        choices=["busy360", "blink360", "yard360"],
        default="busy360",
        help="the sub-stream's clip (as capacity.py's --sub-clip)",
    )
    parser.add_argument(
        "--detect-process",
        action="store_true",
        help="detect.process: the detectors in the detection process (its CPU is shown apart)",
    )
    parser.add_argument("--no-detectors", action="store_true", help="channels without any detector")
    args = parser.parse_args()
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)
    run(
        args.n,
        args.window,
        args.warmup,
        args.yappi,
        args.freeze,
        args.record,
        args.smart,
        args.sub_clip,
        args.detect_process,
        args.no_detectors,
    )


if __name__ == "__main__":
    main()
