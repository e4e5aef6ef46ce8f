"""Adjust: identity at the defaults (no copy), monotonic in each level, exact at the ends."""

from __future__ import annotations

import numpy as np
import pytest
import voluptuous as vol

from .frames import REGISTRY, frame, gradient, stage


def test_the_defaults_change_nothing_and_copy_nothing() -> None:
    src = gradient()
    assert stage("adjust", {}, 64, 48).process(src) is src
    assert REGISTRY.image_stage("adjust").CONFIG_SCHEMA({}) == {
        "brightness": 50,
        "contrast": 50,
        "saturation": 50,
        "hue": 50,
        "sharpness": 50,
    }


def test_brightness_raises_the_luma_monotonically_and_leaves_chroma() -> None:
    src = frame(np.full((48, 64), 100, np.uint8))
    levels = [
        stage("adjust", {"brightness": b}, 64, 48).process(src).y[0, 0] for b in range(0, 101, 10)
    ]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    assert levels[0] == 0 and levels[5] == 100 and levels[-1] == 200  # 2 x (b - 50) levels
    out = stage("adjust", {"brightness": 80}, 64, 48).process(src)
    assert out.u is src.u and out.v is src.v  # only the plane it changes is copied


def test_contrast_spreads_the_levels_monotonically() -> None:
    src = gradient()
    spreads = [
        float(np.std(stage("adjust", {"contrast": c}, 64, 48).process(src).y.astype(float)))
        for c in (0, 25, 50, 75)
    ]
    assert spreads == sorted(spreads) and len(set(spreads)) == 4
    # Mid-grey stays mid-grey whatever the contrast.
    grey = frame(np.full((48, 64), 128, np.uint8))
    assert stage("adjust", {"contrast": 100}, 64, 48).process(grey).y[0, 0] == 128


def test_saturation_scales_the_colour_and_zero_is_grey() -> None:
    u = np.full((24, 32), 178, np.uint8)
    v = np.full((24, 32), 88, np.uint8)
    src = frame(np.full((48, 64), 90, np.uint8), u, v)
    grey = stage("adjust", {"saturation": 0}, 64, 48).process(src)
    assert (grey.u == 128).all() and (grey.v == 128).all()
    assert grey.y is src.y
    distances = [
        abs(int(stage("adjust", {"saturation": s}, 64, 48).process(src).u[0, 0]) - 128)
        for s in (0, 25, 50, 75, 100)
    ]
    assert distances == [0, 25, 50, 75, 100]


def test_hue_turns_the_colour_around_neutral() -> None:
    u = np.full((24, 32), 178, np.uint8)  # +50 from neutral
    v = np.full((24, 32), 108, np.uint8)  # -20
    src = frame(np.full((48, 64), 90, np.uint8), u, v)
    half_turn = stage("adjust", {"hue": 100}, 64, 48).process(src)
    assert (half_turn.u == 78).all() and (half_turn.v == 148).all()  # the complement
    assert half_turn.y is src.y
    quarter = stage("adjust", {"hue": 75}, 64, 48).process(src)  # +90 degrees
    assert (int(quarter.u[0, 0]), int(quarter.v[0, 0])) == (148, 178)
    # The turn keeps the colour's strength; with saturation 0 it is grey whatever the hue.
    grey = stage("adjust", {"hue": 75, "saturation": 0}, 64, 48).process(src)
    assert (grey.u == 128).all() and (grey.v == 128).all()
    twice = stage("adjust", {"hue": 100, "saturation": 100}, 64, 48).process(src)
    assert (int(twice.u[0, 0]), int(twice.v[0, 0])) == (28, 168)


def test_sharpness_sharpens_above_50_and_softens_below() -> None:
    y = np.full((48, 64), 60, np.uint8)
    y[:, 32:] = 180  # one vertical edge
    src = frame(y)
    sharp = stage("adjust", {"sharpness": 100}, 64, 48).process(src).y.astype(int)
    soft = stage("adjust", {"sharpness": 0}, 64, 48).process(src).y.astype(int)
    # Sharpening overshoots on both sides of the edge; softening ramps it.
    assert sharp[10, 31] < 60 and sharp[10, 32] > 180
    assert 60 < soft[10, 31] < soft[10, 32] < 180
    # Far from the edge nothing changes.
    assert sharp[10, 5] == 60 and soft[10, 60] == 180


def test_levels_out_of_range_are_refused() -> None:
    schema = REGISTRY.image_stage("adjust").CONFIG_SCHEMA
    for bad in ({"brightness": 101}, {"contrast": -1}, {"saturation": 50.5}, {"gamma": 3}):
        with pytest.raises(vol.Invalid):
            schema(bad)
