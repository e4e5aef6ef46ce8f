"""Detection follows what users see: areas drawn on a panorama or an ePTZ channel (in
that channel's own picture) catch an object exactly where the wide scene puts it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventUpdate
from camera_runtime.ptz.window import crop_box, extent_for, fit_area
from camera_runtime.stitching import calibration
from camera_runtime_plugins.sources.synthetic import SyntheticSource
from camera_runtime_plugins.stitching.homography import HomographyStitcher

from .test_stitching import HEIGHT, sensor

#: A box walking through the scene's right half, in scene coordinates (0..1 of the wide scene).
WALKER = {
    "size": [0.03, 0.3],
    "color": [250, 250, 250],
    "path": [{"t": 1.0, "x": 0.56, "y": 0.5}, {"t": 6.0, "x": 0.66, "y": 0.5}],
    "period": 600.0,
}
WINDOW = {"x": 0.45, "y": 0.1, "w": 0.3, "h": 0.8}
#: The ePTZ channel's picture size: its window starts as the largest of this shape in WINDOW.
EPTZ_SIZE = (640, 360)


def scene_sensors() -> list[dict[str, Any]]:
    return [{**sensor(i), "objects": [WALKER]} for i in range(4)]


def calibrate_ahead(data_dir: Path, sensors: list[dict[str, Any]]) -> np.ndarray:
    """Calibrate as the runtime would (and save it there); returns panorama px -> scene px."""
    views = [
        SyntheticSource(
            SyntheticSource.CONFIG_SCHEMA(
                {**{k: v for k, v in s.items() if k != "type"}, "realtime": False}
            )
        )
        for s in sensors
    ]
    frames = [view.render(0) for view in views]  # the walker is not out yet at t = 0
    stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA({}))
    saved = stitcher.calibrate(frames)
    calibration.save(data_dir, "yard", saved, stitcher.stitch(frames))
    ref = len(frames) // 2
    return views[ref].views.homography @ np.linalg.inv(np.array(saved["matrices"][ref]))  # type: ignore[no-any-return]


def watching(width: int, walk: Any, elsewhere: Any) -> dict[str, Any]:
    """A channel's motion detection with two areas: on the walker's path and away from it."""
    areas = [{"name": "walk", "polygon": walk}, {"name": "elsewhere", "polygon": elsewhere}]
    return {
        "detect": {"width": width, "fps": 10},
        "detectors": {"motion": {"sensitivity": 80, "hold_time": 1.0, "areas": areas}},
    }


def polygon(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


async def test_areas_on_panorama_and_view_channels_catch_the_object_where_the_scene_has_it(
    tmp_path: Path,
) -> None:
    sensors = scene_sensors()
    to_scene = calibrate_ahead(tmp_path, sensors)
    scene_w = SyntheticSource(
        SyntheticSource.CONFIG_SCHEMA({k: v for k, v in sensors[0].items() if k != "type"})
    ).views
    assert scene_w is not None
    width = scene_w.scene_width
    # The walker's path, scene px -> panorama px.
    path = np.array([[[p["x"] * width, p["y"] * HEIGHT]] for p in WALKER["path"]], np.float32)
    on_panorama = cv2.perspectiveTransform(path, np.linalg.inv(to_scene)).reshape(-1, 2)
    saved = calibration.load(tmp_path, "yard")
    assert saved is not None
    pano_w, pano_h = saved["canvas"]
    (px0, py0), (px1, _py1) = on_panorama
    half_w = 0.03 * width / 2 + 8
    walk = polygon(
        (px0 - half_w) / pano_w,
        (py0 - 0.18 * HEIGHT) / pano_h,
        (px1 + half_w) / pano_w,
        (py0 + 0.18 * HEIGHT) / pano_h,
    )
    # The same path in the ePTZ channel's own picture (its window of the panorama).
    extent = extent_for(EPTZ_SIZE, pano_w, pano_h)
    vx, vy, vw, vh = crop_box(fit_area(WINDOW, extent, 8.0), pano_w, pano_h, extent)
    view_walk = polygon(
        (px0 - half_w - vx) / vw,
        (py0 - 0.18 * HEIGHT - vy) / vh,
        (px1 + half_w - vx) / vw,
        (py0 + 0.18 * HEIGHT - vy) / vh,
    )
    assert all(0 < c < 1 for point in view_walk for c in point)
    data = {
        "stitching": [
            {
                "id": "yard",
                "sensors": sensors,
                "output_mode": "panorama_eptz",
                "eptz_channels": 1,
                "eptz_windows": [WINDOW],
                "eptz_size": list(EPTZ_SIZE),
                "channels": {
                    "yard": watching(640, walk, polygon(0.02, 0.1, 0.3, 0.9)),
                    "yard-eptz1": watching(320, view_walk, polygon(0.0, 0.0, 1.0, 0.1)),
                },
            }
        ]
    }
    seen: list[EventUpdate] = []
    both = asyncio.Event()

    def record(update: EventUpdate) -> None:
        if update.event.type == "motion":
            seen.append(update)
            if {u.event.channel for u in seen} >= {"yard", "yard-eptz1"}:
                both.set()

    runtime = runtime_from_data(data, data_dir=tmp_path)
    runtime.bus.subscribe(record)
    await runtime.start()
    try:
        async with asyncio.timeout(30):
            await both.wait()
    finally:
        await runtime.stop()
    for channel in ("yard", "yard-eptz1"):
        areas = {a for u in seen if u.event.channel == channel for a in u.event.data["areas"]}
        assert areas == {"walk"}, (channel, areas)
    # The boxes found on the view sit on the walker's path, in the view's own coordinates.
    boxes = [
        b for u in seen if u.event.channel == "yard-eptz1" for b in u.event.data.get("boxes", [])
    ]
    assert boxes
    for box in boxes:
        cy = box["y"] + box["h"] / 2
        assert abs(cy - (py0 - vy) / vh) < 0.1
        cx = box["x"] + box["w"] / 2
        assert (px0 - half_w - vx) / vw - 0.05 < cx < (px1 + half_w - vx) / vw + 0.05
