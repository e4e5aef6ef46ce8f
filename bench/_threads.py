"""CPU time of this process's threads, from ``/proc/self/task`` (Linux): the benchmarks' split
of where the CPU goes (which thread, user or system time, how many context switches).

Only a helper of the benchmarks (``bench/`` is on ``sys.path`` as their folder).
"""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ThreadTimes:
    """One thread's CPU seconds (user, system) and context switches so far."""

    user: float
    system: float
    switches: int


def thread_times() -> dict[int, ThreadTimes]:
    """Native thread id -> its times, for every thread of this process: a switch is a thread
    hand-off (a wake-up, a wait) or a preemption."""
    times: dict[int, ThreadTimes] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
            status = Path(f"/proc/self/task/{tid}/status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()
        switches = sum(
            int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line
        )
        times[int(tid)] = ThreadTimes(int(fields[11]) / TICKS, int(fields[12]) / TICKS, switches)
    return times


def group_name(name: str) -> str:
    """A thread's name without what differs between its kind's threads: ``channel-cam03-main``
    -> ``channel-*-main``, ``asyncio_2`` -> ``asyncio_N``, a source's file or URL left out."""
    name = re.sub(r"cam\d+", "*", re.sub(r"_\d+$", "_N", name))
    return re.sub(r"^(camera_runtime source \w+) .*$", r"\1", name)


def thread_names() -> dict[int, str]:
    """Native thread id -> name of the Python threads alive now."""
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


def by_group(
    before: dict[int, ThreadTimes],
    after: dict[int, ThreadTimes],
    names: dict[int, str] | None = None,
) -> dict[str, tuple[ThreadTimes, int]]:
    """The times used between two ``thread_times()`` per thread group (``group_name`` of the
    threads' ``names``, by default those alive now), with how many threads each has, busiest
    first."""
    names = thread_names() if names is None else names
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for tid, end in after.items():
        start = before.get(tid, ThreadTimes(0.0, 0.0, 0))
        entry = sums[group_name(names.get(tid, "?"))]
        entry[0] += end.user - start.user
        entry[1] += end.system - start.system
        entry[2] += end.switches - start.switches
        entry[3] += 1
    groups = {name: (ThreadTimes(u, s, int(c)), int(n)) for name, (u, s, c, n) in sums.items()}
    return dict(sorted(groups.items(), key=lambda kv: -(kv[1][0].user + kv[1][0].system)))
