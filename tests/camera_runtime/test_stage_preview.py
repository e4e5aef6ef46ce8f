"""A preview of an image stage change (``Runtime.preview_stage``): the channel's picture with
the proposed settings through the real stages, nothing saved, nothing live changed, and never
a pixel the live privacy mask hides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from camera_runtime.exceptions import ChannelStoppedError, ConfigError, NotFoundError
from camera_runtime.runtime import Runtime
from tests.polling import eventually

from .test_overrides import running

Grey = npt.NDArray[np.uint8]
WIDTH, HEIGHT = 320, 240
#: The top-left quarter of the picture.
QUARTER = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
#: The bottom-left quarter.
LOWER = [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]
OSD = {"enabled": False, "show_name": False, "show_date": False, "texts": ["LIVE"]}


def config(enabled: bool = True) -> dict[str, Any]:
    source = {
        "type": "synthetic",
        "width": WIDTH,
        "height": HEIGHT,
        "fps": 25,
        "background": "flat",  # mid grey: anything drawn or masked stands out
        "objects": [],
        "noise": 0,
    }
    image = {"privacy_mask": {"areas": [QUARTER], "color": "black"}, "osd": OSD}
    channel = {"id": "cam", "enabled": enabled, "source": source, "image": image}
    return {"zeroconf": {"enabled": False}, "channels": [channel]}


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with running(tmp_path, config()) as started:
        channel = started.channels["cam"]
        await eventually(lambda: channel.frames > 2)
        yield started


def grey(jpeg: bytes) -> Grey:
    assert jpeg[:2] == b"\xff\xd8", "not a JPEG"
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture.shape == (HEIGHT, WIDTH)
    return np.asarray(picture)


def region(picture: Grey, area: list[list[float]], margin: int = 4) -> Grey:
    """The pixels inside a rectangular area, ``margin`` pixels off its edges (JPEG blurs them)."""
    (x0, y0), (x1, y1) = area[0], area[2]
    top, bottom = int(y0 * HEIGHT) + margin, int(y1 * HEIGHT) - margin
    left, right = int(x0 * WIDTH) + margin, int(x1 * WIDTH) - margin
    return picture[top:bottom, left:right]


#: The bottom-right quarter, where the previewed OSD text is placed.
TEXT_AREA = [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.5, 1.0]]


def text_pixels(picture: Grey) -> int:
    """White pixels (the OSD's text) in the bottom-right quarter."""
    return int(np.count_nonzero(region(picture, TEXT_AREA, 0) > 200))


async def test_a_preview_shows_the_osd_and_changes_nothing_live(
    runtime: Runtime, tmp_path: Path
) -> None:
    options = {"texts": ["PREVIEW"], "font_size": 24, "color": "white", "x": 0.55, "y": 0.6}
    preview = grey(await runtime.preview_stage("cam", "osd", enabled=True, options=options))
    live = grey(await runtime.snapshot("cam"))

    assert text_pixels(preview) > 100  # the proposed text is drawn where it was placed
    assert text_pixels(live) == 0
    # The live mask covers its quarter in the preview as in the live picture.
    assert region(preview, QUARTER).max() <= 8
    assert region(live, QUARTER).max() <= 8
    # Nothing changed: the stage's settings, the pictures made since, the stored settings.
    osd = runtime.channels["cam"].stages["osd"]
    assert (osd.enabled, osd.options["texts"]) == (False, ["LIVE"])
    assert runtime.channel_status("cam")["image"]["osd"]["enabled"] is False
    channel = runtime.channels["cam"]
    seen = channel.frames
    await eventually(lambda: channel.frames > seen)
    assert text_pixels(grey(await runtime.snapshot("cam"))) == 0
    assert not (tmp_path / "overrides.json").exists()


async def test_a_mask_preview_never_uncovers_the_live_mask(runtime: Runtime) -> None:
    # Switched off in the preview: the live mask still covers its quarter.
    off = grey(await runtime.preview_stage("cam", "privacy_mask", enabled=False))
    assert region(off, QUARTER).max() <= 8
    # Other areas proposed: the live area stays covered, the proposed one is covered too.
    moved = grey(
        await runtime.preview_stage(
            "cam", "privacy_mask", options={"areas": [LOWER], "color": "white"}
        )
    )
    assert region(moved, QUARTER).max() <= 8
    assert region(moved, LOWER).min() >= 247
    assert 120 <= int(np.median(region(moved, TEXT_AREA))) <= 136  # the rest is the scene
    mask = runtime.channels["cam"].stages["privacy_mask"]
    assert (mask.enabled, mask.options["areas"], mask.options["color"]) == (
        True,
        [QUARTER],
        "black",
    )


async def test_a_bad_preview_is_refused_as_the_change_would_be(
    runtime: Runtime, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        await runtime.preview_stage("cam", "osd", options={"font_size": 33, "colour": "red"})
    assert sorted(caught.value.errors) == [
        "channels.cam.image.osd.colour: unknown option",
        "channels.cam.image.osd.font_size: value must be one of [16, 24, 32, 48, 64]",
    ]
    with pytest.raises(ConfigError) as changed:
        await runtime.set_stage("cam", "osd", options={"font_size": 33, "colour": "red"})
    assert changed.value.errors == caught.value.errors  # the same words as a real change
    with pytest.raises(NotFoundError) as missing:
        await runtime.preview_stage("cam", "rotate", enabled=True)
    assert missing.value.translation_key == "image_stage_not_found"
    with pytest.raises(NotFoundError):
        await runtime.preview_stage("nope", "osd", enabled=True)


async def test_a_stopped_channel_has_nothing_to_preview(tmp_path: Path) -> None:
    async with running(tmp_path, config(enabled=False)) as runtime:
        with pytest.raises(ChannelStoppedError):
            await runtime.preview_stage("cam", "osd", enabled=True)
