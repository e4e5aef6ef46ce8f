"""Privacy mask: every masked pixel exactly the fill colour, the rest unchanged; the rules of
the areas (4 at most, 3-10 points, no crossing edges) with their key paths."""

from __future__ import annotations

import numpy as np
import pytest

from camera_runtime.config import validate_config
from camera_runtime.exceptions import ConfigError
from camera_runtime.model import Plane
from camera_runtime_plugins.stages.privacy_mask import rasterise

from .frames import REGISTRY, gradient, stage

SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]


def _masks(width: int, height: int, areas: list[list[list[float]]]) -> tuple[Plane]:
    """Where the stage masks, at this size."""
    return (rasterise(areas, width, height).astype(bool),)


def test_masked_pixels_are_exactly_the_fill_colour_and_the_rest_unchanged() -> None:
    src = gradient(64, 48)
    out = stage("privacy_mask", {"areas": [SQUARE]}, 64, 48).process(src)
    # The square covers columns 16..47 and rows 12..35 (corners at x * width, y * height).
    inside = np.zeros((48, 64), bool)
    inside[12:36, 16:48] = True
    assert (out.y[inside] == 16).all()
    np.testing.assert_array_equal(out.y[~inside], src.y[~inside])
    chroma_inside = np.zeros((24, 32), bool)
    chroma_inside[6:18, 8:24] = True
    assert (out.u[chroma_inside] == 128).all() and (out.v[chroma_inside] == 128).all()
    np.testing.assert_array_equal(out.u[~chroma_inside], src.u[~chroma_inside])
    np.testing.assert_array_equal(out.v[~chroma_inside], src.v[~chroma_inside])
    assert src.y[20, 20] != 16  # the source planes stay as they were


def test_a_triangle_and_a_colour() -> None:
    triangle = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    out = stage("privacy_mask", {"areas": [triangle], "color": "white"}, 64, 48).process(
        gradient(64, 48)
    )
    assert out.y[0, 0] == 235 and out.y[1, 60] == 235 and out.y[45, 1] == 235
    assert out.y[47, 63] != 235  # the far corner is outside
    (luma,) = _masks(64, 48, [triangle])
    assert (out.y[luma] == 235).all()
    assert 0.4 < luma.mean() < 0.6  # about half the picture


def test_four_areas_all_masked() -> None:
    areas = [
        [[0.0, 0.0], [0.2, 0.0], [0.2, 0.2]],
        [[0.8, 0.0], [1.0, 0.0], [1.0, 0.2], [0.8, 0.2]],
        [[0.0, 0.8], [0.2, 0.8], [0.2, 1.0], [0.0, 1.0]],
        [[0.5, 0.5], [0.7, 0.5], [0.7, 0.7], [0.6, 0.8], [0.5, 0.7]],
    ]
    out = stage("privacy_mask", {"areas": areas}, 320, 240).process(gradient(320, 240))
    (luma,) = _masks(320, 240, areas)
    assert (out.y[luma] == 16).all()
    for x, y in ((300, 10), (10, 230), (190, 140)):
        assert luma[y, x] and out.y[y, x] == 16


def test_the_switch_is_declared() -> None:
    cls = REGISTRY.image_stage("privacy_mask")
    (control,) = cls.controls(cls.CONFIG_SCHEMA({"areas": [SQUARE]}))
    assert (control.key, control.kind.value, control.sets, control.config) == (
        "privacy_mask",
        "switch",
        "enabled",
        True,
    )


def _errors(image: dict[str, object]) -> list[str]:
    data = {"channels": [{"id": "cam", "source": {"type": "synthetic"}, "image": image}]}
    with pytest.raises(ConfigError) as caught:
        validate_config(data, REGISTRY)
    return caught.value.errors


def test_a_self_intersecting_polygon_is_refused_with_its_key_path() -> None:
    bow_tie = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    errors = _errors({"privacy_mask": {"areas": [SQUARE, bow_tie]}})
    assert errors == [
        "channels[0].image.privacy_mask.areas[1]: the polygon crosses itself (edges 1 and 3): "
        "draw its corners in order around the area"
    ]


def test_at_most_four_areas() -> None:
    errors = _errors({"privacy_mask": {"areas": [SQUARE] * 5}})
    assert errors == [
        "channels[0].image.privacy_mask.areas: a channel has 1 to 4 privacy mask areas"
    ]


def test_three_to_ten_points() -> None:
    two = [[0.1, 0.1], [0.5, 0.5]]
    eleven = [[0.5 + 0.4 * np.cos(a), 0.5 + 0.4 * np.sin(a)] for a in np.linspace(0, 6, 11)]
    errors = _errors({"privacy_mask": {"areas": [two, [list(map(float, p)) for p in eleven]]}})
    assert errors == [
        "channels[0].image.privacy_mask.areas[0]: a privacy mask area has 3 to 10 points",
        "channels[0].image.privacy_mask.areas[1]: a privacy mask area has 3 to 10 points",
    ]


def test_points_outside_the_picture_and_unknown_kinds_are_refused() -> None:
    errors = _errors(
        {"privacy_mask": {"areas": [[[0.1, 0.1], [1.5, 0.1], [0.1, 0.5]]]}, "blur": {}}
    )
    assert "channels[0].image.privacy_mask.areas[0][1][0]: expected a number from 0 to 1" in errors
    assert any(
        e.startswith("channels[0].image.blur: no image_stage of type 'blur'") for e in errors
    )
