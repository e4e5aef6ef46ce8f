"""The synthetic source's yard: a scripted scene a person recognises (sky, a fence, a drive, a lawn with a path; people and a car crossing, a bag left behind, a crate taken away, a lamp switched on), for the demo and the smart-event tests.

One cycle lasts ``PERIOD`` seconds and repeats. ``YARD_TIMELINE`` says what happens when, in
the terms the smart-event detectors report it, so a test can check a detector against it;
the demo's default configuration (``camera_runtime.cli.demo_config``) has rules that watch it.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from camera_runtime.model import Plane

#: Seconds of one cycle of the yard.
PERIOD = 40.0

#: Where things are, as fractions of the picture (y grows downwards).
FENCE = (0.30, 0.40)  # its top rail and its foot
DRIVE = (0.41, 0.55)  # the drive the car takes, along the fence
PATH = (0.70, 0.82)  # the path across the lawn people walk on
LAMP = (0.86, 0.88, 0.12, 0.08)  # the pool of light: centre x, y, radii
LAMP_ON = (32.0, PERIOD)  # switched on at 32 s, off when the cycle starts again
LAMP_GAIN = 50  # grey levels it adds at its centre

PERSON = (0.045, 0.25)
_FEET = PATH[0] + 0.08  # a person's feet on the path: centre y = feet - height / 2
_WALK_Y = _FEET - PERSON[1] / 2
BAG = (0.03, 0.05)
_BAG_Y = _FEET - BAG[1] / 2
_BAG_X = 0.62 - PERSON[0] / 2 - BAG[0] / 2  # set down at the left of someone standing at 0.62
CRATE = (0.035, 0.06)
_CRATE_X, _CRATE_Y = 0.30, _FEET - CRATE[1] / 2
_TAKER_X = _CRATE_X - CRATE[0] / 2 - PERSON[0] / 2  # standing at the crate's left


def _person(colour: list[int], path: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "shape": "person",
        "size": list(PERSON),
        "color": colour,
        "period": PERIOD,
        "path": [{"t": t, "x": x, "y": _WALK_Y} for t, x in path],
    }


#: The cycle's objects, in drawing order (options of the synthetic source's ``objects``).
YARD_OBJECTS: list[dict[str, Any]] = [
    # someone walks along the path from left to right
    _person([40, 50, 110], [(1.0, -0.05), (8.0, 1.05)]),
    # a car drives along the drive from right to left
    {
        "shape": "car",
        "size": [0.2, 0.12],
        "color": [190, 40, 40],
        "period": PERIOD,
        "path": [{"t": 10.0, "x": 1.15, "y": 0.48}, {"t": 13.0, "x": -0.15, "y": 0.48}],
    },
    # someone comes from the right with a bag, sets it down at 20 s and goes back
    _person([90, 40, 90], [(15.0, 1.05), (19.0, 0.62), (20.0, 0.62), (24.0, 1.05)]),
    {
        "shape": "box",
        "size": list(BAG),
        "color": [25, 25, 30],
        "period": PERIOD,
        "appear": 15.0,
        "disappear": PERIOD,
        "path": [
            {"t": 15.0, "x": 1.05 - PERSON[0] / 2 - BAG[0] / 2, "y": _BAG_Y},
            {"t": 19.0, "x": _BAG_X, "y": _BAG_Y},
            {"t": PERIOD, "x": _BAG_X, "y": _BAG_Y},
        ],
    },
    # a crate stands on the path until someone from the left takes it away at 31 s
    _person([30, 80, 60], [(26.0, -0.05), (30.0, _TAKER_X), (31.0, _TAKER_X), (35.0, -0.05)]),
    {
        "shape": "box",
        "size": list(CRATE),
        "color": [120, 70, 30],
        "period": PERIOD,
        "appear": 0.0,
        "disappear": 35.0,
        "path": [
            {"t": 0.0, "x": _CRATE_X, "y": _CRATE_Y},
            {"t": 31.0, "x": _CRATE_X, "y": _CRATE_Y},
            {"t": 35.0, "x": -0.05 + PERSON[0] / 2 + CRATE[0] / 2, "y": _CRATE_Y},
        ],
    },
]

#: What happens in each cycle, as the smart-event rules of the demo's default configuration
#: (``camera_runtime.cli.demo_config``) report it: (event type, when it is due in seconds of
#: the cycle, its direction or ""), from the drawn boxes. The walker crosses the line
#: ``[[0.5, 0.95], [0.5, 0.58]]`` (its left is side A) at 4.5 s, from A to B; the bag's
#: carrier has half its box in the lawn region (x 0.55 to 0.8) from 17.3 s, an intrusion with
#: its 3 s threshold at 20.3 s; the bag is left at 20 s (threshold 5 s); the crate is off its
#: spot at 31.45 s (threshold 3 s). The walker's 1.7 s in the lawn stays under the threshold.
YARD_TIMELINE: tuple[tuple[str, float, str], ...] = (
    ("line_crossing", 4.5, "A->B"),
    ("intrusion", 20.3, ""),
    ("unattended_baggage", 25.0, ""),
    ("object_removal", 34.45, ""),
)


def render_background(width: int, height: int, seed: int) -> tuple[Any, Any, Any]:
    """The yard's still picture as float Y, U and V planes (U and V at half size)."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    luma = np.empty((height, width), np.float32)
    cb = np.empty((height // 2, width // 2), np.float32)
    cr = np.empty_like(cb)

    def band(top: float, bottom: float) -> slice:
        return slice(round(top * height), round(bottom * height))

    def half(top: float, bottom: float) -> slice:
        return slice(round(top * height / 2), round(bottom * height / 2))

    # sky, lighter towards the horizon
    luma[:] = 150.0 + 50.0 * rows
    cb[:], cr[:] = 150.0, 118.0
    # the lawn below the fence: green, mottled
    grass = band(FENCE[1], 1.0)
    luma[grass] = 105.0
    cb[half(FENCE[1], 1.0)], cr[half(FENCE[1], 1.0)] = 112.0, 112.0
    cell = max(4, width // 40)
    low = rng.normal(0.0, 1.0, (height // cell + 2, width // cell + 2)).astype(np.float32)
    mottle = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    luma[grass] += 12.0 * mottle[grass]
    # the drive (grey) and the path (sand)
    luma[band(*DRIVE)], luma[band(*PATH)] = 95.0, 165.0
    cb[half(*DRIVE)], cr[half(*DRIVE)] = 128.0, 128.0
    cb[half(*PATH)], cr[half(*PATH)] = 110.0, 140.0
    luma[band(*PATH)] += 6.0 * mottle[band(*PATH)]
    # the fence: two rails and posts, dark wood
    for rail in (FENCE[0], FENCE[0] + 0.06):
        luma[band(rail, rail + 0.012)] = 70.0
    post = max(2, round(0.012 * width))
    for x in np.arange(0.02, 1.0, 0.08):
        luma[band(FENCE[0] - 0.02, FENCE[1]), round(x * width) : round(x * width) + post] = 70.0
    luma += rng.normal(0.0, 3.0, (height, width)).astype(np.float32)
    return luma, cb, cr


def lamp_light(width: int, height: int) -> Plane:
    """What the lamp adds to the luma when it is on: a soft pool of light on the lawn."""
    x, y, rx, ry = LAMP
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    d2 = ((xx / width - x) / rx) ** 2 + ((yy / height - y) / ry) ** 2
    pool: Plane = np.clip(np.rint(LAMP_GAIN * np.clip(1.0 - d2, 0.0, 1.0)), 0, 255).astype(np.uint8)
    return pool


def lamp_on(t: float) -> bool:
    """Whether the lamp is on at scene time ``t``."""
    return LAMP_ON[0] <= t % PERIOD < LAMP_ON[1]
