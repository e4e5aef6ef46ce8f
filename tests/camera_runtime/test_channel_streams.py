"""Target cropping's window (manual 4.10): where it falls in the picture, and the cropped
picture's planes."""

from __future__ import annotations

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.channel_streams import crop_window, cropped
from camera_runtime.config import TARGET_CROPPING_SCHEMA
from camera_runtime.model import Frame


def cropping(**given: object) -> dict[str, object]:
    return dict(TARGET_CROPPING_SCHEMA({"enabled": True, **given}))


@pytest.mark.parametrize(
    ("given", "window"),
    [
        ({"resolution": "640x480"}, (0, 0, 640, 480)),
        ({"resolution": "640x480", "x": 0.5, "y": 0.5}, (960, 540, 640, 480)),
        ({"resolution": "640x480", "x": 1, "y": 1}, (1280, 600, 640, 480)),  # kept inside
        ({"resolution": "3840x2160"}, (0, 0, 1920, 1080)),  # at most the picture
        ({"resolution": "100x100", "x": 0.2501, "y": 0.1}, (480, 108, 100, 100)),  # even
    ],
)
def test_the_window_stays_inside_the_picture_on_even_pixels(
    given: dict[str, object], window: tuple[int, int, int, int]
) -> None:
    assert crop_window((1920, 1080), cropping(**given)) == window


def test_a_cropping_resolution_is_even_and_sized() -> None:
    for bad in ("641x480", "640", "16x16", "axb", "8000x100"):
        with pytest.raises(vol.Invalid):
            TARGET_CROPPING_SCHEMA({"resolution": bad})
    assert TARGET_CROPPING_SCHEMA({"resolution": "1280 x 720"})["resolution"] == (1280, 720)


def test_the_cropped_frame_is_a_view_of_the_window() -> None:
    y = np.arange(120 * 160, dtype=np.uint32).reshape(120, 160).astype(np.uint8)
    u = np.arange(60 * 80, dtype=np.uint32).reshape(60, 80).astype(np.uint8)
    v = (255 - u).astype(np.uint8)
    frame = Frame(y=y, u=u, v=v, pts=1.0, wall_time=2.0, demux_time=3.0)
    out = cropped(frame, (20, 10, 64, 48))
    assert (out.width, out.height) == (64, 48)
    assert np.array_equal(out.y, y[10:58, 20:84])
    assert np.array_equal(out.u, u[5:29, 10:42]) and np.array_equal(out.v, v[5:29, 10:42])
    assert out.y.base is not None  # a view: nothing copied
    assert (out.pts, out.wall_time, out.demux_time) == (1.0, 2.0, 3.0)
