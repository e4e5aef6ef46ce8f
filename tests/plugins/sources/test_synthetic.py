"""The synthetic scene: options, determinism, ground truth against pixels, pacing, close."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.exceptions import SourceUnavailableError
from camera_runtime_plugins.sources.synthetic import SyntheticSource

from .helpers import wait_until_blocked

SMALL = {"width": 320, "height": 180, "realtime": False}


def make(**options: Any) -> SyntheticSource:
    return SyntheticSource(SyntheticSource.CONFIG_SCHEMA({**SMALL, **options}))


def test_defaults_live_in_the_schema() -> None:
    options = SyntheticSource.CONFIG_SCHEMA({})
    assert (options["width"], options["height"], options["fps"]) == (1280, 720, 10.0)
    assert options["realtime"] is True
    assert len(options["objects"]) == 2
    first = options["objects"][0]
    assert first["period"] == 20.0
    assert (first["appear"], first["disappear"]) == (2.0, 7.0)  # filled from the path


def test_default_scene_has_motion_that_starts_and_ends() -> None:
    source = SyntheticSource(SyntheticSource.CONFIG_SCHEMA({}))
    visible = [bool(source.ground_truth(t / 10)) for t in range(0, 400)]
    starts = sum(1 for a, b in itertools.pairwise(visible) if b and not a)
    ends = sum(1 for a, b in itertools.pairwise(visible) if a and not b)
    assert starts >= 2 and ends >= 2  # within two periods: objects come and go
    assert not any(visible[150:200])  # 15-20 s of each period is quiet
    assert visible[30] and visible[120]


@pytest.mark.parametrize(
    "options",
    [
        {"width": 321},
        {"fps": 0},
        {"fps": 61},
        {"noise": 51},
        {"illumination": {"amplitude": 101}},
        {"objects": [{"path": []}]},
        {"objects": [{"path": [{"t": 1, "x": 0.5, "y": 0.5}], "appear": 5, "disappear": 3}]},
        {"objects": [{"path": [{"t": 30, "x": 0.5, "y": 0.5}], "period": 20}]},
        {"colour": [1, 2, 3]},
    ],
)
def test_schema_rejects_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(vol.Invalid):
        SyntheticSource.CONFIG_SCHEMA(options)


def test_same_seed_same_frames_other_seed_other_background() -> None:
    a, b, c = make(seed=7, noise=8), make(seed=7, noise=8), make(seed=8, noise=8)
    a.open(), b.open(), c.open()
    for _ in range(12):
        fa, fb, fc = a.read(), b.read(), c.read()
        assert fa.pts == fb.pts
        for plane in ("y", "u", "v"):
            np.testing.assert_array_equal(getattr(fa, plane), getattr(fb, plane))
        assert not np.array_equal(fa.y, fc.y)


def test_frames_are_4_2_0_read_only_with_scene_time_pts() -> None:
    source = make(fps=20)
    info = source.open()
    assert (info.width, info.height, info.fps) == (320, 180, 20.0)
    frames = [source.read() for _ in range(5)]
    assert [f.pts for f in frames] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    frame = frames[0]
    assert frame.y.shape == (180, 320) and frame.u.shape == frame.v.shape == (90, 160)
    assert not frame.y.flags.writeable
    assert frame.demux_time <= time.monotonic()


def test_ground_truth_matches_the_drawn_objects() -> None:
    objects = [
        {"size": [0.2, 0.3], "color": [250, 250, 250], "path": [
            {"t": 0, "x": 0.2, "y": 0.5}, {"t": 4, "x": 0.8, "y": 0.5}]},
    ]  # fmt: skip
    scene = make(objects=objects, noise=0)
    empty = make(objects=[], noise=0)
    for index in (0, 10, 25, 39):  # fps 10: 0 to 3.9 s along the path
        boxes = scene.ground_truth(index / 10)
        assert len(boxes) == 1
        box = boxes[0]
        assert box.w == pytest.approx(0.2) and box.h == pytest.approx(0.3)
        assert box.x + box.w / 2 == pytest.approx(0.2 + 0.6 * index / 40)
        diff = np.abs(scene.render(index).y.astype(int) - empty.render(index).y.astype(int))
        x0, x1 = round(box.x * 320), round((box.x + box.w) * 320)
        y0, y1 = round(box.y * 180), round((box.y + box.h) * 180)
        inside = diff[y0:y1, x0:x1]
        assert inside.mean() > 30  # the object is drawn in its box...
        diff[y0:y1, x0:x1] = 0
        assert diff.max() == 0  # ...and nowhere else
    assert scene.ground_truth(4.5) == []  # after its last waypoint it is gone
    assert np.array_equal(scene.render(45).y, empty.render(45).y)


def test_objects_leaving_the_picture_are_clipped() -> None:
    objects = [{"size": [0.2, 0.2], "path": [{"t": 0, "x": -0.05, "y": 0.5}], "period": 5}]
    (box,) = make(objects=objects).ground_truth(1.0)
    assert (box.x, box.y, box.w, box.h) == pytest.approx((0.0, 0.4, 0.05, 0.2))


def test_noise_changes_every_frame_within_its_amplitude() -> None:
    quiet, noisy = make(objects=[], noise=0), make(objects=[], noise=10)
    base = quiet.render(0).y.astype(int)
    first, second = noisy.render(0).y.astype(int), noisy.render(1).y.astype(int)
    assert np.abs(first - base).max() <= 10
    assert np.abs(first - base).std() > 1
    assert np.mean(first != second) > 0.3
    assert np.array_equal(quiet.render(0).y, quiet.render(1).y)


def test_illumination_swings_the_mean_brightness() -> None:
    source = make(objects=[], noise=0, fps=10, illumination={"period": 8, "amplitude": 20})
    mean = {t: float(source.render(t * 10).y.mean()) for t in (0, 2, 6)}
    assert mean[2] - mean[0] > 12  # a quarter period later: brighter
    assert mean[0] - mean[6] > 12  # three quarters: darker


def test_realtime_paces_at_fps() -> None:
    source = make(fps=20, realtime=True)
    source.open()
    started = time.monotonic()
    frames = [source.read() for _ in range(11)]
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < 1.5  # 10 frame intervals of 50 ms
    assert [f.pts for f in frames] == pytest.approx([i / 20 for i in range(11)])


def test_close_from_another_thread_ends_a_waiting_read() -> None:
    source = make(fps=1, realtime=True)
    source.open()
    source.read()  # the next frame is due in a second
    outcome: list[BaseException] = []

    def reader() -> None:
        try:
            source.read()
        except SourceUnavailableError as err:
            outcome.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    wait_until_blocked(thread)
    closed_at = time.monotonic()
    source.close()
    thread.join(timeout=2)
    assert outcome and time.monotonic() - closed_at < 0.5
    with pytest.raises(SourceUnavailableError):
        source.read()
    source.close()  # twice is fine
    source.open()  # and it opens again, from scene time 0
    assert source.read().pts == 0.0
