"""Snapshots of the live view at full size and resized on the runtime: the size rules, the
area filter, the cached full-size encode, and ``Runtime.snapshot`` with a real channel."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from camera_runtime.exceptions import InvalidValueError, NoFrameError
from camera_runtime.host import runtime_from_data
from camera_runtime.live import FrameSlot, LiveView, picture_size
from camera_runtime.model import Frame


def decode(jpeg: bytes) -> Any:
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    return picture


def stripes(width: int = 320, height: int = 240) -> Frame:
    """Grey picture of 1-pixel black and white columns: a point-sampling resize keeps black or
    white columns, an area filter averages them to mid grey."""
    y = np.zeros((height, width), np.uint8)
    y[:, ::2] = 255
    chroma = np.full((height // 2, width // 2), 128, np.uint8)
    return Frame(y=y, u=chroma, v=chroma.copy(), pts=0.0, wall_time=0.0, demux_time=0.0)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (None, None, None),
        (160, None, (160, 120)),
        (None, 60, (80, 60)),
        (100, 50, (100, 50)),  # both given: exactly that
        (320, 240, (320, 240)),
        (1, None, (1, 1)),
    ],
)
def test_picture_size(
    width: int | None, height: int | None, expected: tuple[int, int] | None
) -> None:
    assert picture_size((320, 240), width, height) == expected


@pytest.mark.parametrize(
    ("width", "height", "named"),
    [(0, None, "'width'"), (321, None, "'width'"), (None, 241, "'height'"), (10, -1, "'height'")],
)
def test_picture_size_refuses(width: int | None, height: int | None, named: str) -> None:
    with pytest.raises(InvalidValueError) as err:
        picture_size((320, 240), width, height)
    assert named in err.value.message
    assert "320" in err.value.message or "240" in err.value.message


async def test_snapshot_resized_with_the_area_filter() -> None:
    slot = FrameSlot()
    live = LiveView(slot, "test")
    with pytest.raises(NoFrameError):
        await live.snapshot(80, 60)
    slot.put(stripes())
    loop_thread = threading.get_ident()
    full = decode(await live.snapshot())
    assert full.shape == (240, 320, 3)
    small = decode(await live.snapshot(width=80))
    assert small.shape == (60, 80, 3)
    # Area averaging: the 1-pixel stripes become an even grey, not black and white columns.
    assert abs(float(small.mean()) - 127.5) < 8
    assert float(small.std()) < 8
    assert decode(await live.snapshot(height=120)).shape == (120, 160, 3)
    assert decode(await live.snapshot(100, 30)).shape == (30, 100, 3)
    with pytest.raises(InvalidValueError):
        await live.snapshot(width=640)
    assert threading.get_ident() == loop_thread


async def test_cached_full_size_jpeg_only_without_a_size() -> None:
    slot = FrameSlot()
    live = LiveView(slot, "test")
    slot.put(stripes())
    stream = live.stream()
    try:
        cached = await asyncio.wait_for(anext(stream), 5)
        assert live.cached_jpeg() == cached
        assert await live.snapshot() is cached  # the live view's encode, not a second one
        resized = await live.snapshot(width=160)
        assert resized != cached and decode(resized).shape == (120, 160, 3)
    finally:
        await stream.aclose()
        live.close()


async def test_runtime_snapshot_with_a_size(tmp_path: Path) -> None:
    source = {"type": "synthetic", "width": 160, "height": 120, "fps": 10}
    runtime = runtime_from_data(
        {"zeroconf": {"enabled": False}, "channels": [{"id": "cam", "source": source}]},
        data_dir=tmp_path / "data",
    )
    await runtime.start()
    try:
        channel = runtime.channel("cam")
        async with asyncio.timeout(10):
            while channel.slot.frame is None:  # noqa: ASYNC110 - a frame slot offers no awaitable
                await asyncio.sleep(0.01)
        assert decode(await runtime.snapshot("cam")).shape == (120, 160, 3)
        assert decode(await runtime.snapshot("cam", width=40)).shape == (30, 40, 3)
        assert decode(await runtime.snapshot("cam", 64, 48)).shape == (48, 64, 3)
        with pytest.raises(InvalidValueError):
            await runtime.snapshot("cam", height=121)
    finally:
        await runtime.stop()
