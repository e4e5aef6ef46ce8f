"""Benchmark: display info on stream, the detection boxes drawn per frame, against a plain copy of the picture's planes.

A 1920x1080 and a 640x360 4:2:0 picture (the synthetic source's textured scene) go through
``DisplayInfo.draw`` switched off, switched on with no event active, and on with three events
active (two motion boxes and a smart event's target box with its rule's name); the reference
is the floor of any drawing that never writes the decoder's planes: a copy of Y, U and V. They
alternate frame by frame in one thread with one OpenCV thread (as the runtime runs them);
reported: the median thread CPU per frame of each and the ratio of "three events" to the copy.
No target is set by issue 15; off it should cost nothing measurable.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import cv2
from _common import environment, finish, markdown_table, median, print_header

from camera_runtime.display_info import DISPLAY_INFO_SCHEMA, DisplayInfo
from camera_runtime.model import Event, EventPhase, Frame
from camera_runtime_plugins.sources.synthetic import SyntheticSource

NAME = "display_info"
SIZES = ((1920, 1080), (640, 360))
EVENTS = (
    Event("cam", "motion", 1.0, id="m", data={"boxes": [
        {"x": 0.1, "y": 0.5, "w": 0.06, "h": 0.3}, {"x": 0.6, "y": 0.4, "w": 0.2, "h": 0.15},
    ]}),
    Event("cam", "line_crossing", 1.0, id="c", data={
        "box": {"x": 0.4, "y": 0.3, "w": 0.08, "h": 0.35}, "rule": "Garden gate",
    }),
)  # fmt: skip


def copy_planes(frame: Frame) -> Frame:
    """The reference: a copy of the three planes, the least a drawing on a copy costs."""
    return Frame(frame.y.copy(), frame.u.copy(), frame.v.copy(), frame.pts, 0.0, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="100 frames per size, not 600")
    args = parser.parse_args()
    frames = 100 if args.quick else 600

    env = environment()
    print_header("Display info on stream: boxes drawn per frame", env, args.quick)
    cv2.setNumThreads(1)
    rows: list[list[Any]] = []
    results: dict[str, Any] = {}
    for width, height in SIZES:
        options = SyntheticSource.CONFIG_SCHEMA(
            {"width": width, "height": height, "realtime": False}
        )
        picture = SyntheticSource(options).render(0)
        off = DisplayInfo(DISPLAY_INFO_SCHEMA({}))
        idle = DisplayInfo(DISPLAY_INFO_SCHEMA({"enabled": True}))
        busy = DisplayInfo(DISPLAY_INFO_SCHEMA({"enabled": True}))
        for event in EVENTS:
            busy.observe(EventPhase.NEW, event)
        runs: dict[str, Callable[[Frame], Frame]] = {
            "off": off.draw,
            "on, no event": idle.draw,
            "on, 3 events": busy.draw,
            "copy": copy_planes,
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for index in range(frames):
            frame = Frame(picture.y, picture.u, picture.v, index / 25, 0.0, 0.0)
            for name, run in runs.items():
                start = time.thread_time()
                run(frame)
                times[name].append(time.thread_time() - start)
        ratio = median(
            [a / b for a, b in zip(times["on, 3 events"], times["copy"], strict=True) if b > 0]
        )
        us = {name: median(values) * 1e6 for name, values in times.items()}
        rows.append([f"{width}x{height}", *(us[name] for name in runs), ratio])
        results[f"{width}x{height}"] = {**{f"{k}_us": v for k, v in us.items()}, "ratio": ratio}
    print()
    print(
        markdown_table(
            [
                "picture",
                *(f"{name} us/frame" for name in ["off", "on, no event", "on, 3 events", "copy"]),
                "3 events/copy",
            ],
            rows,
        )
    )
    print(
        f"\nThread CPU time per frame (Y, U and V), one OpenCV thread; medians of {frames} "
        "frames per size, all four alternating frame by frame."
    )
    finish(NAME, args.quick, env, {"frames": frames, "results": results})


if __name__ == "__main__":
    main()
