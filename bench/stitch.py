"""Stitching cost: 4 x 1080p sensors into one panorama with fixed maps and feathered seams.

Compared in the same run, the two called in turn, with a plain ``cv2.remap`` of the same canvas
(the same Y, U and V planes, one table, no seams): the cost of fetching every pixel through
tables. Target: at least 0.8x of it and at least 25 fps, on one core. Also the wall time of calibrating the 4 views
(features, matching, dense refinement, tables), as ``camera-runtime calibrate`` does it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment, finish, markdown_table, median, print_header, verdict, wait_quiet

from camera_runtime_plugins.sources.synthetic import SyntheticSource
from camera_runtime_plugins.stitching.homography import HomographyStitcher


def views(width: int, height: int, count: int) -> list[SyntheticSource]:
    return [
        SyntheticSource(
            SyntheticSource.CONFIG_SCHEMA(
                {
                    "width": width,
                    "height": height,
                    "background": "detail",
                    "realtime": False,
                    "views": {"count": count, "index": i},
                }
            )
        )
        for i in range(count)
    ]


def canvas_tables(plan: Any) -> tuple[Any, Any]:
    """The luma's tables over the whole canvas, put together from the composer's plan: its
    remapped pieces, and the rectangles each sensor fills by itself (copied or warped there;
    the seams' pixels point at their blend below the sensors, off the BGR alternative's
    stack: black there)."""
    map1 = np.zeros((plan.height, plan.width, 2), np.int16)
    map2 = np.zeros((plan.height, plan.width), np.uint16)
    for piece in plan.pieces:
        map1[piece.y : piece.y + piece.h, piece.x : piece.x + piece.w] = piece.maps[0]
        map2[piece.y : piece.y + piece.h, piece.x : piece.x + piece.w] = piece.maps[1]
    for own in plan.owns:
        xs, ys = np.meshgrid(np.arange(own.w, dtype=np.float32), np.arange(own.h, dtype=np.float32))
        shift = np.array([[1, 0, own.sx], [0, 1, own.sy], [0, 0, 1.0]])
        to_sensor = shift if own.inverse is None else own.inverse
        grid = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2)
        src = cv2.perspectiveTransform(grid, to_sensor).reshape(own.h, own.w, 2)
        maps = cv2.convertMaps(src[..., 0], src[..., 1] + own.top, cv2.CV_16SC2)
        map1[own.y : own.y + own.h, own.x : own.x + own.w] = maps[0]
        map2[own.y : own.y + own.h, own.x : own.x + own.w] = maps[1]
    return map1, map2


def alternating(fns: dict[str, Any], repeats: int, every: dict[str, int]) -> dict[str, float]:
    """Median wall time of each of ``fns``, called in turn ``repeats`` times (each of
    ``every`` only every n-th turn), so that a changing load falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for turn in range(repeats):
        for name, fn in fns.items():
            if turn % every.get(name, 1):
                continue
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core, as a channel's worker runs it
    env = environment()
    print_header("Stitching 4 x 1080p", env, args.quick)
    repeats = 20 if args.quick else 100
    sensors = views(1920, 1080, 4)
    frames = [s.render(10) for s in sensors]
    stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA({}))
    wait_quiet()
    start = time.perf_counter()
    stitcher.calibrate(frames)
    calibration_s = time.perf_counter() - start
    width, height = stitcher.output_size()
    # The reference: one remap of the same canvas's planes from one picture, no seams.
    src = [np.ascontiguousarray(p) for p in (frames[0].y, frames[0].u, frames[0].v)]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    full = cv2.convertMaps(xs * 0.32, ys, cv2.CV_16SC2)
    hx, hy = np.meshgrid(
        np.arange(width // 2, dtype=np.float32), np.arange(height // 2, dtype=np.float32)
    )
    half = cv2.convertMaps(hx * 0.32, hy, cv2.CV_16SC2)

    def plain() -> None:
        for plane, maps in zip(src, (full, half, half), strict=True):
            cv2.remap(plane, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    luma_maps = canvas_tables(stitcher._ready()._luma)  # the same tables, for the BGR alternative

    def bgr() -> None:
        # The alternative the notes weigh: convert each sensor to BGR, one remap of the
        # stacked pictures (seams left out: a lower bound), convert the canvas back.
        stack = np.vstack([cv2.cvtColor(f.i420(), cv2.COLOR_YUV2BGR_I420) for f in frames])
        out = cv2.remap(stack, luma_maps[0], luma_maps[1], cv2.INTER_LINEAR)
        cv2.cvtColor(out, cv2.COLOR_BGR2YUV_I420)

    rounds = []
    for _ in range(2):
        wait_quiet()
        rounds.append(
            alternating(
                {"plain": plain, "stitch": lambda: stitcher.stitch(frames), "bgr": bgr},
                repeats,
                {"bgr": 4},
            )
        )
    plain_s = median([r["plain"] for r in rounds])
    stitch_s = median([r["stitch"] for r in rounds])
    bgr_s = median([r["bgr"] for r in rounds])
    ratio = plain_s / stitch_s
    rows = [
        ("plain cv2.remap of the canvas (reference)", f"{width}x{height}", 1 / plain_s, "-", "-"),
        (
            "stitch: 4 sensors, fixed maps, feathered seams",
            f"{width}x{height}",
            1 / stitch_s,
            f"{ratio:.2f}x",
            verdict(ratio >= 0.8 and 1 / stitch_s >= 25),
        ),
        (
            "BGR instead: convert, one remap, convert back (no seams)",
            f"{width}x{height}",
            1 / bgr_s,
            f"{plain_s / bgr_s:.2f}x",
            "-",
        ),
        ("calibration of 4 views (wall time, s)", "-", calibration_s, "-", "-"),
    ]
    print(
        markdown_table(
            ["what", "canvas", "fps / s", "vs reference", "target >= 0.8x and 25 fps"], rows
        )
    )
    finish(
        "stitch",
        args.quick,
        env,
        {
            "canvas": [width, height],
            "plain_fps": 1 / plain_s,
            "stitch_fps": 1 / stitch_s,
            "bgr_fps": 1 / bgr_s,
            "ratio": ratio,
            "calibration_s": calibration_s,
        },
    )


if __name__ == "__main__":
    main()
