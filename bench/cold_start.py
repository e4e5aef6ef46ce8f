"""Measure helper: what a picture's detection costs against how long the thread paused before it.

Why: on these machines (two virtual CPUs of a shared host) the detectors cost 1.5-2.6 times
in a loaded process, or in the detection process, what they cost in a benchmark loop that
runs picture after picture (``gil_calls.py --beside 0``, ``smart_cost.py``). The interpreter
lock is not the cause (the detection process has none to share, and costs as much). This
shows what is: a thread that paused, even alone on an idle machine, finds its caches cold,
and the first work after the pause runs several times slower. A camera's detection always
pauses between pictures (100 ms at 10 fps, 200 at 5), so every picture pays it, and a
channel detecting at 10 fps pays it twice as often as one at 5.

Decodes ``--seconds`` of ``busy360`` and ``yard360`` at the detect size (320x180) as
``gil_calls.py`` does, and prints, one OpenCV thread:

- thread CPU per picture of motion (its default options, every 5 fps picture) and of the
  capacity benchmark's smart set (the tracker and five video detectors, every 10 fps
  picture) with a pause of 0, 5, 20 and 100 ms before each picture (``time.sleep``, as a
  detection thread waits for its next picture);
- the same for one ``cv2.GaussianBlur`` of a 320x180 picture (the tracker's first step);
- after a 100 ms pause, the smart set on 4 channels, one picture each, in a row: what the
  first, second, third and fourth picture cost (does detecting several pictures in one
  wake-up win back the pause?).

Not a benchmark of record (no results file): the figures move with the host's other load.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import capacity
import cv2
import numpy as np
from gil_calls import _build, _pictures, _used

from camera_runtime.imaging import one_opencv_thread

PAUSES_MS = (0, 5, 20, 100)


def per_picture(run: Callable[[int], None], count: int, pause_ms: float) -> float:
    """Thread CPU (us) per call of ``run(index)``, each after a pause of ``pause_ms``."""
    spent = 0
    for index in range(count):
        if pause_ms:
            time.sleep(pause_ms / 1000)
        start = time.thread_time_ns()
        run(index)
        spent += time.thread_time_ns() - start
    return spent / count / 1e3


def detectors_run(pictures: list[Any], kinds: dict[str, Any], fps: float) -> Callable[[int], None]:
    """One picture a call, to new detectors of ``kinds`` at ``fps`` (the pictures a channel's
    pacing passes, at consecutive times)."""
    used = _used(pictures, fps)
    height, width = used[0].shape
    detectors = _build(kinds, fps, width, height)

    def run(index: int) -> None:
        picture = used[index % len(used)]
        for detector in detectors:
            detector.process(picture, 1_750_000_000.0 + index / fps)

    return run


def in_a_row(pictures: list[Any], rounds: int) -> list[float]:
    """After each 100 ms pause, one picture for each of 4 channels' smart sets: the thread
    CPU (us) of the first, second, third and fourth, averaged over ``rounds``."""
    channels = [
        detectors_run(pictures, capacity.smart_detectors(), capacity.SMART_FPS) for _ in range(4)
    ]
    spent = np.zeros(len(channels))
    for index in range(rounds):
        time.sleep(0.1)
        for position, run in enumerate(channels):
            start = time.thread_time_ns()
            run(index + 17 * position)  # each channel at its own point of the clip
            spent[position] += time.thread_time_ns() - start
    return [float(v) / rounds / 1e3 for v in spent]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="of each clip (default 12)")
    parser.add_argument("--count", type=int, default=40, help="pictures per figure (default 40)")
    args = parser.parse_args()
    one_opencv_thread()
    clips = {name: _pictures(name, args.seconds) for name in ("busy360", "yard360")}
    blur_input = clips["busy360"][0]

    def blur(_index: int) -> None:
        cv2.GaussianBlur(blur_input, (5, 5), 0)

    columns: dict[str, Callable[[], Callable[[int], None]]] = {"one GaussianBlur": lambda: blur}
    for name, pictures in clips.items():
        columns[f"{name} motion 5 fps"] = lambda p=pictures: detectors_run(p, {"motion": {}}, 5.0)
        columns[f"{name} smart 10 fps"] = lambda p=pictures: detectors_run(
            p, capacity.smart_detectors(), capacity.SMART_FPS
        )
    print("Thread CPU per picture (us) against the pause before it, one OpenCV thread\n")
    print("| pause | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for pause in PAUSES_MS:
        # fresh detectors per figure, warmed by a few pictures without pauses first
        cells = []
        for make in columns.values():
            run = make()
            for index in range(5):
                run(index)
            cells.append(per_picture(lambda i, r=run: r(i + 5), args.count, pause))
        print(f"| {pause} ms | " + " | ".join(f"{c:.0f}" for c in cells) + " |", flush=True)
    for name, pictures in clips.items():
        row = in_a_row(pictures, args.count)
        print(
            f"\n{name}, after a 100 ms pause, 4 channels' smart sets one picture each in a row: "
            + " / ".join(f"{v:.0f}" for v in row)
            + " us"
        )


if __name__ == "__main__":
    main()
