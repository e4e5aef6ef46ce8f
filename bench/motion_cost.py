"""Benchmark: CPU per motion detection (320x180, one OpenCV thread), this version against an earlier one, interleaved.

On the pictures of ``bench/motion_accuracy.py``'s scenes (quiet, faint and ordinary walker,
brightness steps, shake; textured day), each version runs a fresh detector over each scene in
turn, the order of the two versions alternating from round to round, and the thread's CPU time
per ``process()`` call is recorded. Reported: medians over the rounds per scene, over all
pictures, and the ratio after/before. The machines are noisy and shared: only the ratio of one
run means anything. Target (issue 17): the ratio over all pictures <= 1.15.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cv2
from _common import environment, finish, markdown_table, median, print_header, verdict
from motion_accuracy import BEFORE_ISSUE_17, load_version

from camera_runtime_plugins.detectors.motion import MotionDetector
from tests.plugins.detectors.motion_scenes import FPS, SceneSpec, build, factory

NAME = "motion_cost"
TARGET = 1.15
SCENES = tuple(
    SceneSpec("textured", "day", kind) for kind in ("quiet", "faint", "ordinary", "steps", "shake")
)


def cpu_per_picture(make: Any, pictures: Any) -> float:
    """Thread CPU seconds per ``process()`` over one pass of a fresh detector."""
    detector = make({})
    start = time.thread_time()
    for index, picture in enumerate(pictures):
        detector.process(picture, 1_750_000_000.0 + index / FPS)
    return (time.thread_time() - start) / len(pictures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default=BEFORE_ISSUE_17, help="git ref of the 'before' detector")
    parser.add_argument("--quick", action="store_true", help="9 rounds instead of 41")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (9 if args.quick else 41)

    env = environment()
    print_header("Motion detection cost per picture", env, args.quick)
    cv2.setNumThreads(1)  # as the runtime runs it
    versions = {
        "before": factory(load_version(args.base).MotionDetector),
        "after": factory(MotionDetector),
    }
    clips = {spec.kind: build(spec).pictures for spec in SCENES}
    samples: dict[str, dict[str, list[float]]] = {v: {k: [] for k in clips} for v in versions}
    totals: dict[str, list[float]] = {v: [] for v in versions}
    for r in range(rounds):
        order = list(versions) if r % 2 == 0 else list(reversed(versions))
        for kind, pictures in clips.items():
            for version in order:
                samples[version][kind].append(cpu_per_picture(versions[version], pictures))
        for version in versions:
            n = sum(len(p) for p in clips.values())
            spent = sum(samples[version][k][-1] * len(p) for k, p in clips.items())
            totals[version].append(spent / n)

    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    for kind in [*clips, "all"]:
        before = median(totals["before"] if kind == "all" else samples["before"][kind])
        after = median(totals["after"] if kind == "all" else samples["after"][kind])
        # the ratio of each round's pair, then its median: load shifts between rounds cancel
        pairs = (
            zip(totals["after"], totals["before"], strict=True)
            if kind == "all"
            else zip(samples["after"][kind], samples["before"][kind], strict=True)
        )
        ratio = median([a / b for a, b in pairs])
        ok = ratio <= TARGET if kind == "all" else None
        rows.append([kind, before * 1e6, after * 1e6, ratio, "" if ok is None else verdict(ok)])
        summary[kind] = {"before_us": before * 1e6, "after_us": after * 1e6, "ratio": ratio}
    print()
    print(
        markdown_table(
            ["scene (textured day)", "before us/picture", "after us/picture", "after/before",
             f"target <= {TARGET}"],
            rows,
        )
    )  # fmt: skip
    print(
        f"\nThread CPU time per process() at 320x180, one OpenCV thread; medians of {rounds} "
        f"interleaved rounds; ratio: median of the per-round ratios. 'before' is {args.base}."
    )
    finish(NAME, args.quick, env, {"base": args.base, "rounds": rounds, "results": summary})


if __name__ == "__main__":
    main()
