"""Benchmark: ePTZ crop and scale of one 1080p window, cost per frame, against a plain cv2.resize of the same window.

A 1920x1080 4:2:0 picture (the synthetic source's textured scene) goes through the ePTZ step
(``PtzMotion.process``: the clock, the lock, then ``window.crop``, one bilinear ``warpAffine``
per plane, sub-pixel exact) at zooms 2, 4 and 8; the reference is what a plain implementation
would do with the same window: an integer crop and one ``cv2.resize`` (bilinear) per plane to
the same output size. The two alternate frame by frame, in one thread with one OpenCV thread
(as the runtime runs them); reported: the median thread CPU per frame of each and their ratio.
No target is set by issue 13 (it asks for the cost per frame); a ratio near 1 says the
sub-pixel window costs what a resize does.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cv2
from _common import environment, finish, markdown_table, median, print_header

from camera_runtime.model import Frame
from camera_runtime.ptz.motion import PtzMotion
from camera_runtime.ptz.settings import PTZ_SCHEMA
from camera_runtime.ptz.window import Window, crop_box
from camera_runtime_plugins.sources.synthetic import SyntheticSource

NAME = "eptz"
WIDTH, HEIGHT = 1920, 1080
ZOOMS = (2.0, 4.0, 8.0)


def resize_reference(frame: Frame, window: Window) -> tuple[Any, Any, Any]:
    """The same window by an integer crop and ``cv2.resize`` per plane."""
    x, y, w, h = (round(v) for v in crop_box(window, frame.width, frame.height))
    x, y, w, h = x // 2 * 2, y // 2 * 2, w // 2 * 2, h // 2 * 2
    size, half = (frame.width, frame.height), (frame.width // 2, frame.height // 2)
    luma = cv2.resize(frame.y[y : y + h, x : x + w], size, interpolation=cv2.INTER_LINEAR)
    cx, cy, cw, ch = x // 2, y // 2, w // 2, h // 2
    u = cv2.resize(frame.u[cy : cy + ch, cx : cx + cw], half, interpolation=cv2.INTER_LINEAR)
    v = cv2.resize(frame.v[cy : cy + ch, cx : cx + cw], half, interpolation=cv2.INTER_LINEAR)
    return luma, u, v


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="100 frames per zoom, not 600")
    args = parser.parse_args()
    frames = 100 if args.quick else 600

    env = environment()
    print_header("ePTZ crop and scale of a 1080p window, per frame", env, args.quick)
    cv2.setNumThreads(1)
    source = SyntheticSource(
        SyntheticSource.CONFIG_SCHEMA({"width": WIDTH, "height": HEIGHT, "realtime": False})
    )
    picture = source.render(0)
    rows: list[list[Any]] = []
    results: dict[str, Any] = {}
    for zoom in ZOOMS:
        motion = PtzMotion(PTZ_SCHEMA({"enabled": True, "max_zoom": 16}), lambda: None)
        motion.goto(Window(0.43, 0.57, zoom))
        eptz: list[float] = []
        plain: list[float] = []
        for index in range(frames):
            frame = Frame(
                picture.y, picture.u, picture.v, index / 25, 0.0, 0.0, source=picture.source
            )
            start = time.thread_time()
            out = motion.process(frame)
            eptz.append(time.thread_time() - start)
            assert (out.width, out.height) == (WIDTH, HEIGHT)
            start = time.thread_time()
            resize_reference(frame, motion.window)
            plain.append(time.thread_time() - start)
        ratio = median([a / b for a, b in zip(eptz, plain, strict=True) if b > 0])
        e, p = median(eptz) * 1e3, median(plain) * 1e3
        rows.append([f"{zoom:g}x", f"{WIDTH / zoom:.0f}x{HEIGHT / zoom:.0f}", e, p, ratio])
        results[f"{zoom:g}"] = {"eptz_ms": e, "resize_ms": p, "ratio": ratio}
    print()
    print(
        markdown_table(
            ["zoom", "window", "ePTZ ms/frame", "cv2.resize ms/frame", "ePTZ/resize"], rows
        )
    )
    print(
        f"\nThread CPU time per 1920x1080 frame (Y, U and V), one OpenCV thread; medians of "
        f"{frames} frames per zoom, the two alternating frame by frame."
    )
    finish(NAME, args.quick, env, {"frames": frames, "results": results})


if __name__ == "__main__":
    main()
