"""Runs every benchmark one after the other, in quick mode unless ``--full`` (a report, never a test: exits 0).

Quick mode takes about 6 minutes in all on the 2-core machine; ``--full`` about 35 minutes
(the memory benchmark alone runs 10 minutes; leave it out with ``--skip memory``). The
benchmarks run one at a time, as they measure CPU; each prints its table and writes
``bench/results/<name>[-quick].json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BENCHMARKS = [
    "decode_detect",
    "motion_accuracy",
    "motion_cost",
    "smart_accuracy",
    "smart_cost",
    "eptz",
    "display_info",
    "stitch",
    "encode",
    "event_latency",
    "mjpeg",
    "passthrough",
    "record",
    "memory",
    "capacity",
    "mqtt",
    "slow_headers",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--full", action="store_true", help="full runs instead of --quick")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    parser.add_argument("--skip", nargs="+", choices=BENCHMARKS, default=[], help="leave out")
    args = parser.parse_args()
    names = [n for n in (args.only or BENCHMARKS) if n not in args.skip]

    summary = []
    for name in names:
        command = [sys.executable, str(BENCH_DIR / f"{name}.py")]
        if not args.full:
            command.append("--quick")
        print(f"\n$ {' '.join(command[1:])}\n", flush=True)
        start = time.monotonic()
        code = subprocess.run(command, check=False).returncode
        summary.append((name, code, time.monotonic() - start))

    print("\n| benchmark | exit code | seconds |\n|---|---|---|")
    for name, code, seconds in summary:
        print(f"| {name} | {code} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
