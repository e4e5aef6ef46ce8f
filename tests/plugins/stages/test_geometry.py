"""Rotate and mirror: exact pixel moves on every plane, and the size they announce."""

from __future__ import annotations

import numpy as np
import pytest
import voluptuous as vol

from .frames import REGISTRY, gradient, stage


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotate_turns_every_plane_counterclockwise(angle: int) -> None:
    src = gradient(64, 48)
    out = stage("rotate", {"angle": angle}, 64, 48).process(src)
    quarters = angle // 90
    for got, plane in ((out.y, src.y), (out.u, src.u), (out.v, src.v)):
        np.testing.assert_array_equal(got, np.rot90(plane, quarters))
    # Counterclockwise: at 90 the top-right pixel ends top-left.
    if angle == 90:
        assert out.y[0, 0] == src.y[0, 63]
        assert (out.width, out.height) == (48, 64)
    assert out.pts == src.pts and out.wall_time == src.wall_time


def test_rotate_announces_the_turned_size() -> None:
    cls = REGISTRY.image_stage("rotate")
    assert cls.output_size({"angle": 90}, 1280, 720) == (720, 1280)
    assert cls.output_size({"angle": 270}, 1280, 720) == (720, 1280)
    assert cls.output_size({"angle": 180}, 1280, 720) == (1280, 720)
    assert cls.CONFIG_SCHEMA({}) == {"angle": 90}  # the manual's rotate: 90 counterclockwise


def test_rotate_by_zero_passes_the_frame_itself() -> None:
    src = gradient()
    assert stage("rotate", {"angle": 0}, 64, 48).process(src) is src


def test_rotate_refuses_other_angles() -> None:
    with pytest.raises(vol.Invalid):
        REGISTRY.image_stage("rotate").CONFIG_SCHEMA({"angle": 45})


@pytest.mark.parametrize(
    ("mode", "flip"),
    [
        ("left_right", lambda p: p[:, ::-1]),
        ("up_down", lambda p: p[::-1, :]),
        ("center", lambda p: p[::-1, ::-1]),
    ],
)
def test_mirror_flips_every_plane(mode: str, flip: object) -> None:
    src = gradient(64, 48)
    out = stage("mirror", {"mode": mode}, 64, 48).process(src)
    for got, plane in ((out.y, src.y), (out.u, src.u), (out.v, src.v)):
        np.testing.assert_array_equal(got, flip(plane))  # type: ignore[operator]
        assert got.flags.c_contiguous
    assert (out.width, out.height) == (64, 48)


def test_mirror_off_passes_the_frame_itself() -> None:
    src = gradient()
    assert stage("mirror", {"mode": "off"}, 64, 48).process(src) is src


def test_the_source_planes_are_never_written() -> None:
    src = gradient()
    before = src.y.copy()
    stage("mirror", {}, 64, 48).process(src)
    stage("rotate", {}, 64, 48).process(src)
    np.testing.assert_array_equal(src.y, before)
