"""Benchmark: CPU per picture of the shared tracker and the six smart-event detectors, at 320x180 and 640x360, against the motion detector in the same run.

Smart scenes with a person crossing (``line_scene``) and with a bag left behind
(``static_scene``), and one quiet picture sequence (no person, noise only), at the 320x180
they are drawn at and scaled up to 640x360 (so the larger size has the same content,
smoother). Per round and size, in alternating order: the motion detector alone (default
options), the tracker with line crossing alone, then the tracker with all six detectors
(line crossing, intrusion, region entrance and exiting, unattended baggage, object removal)
of one rule each,
every one a fresh instance sharing one ``DetectorContext`` as a channel's do. Thread CPU time
per picture, one OpenCV thread, medians over the rounds; the ratio to motion is what carries
over to another machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import cv2
from _common import environment, finish, markdown_table, median, print_header

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camera_runtime.interfaces import Detector, DetectorContext  # noqa: E402
from camera_runtime_plugins.detectors.intrusion import IntrusionDetector  # noqa: E402
from camera_runtime_plugins.detectors.line_crossing import LineCrossingDetector  # noqa: E402
from camera_runtime_plugins.detectors.motion import MotionDetector  # noqa: E402
from camera_runtime_plugins.detectors.region import RegionEntranceDetector, RegionExitingDetector  # noqa: E402
from camera_runtime_plugins.detectors.static_object import (  # noqa: E402
    ObjectRemovalDetector,
    UnattendedBaggageDetector,
)
from tests.plugins.detectors.smart_scenes import FPS, line_scene, render, static_scene  # noqa: E402

NAME = "smart_cost"
SIZES = ((320, 180), (640, 360))
REGION = [[0.3, 0.1], [0.7, 0.1], [0.7, 0.9], [0.3, 0.9]]
OPTIONS: dict[type[Detector], dict[str, Any]] = {
    LineCrossingDetector: {"rules": [{"line": [[0.5, 0.02], [0.5, 0.98]]}]},
    IntrusionDetector: {"rules": [{"region": REGION, "threshold": 2}]},
    RegionEntranceDetector: {"rules": [{"region": REGION}]},
    RegionExitingDetector: {"rules": [{"region": REGION}]},
    UnattendedBaggageDetector: {"rules": [{"region": REGION}]},
    ObjectRemovalDetector: {"rules": [{"region": REGION}]},
}


def _detectors(kind: str, width: int, height: int) -> list[Detector]:
    context = DetectorContext("bench", width, height, FPS)
    if kind == "motion":
        return [MotionDetector(MotionDetector.CONFIG_SCHEMA({}), context)]
    if kind == "line":
        options = OPTIONS[LineCrossingDetector]
        return [LineCrossingDetector(LineCrossingDetector.CONFIG_SCHEMA(options), context)]
    return [cls(cls.CONFIG_SCHEMA(options), context) for cls, options in OPTIONS.items()]


def cpu_per_picture(kind: str, pictures: list[Any], width: int, height: int) -> float:
    detectors = _detectors(kind, width, height)
    start = time.thread_time()
    for index, picture in enumerate(pictures):
        for detector in detectors:
            detector.process(picture, 1_750_000_000.0 + index / FPS)
    return (time.thread_time() - start) / len(pictures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 21")
    args = parser.parse_args()
    rounds = 5 if args.quick else 21
    env = environment()
    print_header("Smart events: cost per picture", env, args.quick)
    cv2.setNumThreads(1)
    import numpy as np

    walking = list(line_scene(1).pictures)
    quiet = list(render(np.random.default_rng(7), "none", lambda t: None, 8.0, None)[0])
    bag = list(static_scene(0, "unattended_baggage").pictures)
    clips = {"person crossing": walking, "bag left": bag, "quiet": quiet}
    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    for width, height in SIZES:
        for name, clip in clips.items():
            pictures = [
                p if p.shape == (height, width) else cv2.resize(p, (width, height)) for p in clip
            ]
            samples: dict[str, list[float]] = {"motion": [], "line": [], "smart": []}
            for r in range(rounds):
                order = ["motion", "line", "smart"]
                for kind in order if r % 2 == 0 else reversed(order):
                    samples[kind].append(cpu_per_picture(kind, pictures, width, height))
            motion, line = median(samples["motion"]), median(samples["line"])
            smart = median(samples["smart"])
            ratio = median(
                [s / m for s, m in zip(samples["smart"], samples["motion"], strict=True)]
            )
            rows.append([f"{width}x{height}", name, motion * 1e6, line * 1e6, smart * 1e6, ratio])
            summary[f"{width}x{height} {name}"] = {
                "motion_us": motion * 1e6,
                "line_us": line * 1e6,
                "smart_us": smart * 1e6,
                "ratio": ratio,
            }
    print()
    print(
        markdown_table(
            ["size", "scene", "motion us/picture", "tracker + line crossing us/picture",
             "tracker + 6 detectors us/picture", "6 detectors/motion"],
            rows,
        )
    )  # fmt: skip
    print(f"\nThread CPU per picture, one OpenCV thread, medians of {rounds} interleaved rounds.")
    finish(NAME, args.quick, env, {"rounds": rounds, "results": summary})


if __name__ == "__main__":
    main()
