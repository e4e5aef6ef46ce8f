"""The ePTZ window's geometry on real pixels: crop boxes, the crop-and-scale of a frame, 3D
positioning by click and by box (in and out), count pixel."""

from __future__ import annotations

import numpy as np
import pytest

from camera_runtime.model import Frame
from camera_runtime.ptz.window import (
    Window,
    box_zoom,
    centre_on,
    count_pixel,
    crop,
    crop_box,
    extent_for,
    fit_area,
    lerp,
)

W, H = 640, 360


def frame_with_dot(x: float, y: float, pts: float = 0.0) -> Frame:
    """A flat grey picture with a white 8x8 dot centred at ``(x, y)`` (fractions)."""
    luma = np.full((H, W), 60, np.uint8)
    cx, cy = round(x * W), round(y * H)
    luma[cy - 4 : cy + 4, cx - 4 : cx + 4] = 250
    chroma = np.full((H // 2, W // 2), 128, np.uint8)
    return Frame(y=luma, u=chroma, v=chroma.copy(), pts=pts, wall_time=0.0, demux_time=pts)


def dot_centre(frame: Frame) -> tuple[float, float]:
    """Where the bright dot is in ``frame``, as fractions of its size."""
    ys, xs = np.nonzero(frame.y > 150)
    assert xs.size, "the dot is not in the picture"
    return (xs.mean() + 0.5) / frame.width, (ys.mean() + 0.5) / frame.height


def test_a_window_is_clamped_inside_the_picture() -> None:
    assert Window(0.0, 1.0, 2.0).clamped(8) == Window(0.25, 0.75, 2.0)
    assert Window(0.9, 0.1, 1.0).clamped(8) == Window(0.5, 0.5, 1.0)  # zoom 1 cannot pan
    assert Window(0.5, 0.5, 40.0).clamped(8).zoom == 8
    assert Window(0.5, 0.5, 0.2).clamped(8).zoom == 1


def test_the_crop_box_is_the_window_in_pixels() -> None:
    assert crop_box(Window(0.25, 0.25, 2.0), W, H) == (0, 0, 320, 180)
    assert crop_box(Window(0.5, 0.5, 8.0), W, H) == (280, 157.5, 80, 45)


def test_a_window_moves_by_less_than_a_source_pixel() -> None:
    """At 16x a source pixel is 16 output pixels: the window still moves smoothly."""
    frame = frame_with_dot(0.5, 0.5)
    a = dot_centre(crop(frame, Window(0.5, 0.5, 16.0)))
    b = dot_centre(crop(frame, Window(0.5 + 0.25 / W, 0.5, 16.0)))  # a quarter pixel
    assert a[0] - b[0] == pytest.approx(16 * 0.25 / W, rel=0.2)


def test_crop_scales_the_window_back_to_the_frame_size() -> None:
    frame = frame_with_dot(0.3, 0.4)
    # A window of half the picture centred on the dot: the dot lands in the centre, twice as big.
    out = crop(frame, Window(0.3, 0.4, 2.0))
    assert (out.width, out.height) == (W, H)
    assert out.u.shape == (H // 2, W // 2)
    cx, cy = dot_centre(out)
    assert abs(cx - 0.5) < 0.01 and abs(cy - 0.5) < 0.01
    assert np.count_nonzero(out.y > 150) == pytest.approx(4 * 64, rel=0.3)


def test_a_full_window_passes_the_frame_unchanged() -> None:
    frame = frame_with_dot(0.5, 0.5)
    assert crop(frame, Window()) is frame


@pytest.mark.parametrize(("x", "y"), [(0.3, 0.4), (0.62, 0.55), (0.45, 0.3)])
def test_a_click_centres_the_clicked_point(x: float, y: float) -> None:
    """3D positioning by a click, checked on pixels: click where the dot shows, and the next
    picture has it in the centre (within 1% of the picture)."""
    frame = frame_with_dot(x, y)
    window = Window(0.5, 0.5, 2.0)
    seen = dot_centre(crop(frame, window))
    moved = centre_on(window, seen[0], seen[1], 8)
    assert moved.zoom == 2.0
    cx, cy = dot_centre(crop(frame, moved))
    assert abs(cx - 0.5) < 0.01 and abs(cy - 0.5) < 0.01


def test_a_click_near_the_edge_goes_as_far_as_the_picture_allows() -> None:
    moved = centre_on(Window(0.7, 0.5, 2.0), 0.98, 0.5, 8)
    assert moved == Window(0.75, 0.5, 2.0)


def test_a_box_dragged_to_the_lower_right_zooms_in_on_it() -> None:
    frame = frame_with_dot(0.6, 0.3)
    window = Window()
    moved = box_zoom(window, 0.5, 0.2, 0.7, 0.4, 16)  # a box of 0.2 around the dot
    assert moved.zoom == pytest.approx(5.0)
    cx, cy = dot_centre(crop(frame, moved))
    assert abs(cx - 0.5) < 0.01 and abs(cy - 0.5) < 0.01


def test_a_box_dragged_to_the_upper_left_zooms_out() -> None:
    window = Window(0.5, 0.5, 4.0)
    moved = box_zoom(window, 0.75, 0.75, 0.25, 0.25, 16)  # half the view, dragged backwards
    assert moved.zoom == pytest.approx(2.0)
    assert (moved.pan, moved.tilt) == pytest.approx((0.5, 0.5))


def test_a_box_without_area_is_a_click() -> None:
    window = Window(0.5, 0.5, 2.0)
    assert box_zoom(window, 0.6, 0.5, 0.6, 0.9, 8) == centre_on(window, 0.6, 0.7, 8)


def test_count_pixel_measures_the_drawn_box() -> None:
    assert count_pixel(Window(), 0.1, 0.1, 0.35, 0.6, 1920, 1080) == {
        "width": 480,
        "height": 540,
        "picture_width": 480,
        "picture_height": 540,
    }
    zoomed = count_pixel(Window(0.5, 0.5, 4.0), 0.6, 0.6, 0.1, 0.1, 1920, 1080)
    assert zoomed == {"width": 960, "height": 540, "picture_width": 240, "picture_height": 135}


def test_lerp_goes_straight_and_zooms_geometrically() -> None:
    half = lerp(Window(0.25, 0.5, 1.0), Window(0.75, 0.5, 4.0), 0.5)
    assert (half.pan, half.tilt, half.zoom) == pytest.approx((0.5, 0.5, 2.0))


def test_an_output_of_another_shape_takes_the_largest_window_of_its_shape() -> None:
    # A 16:9 output over a 640x120 strip: zoom 1 spans its height, 1/3 of its width.
    extent = extent_for((320, 180), W, 120)
    assert extent == pytest.approx((120 * 16 / 9 / W, 1.0))
    assert extent_for(None, W, H) == (1.0, 1.0)
    assert extent_for((320, 180), W, H) == pytest.approx((1.0, 1.0))
    # At zoom 1 it pans along the strip, and stays inside it.
    assert Window(0.0, 0.5, 1.0).clamped(8, extent).pan == pytest.approx(extent[0] / 2)
    assert crop_box(Window(0.5, 0.5, 2.0), W, 120, extent) == pytest.approx(
        (320 - 120 * 16 / 9 / 4, 30, 120 * 16 / 9 / 2, 60)
    )
    # fit_area: centred on the area, the largest window of its shape inside it.
    window = fit_area({"x": 0.5, "y": 0.0, "w": 0.5, "h": 1.0}, extent, 8)
    assert (window.pan, window.tilt, window.zoom) == pytest.approx((0.75, 0.5, 1.0))


def test_the_crop_scales_to_the_output_size_and_clicks_centre_in_it() -> None:
    frame = frame_with_dot(0.7, 0.5)
    extent = extent_for((160, 90), W, H)
    out = crop(frame, Window(0.6, 0.5, 2.0), extent, (160, 90))
    assert (out.width, out.height) == (160, 90)
    assert out.u.shape == out.v.shape == (45, 80)
    seen = dot_centre(out)
    assert seen == pytest.approx((0.5 + 2 * 0.1, 0.5), abs=0.01)
    moved = centre_on(Window(0.6, 0.5, 2.0), seen[0], seen[1], 8, extent)
    assert dot_centre(crop(frame, moved, extent, (160, 90))) == pytest.approx((0.5, 0.5), abs=0.01)
    # Count pixel: output pixels, and the picture's under them (4 per output pixel at zoom 1).
    measured = count_pixel(Window(), 0.0, 0.0, 0.5, 0.5, 160, 90, scale=4.0)
    assert measured == {"width": 80, "height": 45, "picture_width": 320, "picture_height": 180}
