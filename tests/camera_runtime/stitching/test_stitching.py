"""Stitching on synthetic overlapping views cut from one wide scene: the panorama against the
ground truth (PSNR), the output modes' channels, the mode rules and bad input, and a
calibration that survives a restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from camera_runtime.config import validate_config
from camera_runtime.exceptions import CalibrationError, ConfigError
from camera_runtime.host import SECTIONS, runtime_from_data
from camera_runtime.registry import PluginRegistry, collect_registry, create_plugin_manager
from camera_runtime.stitching import calibration
from camera_runtime_plugins.sources.synthetic import SyntheticSource
from camera_runtime_plugins.stitching.homography import HomographyStitcher

#: PSNR the stitched luma must reach against the ground-truth scene (measured: about 44 dB
#: in the overlaps and 41 dB elsewhere at 640x360 per sensor).
MIN_PSNR_DB = 35.0
WIDTH, HEIGHT = 640, 360
AREA = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4]]


def sensor(index: int, count: int = 4, **extra: Any) -> dict[str, Any]:
    return {
        "type": "synthetic",
        "width": WIDTH,
        "height": HEIGHT,
        "fps": 10.0,
        "background": "detail",
        "noise": 0.0,
        "objects": [],
        "views": {"count": count, "index": index, **extra},
    }


def device(mode: str = "panorama", **extra: Any) -> dict[str, Any]:
    return {"id": "yard", "sensors": [sensor(i) for i in range(4)], "output_mode": mode, **extra}


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return collect_registry(create_plugin_manager())


def sources(count: int = 4, **extra: Any) -> list[SyntheticSource]:
    options = [sensor(i, count, **extra) for i in range(count)]
    return [
        SyntheticSource(
            SyntheticSource.CONFIG_SCHEMA(
                {**{k: v for k, v in o.items() if k != "type"}, "realtime": False}
            )
        )
        for o in options
    ]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    diff = a.astype(np.float64) - b.astype(np.float64)
    return float(10 * np.log10(255.0**2 / max(np.mean(diff**2), 1e-12)))


def test_the_panorama_matches_the_ground_truth_scene_in_overlaps_and_elsewhere() -> None:
    views = sources()
    frames = [view.render(30) for view in views]
    stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA({}))
    steps: list[str] = []
    saved = stitcher.calibrate(frames, lambda share, what: steps.append(what))
    assert steps[-1] == "done" and "matching sensors 3 and 4" in steps
    panorama = stitcher.stitch(frames)
    width, height = stitcher.output_size()
    assert (panorama.width, panorama.height) == (width, height)
    assert width > 2.5 * WIDTH and width % 2 == 0
    # Panorama pixel -> scene pixel, through the reference sensor (exact for the synthetic views).
    ref = len(frames) // 2
    to_scene = views[ref].views.homography @ np.linalg.inv(np.array(saved["matrices"][ref]))
    scene = views[0].render_scene(30)
    truth = cv2.warpPerspective(
        np.ascontiguousarray(scene.y), np.linalg.inv(to_scene), (width, height)
    )
    cover = np.zeros((height, width), np.uint8)
    for matrix in saved["matrices"]:
        ones = np.ones((HEIGHT, WIDTH), np.uint8)
        cover += cv2.warpPerspective(
            ones, np.array(matrix), (width, height), flags=cv2.INTER_NEAREST
        )
    cover = cv2.erode(cover, np.ones((5, 5), np.uint8))  # not the picture's outer edge
    overlap, single = cover >= 2, cover == 1
    assert overlap.sum() > 0.15 * cover.size and single.sum() > 0.4 * cover.size
    assert psnr(panorama.y[overlap], truth[overlap]) > MIN_PSNR_DB
    assert psnr(panorama.y[single], truth[single]) > MIN_PSNR_DB
    # Sensor pixels map to where the scene shows them: a sensor's centre within 1 pixel.
    centre = (WIDTH / 2, HEIGHT / 2)
    for i, view in enumerate(views):
        ((x, y),) = stitcher.to_output(i, [centre])
        expected = cv2.perspectiveTransform(
            np.float32([[centre]]), np.linalg.inv(to_scene) @ view.views.homography
        ).reshape(2)
        assert abs(x - expected[0]) < 1.0 and abs(y - expected[1]) < 1.0


def test_sensors_without_overlap_are_refused_in_words_a_user_can_act_on() -> None:
    frames = [view.render(0) for view in sources(2, overlap=0.0)]
    stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA({}))
    with pytest.raises(CalibrationError, match="too little overlap between sensors 1 and 2"):
        stitcher.calibrate(frames)


def test_a_scene_without_detail_is_refused_as_too_few_features() -> None:
    options = [{**sensor(i, 2), "background": "flat"} for i in range(2)]
    frames = [
        SyntheticSource(
            SyntheticSource.CONFIG_SCHEMA({k: v for k, v in o.items() if k != "type"})
        ).render(0)
        for o in options
    ]
    stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA({}))
    with pytest.raises(CalibrationError, match="too few features"):
        stitcher.calibrate(frames)


@pytest.mark.parametrize(
    ("mode", "extra", "ids"),
    [
        ("panorama", {}, ["yard"]),
        ("panorama_eptz", {"eptz_channels": 3}, ["yard", "yard-eptz1", "yard-eptz2", "yard-eptz3"]),
        ("original", {}, ["yard-sensor1", "yard-sensor2", "yard-sensor3", "yard-sensor4"]),
        ("divided_panorama", {}, ["yard-view1", "yard-view2", "yard-view3", "yard-view4"]),
    ],
)
def test_each_output_mode_yields_its_channels(
    registry: PluginRegistry, mode: str, extra: dict[str, Any], ids: list[str]
) -> None:
    config = validate_config({"stitching": [device(mode, **extra)]}, registry, SECTIONS)
    assert [c.id for c in config.channels] == ids
    kinds = {c.source_type for c in config.channels}
    assert kinds == ({"synthetic"} if mode == "original" else {"stitched"})
    if mode == "divided_panorama":
        windows = [c.source_options["window"] for c in config.channels]
        assert [w["x"] for w in windows] == [0.0, 0.25, 0.5, 0.75]
    assert "stitching" in config.dump() and all(
        ch["id"] not in ids for ch in config.dump()["channels"]
    )


@pytest.mark.parametrize(
    ("mode", "extra", "expected"),
    [
        (
            "panorama_eptz",
            {"eptz_channels": 11},
            "stitching[0].eptz_channels: at most 10 ePTZ channels",
        ),
        (
            "panorama",
            {"channels": {"yard": {"image": {"privacy_mask": {}}}}},
            "stitching[0].channels.yard.image.privacy_mask: privacy masks are supported only in the original output mode",
        ),
        (
            "divided_panorama",
            {"channels": {"yard-view1": {"target_cropping": {"enabled": True}}}},
            "stitching[0].channels.yard-view1.target_cropping: target cropping is supported only in the panorama output mode",
        ),
        (
            "panorama_eptz",
            {"channels": {"yard-eptz1": {"detectors": {"intrusion": {}}}}},
            "stitching[0].channels.yard-eptz1.detectors.intrusion: smart events are supported only in the panorama output mode",
        ),
        (
            "panorama",
            {"channels": {"yard": {"image": {"rotate": {"angle": 90}}}}},
            "stitching[0].channels.yard.image.rotate: rotate is supported only in the original output mode (manual 4.5.1)",
        ),
        (
            "divided_panorama",
            {"channels": {"yard-view2": {"image": {"mirror": {}}}}},
            "stitching[0].channels.yard-view2.image.mirror: mirror is supported only in the original or panorama output mode (manual 4.5.1)",
        ),
        (
            "panorama_eptz",
            {"channels": {"yard-eptz1": {"image": {"mirror": {}}}}},
            "stitching[0].channels.yard-eptz1.image.mirror: mirror is supported only in the original or panorama output mode",
        ),
        (
            "original",
            {"best_stitching_distance": 30},
            "stitching[0].best_stitching_distance: not supported in the original output mode",
        ),
        (
            "panorama",
            {"channels": {"yard-eptz1": {}}},
            "stitching[0].channels.yard-eptz1: not a channel of the panorama output mode",
        ),
    ],
)
def test_mode_rules_and_bad_input_name_their_key_path(
    registry: PluginRegistry, mode: str, extra: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config({"stitching": [device(mode, **extra)]}, registry, SECTIONS)
    assert any(line.startswith(expected) for line in info.value.errors), info.value.errors


def test_the_allowed_per_mode_settings_are_accepted(registry: PluginRegistry) -> None:
    data = device(
        "original", channels={"yard-sensor2": {"image": {"privacy_mask": {"areas": [AREA]}}}}
    )
    config = validate_config({"stitching": [data]}, registry, SECTIONS)
    assert "privacy_mask" in config.channel("yard-sensor2").image
    data = device(
        "panorama", channels={"yard": {"detectors": {"intrusion": {"rules": [{"region": AREA}]}}}}
    )
    config = validate_config({"stitching": [data]}, registry, SECTIONS)
    assert "intrusion" in config.channel("yard").detectors
    # Manual 4.5.1: rotate in the original mode, mirror in the original and panorama modes.
    data = device("original", channels={"yard-sensor1": {"image": {"rotate": {"angle": 90}}}})
    config = validate_config({"stitching": [data]}, registry, SECTIONS)
    assert "rotate" in config.channel("yard-sensor1").image
    for mode, channel in (("original", "yard-sensor3"), ("panorama", "yard")):
        data = device(mode, channels={channel: {"image": {"mirror": {}}}})
        config = validate_config({"stitching": [data]}, registry, SECTIONS)
        assert "mirror" in config.channel(channel).image


async def wait_picture(runtime: Any, channel_id: str) -> Any:
    slot = runtime.channels[channel_id].slot
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(30.0):
        while True:
            _seq, frame = await loop.run_in_executor(None, slot.wait_newer, slot.seq, 1.0)
            if frame is not None:
                return frame


async def test_panorama_and_eptz_channels_run_and_the_calibration_survives_a_restart(
    tmp_path: Path,
) -> None:
    data = {
        "stitching": [
            device(
                "panorama_eptz",
                eptz_channels=2,
                eptz_windows=[{"x": 0.5, "y": 0.25, "w": 0.25, "h": 0.5}],
                eptz_size=[320, 180],
            )
        ],
    }
    saved = calibration.calibration_path(tmp_path, "yard")
    runtime = runtime_from_data(data, data_dir=tmp_path)
    await runtime.start()
    try:
        panorama = await wait_picture(runtime, "yard")
        view = await wait_picture(runtime, "yard-eptz1")
        second = await wait_picture(runtime, "yard-eptz2")
    finally:
        await runtime.stop()
    assert panorama.width > 2.5 * WIDTH
    # Both ePTZ channels at the configured size (their windows: test_eptz.py).
    assert (view.width, view.height) == (second.width, second.height) == (320, 180)
    first = json.loads(saved.read_text())
    assert calibration.preview_path(tmp_path, "yard").stat().st_size > 1000
    runtime = runtime_from_data(data, data_dir=tmp_path)
    await runtime.start()
    try:
        again = await wait_picture(runtime, "yard")
    finally:
        await runtime.stop()
    assert json.loads(saved.read_text())["calibrated_at"] == first["calibrated_at"]
    assert (again.width, again.height) == (panorama.width, panorama.height)


def test_the_best_stitching_distance_moves_the_seam_by_the_parallax_of_the_lenses(
    registry: PluginRegistry,
) -> None:
    frames = [view.render(0) for view in sources()]
    centre = [(WIDTH / 2, HEIGHT / 2)]

    def offset(distance: float) -> float:
        """Where sensor 4's centre lands, from sensor 3's (the reference's)."""
        options = {"sensor_spacing": 0.1, "horizontal_fov": 90, "best_stitching_distance": distance}
        stitcher = HomographyStitcher(HomographyStitcher.CONFIG_SCHEMA(options))
        stitcher.calibrate(frames)
        return stitcher.to_output(3, centre)[0][0] - stitcher.to_output(2, centre)[0][0]

    # f = 320 px (90 degrees over 640 px); 0.1 m apart: 3.2 px at 10 m, 0.64 px at 50 m.
    assert offset(10.0) - offset(50.0) == pytest.approx(3.2 - 0.64, abs=0.3)
    # The device's distance reaches its stitcher; the original mode refuses one (above).
    config = validate_config(
        {"stitching": [device(best_stitching_distance=30)]}, registry, SECTIONS
    )
    stitcher = config.channels[0].source_options["device"]["stitcher"]
    assert stitcher["type"] == "homography" and stitcher["best_stitching_distance"] == 30
