"""Target cropping changed while running (``Runtime.set_target_cropping``): the window moves,
resizes and goes off; bad input is refused with its key path and changes nothing; the change
survives a restart; the third stream, decoded back with PyAV, shows the new window's pixels at
the new size."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from camera_runtime.exceptions import ConfigError, NotFoundError
from camera_runtime.runtime import Runtime
from camera_runtime.streaming import StreamReader
from tests.polling import eventually

from .test_overrides import running

Grey = npt.NDArray[np.uint8]
WIDTH, HEIGHT = 320, 240
#: A still, textured scene (no moving objects, no noise): every picture is the same, so a
#: window's pixels tell where the window is.
STILL = {
    "type": "synthetic",
    "width": WIDTH,
    "height": HEIGHT,
    "fps": 25,
    "objects": [],
    "noise": 0,
}


def config(**cropping: Any) -> dict[str, Any]:
    channel: dict[str, Any] = {"id": "cam", "source": STILL}
    if cropping:
        channel["target_cropping"] = cropping
    return {"zeroconf": {"enabled": False}, "channels": [channel]}


def pictures(data: bytes) -> list[Grey]:
    """The luma planes of an MPEG-TS stream's pictures, as the channel's frames hold them
    (video range, not converted to grey), a cut last packet left out."""
    found: list[Grey] = []
    with contextlib.suppress(av.FFmpegError), av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            found.append(frame.to_ndarray(format="yuv420p")[: frame.height])
    return found


class Watched:
    """A client of a stream: every byte read so far, decoded from the start as PyAV would."""

    def __init__(self, reader: StreamReader) -> None:
        self.reader = reader
        self.data = b""
        self._chunks = reader.chunks()

    async def until(self, done: Any, within: float = 20.0) -> list[Grey]:
        """Read on until ``done(pictures)``; the pictures decoded so far."""
        async with asyncio.timeout(within):
            async for chunk in self._chunks:
                self.data += chunk
                decoded = pictures(self.data)
                if done(decoded):
                    return decoded
        raise AssertionError("the stream ended first")

    async def ended(self, within: float = 10.0) -> None:
        """Read on until the stream ends."""
        async with asyncio.timeout(within):
            async for chunk in self._chunks:
                self.data += chunk


def window_of(runtime: Runtime, x: int, y: int, w: int, h: int) -> Grey:
    frame = runtime.channels["cam"].slot.frame
    assert frame is not None
    return np.asarray(frame.y[y : y + h, x : x + w])


def difference(a: Grey, b: Grey) -> float:
    """Mean difference of two pictures of one size, blurred (the encoder's grain left out)."""
    assert a.shape == b.shape, (a.shape, b.shape)
    size = (max(1, a.shape[1] // 8), max(1, a.shape[0] // 8))
    small = [cv2.resize(p.astype(np.float32), size, interpolation=cv2.INTER_AREA) for p in (a, b)]
    return float(np.mean(np.abs(small[0] - small[1])))


def status_cropping(runtime: Runtime) -> dict[str, Any]:
    return runtime.channel_status("cam")["target_cropping"]


async def test_the_window_moves_resizes_and_goes_off_while_the_third_stream_plays(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, config()) as runtime:
        channel = runtime.channels["cam"]
        await eventually(lambda: channel.frames > 2)
        assert "third" not in runtime.channel_status("cam")["streams"]

        # On: the third stream appears, a 64x48 window at the picture's centre.
        await runtime.set_target_cropping(
            "cam", {"enabled": True, "resolution": "64x48", "x": 0.5, "y": 0.5}
        )
        assert status_cropping(runtime) == {
            "enabled": True,
            "stream_type": "third",
            "resolution": "64x48",
            "x": 0.5,
            "y": 0.5,
        }
        third = runtime.channel_status("cam")["streams"]["third"]
        assert (third["width"], third["height"]) == (64, 48)
        centre = window_of(runtime, 160, 120, 64, 48)
        corner = window_of(runtime, 0, 0, 64, 48)
        assert difference(centre, corner) > 10  # the scene tells the two windows apart

        watched = Watched(await runtime.stream("cam", "third"))
        try:
            shown = await watched.until(lambda p: len(p) >= 3)
            assert shown[-1].shape == (48, 64)
            assert difference(shown[-1], centre) < 4

            # Moved: the same stream goes on (no restart), its pictures from the new place.
            await runtime.set_target_cropping("cam", {"x": 0, "y": 0})
            shown = await watched.until(lambda p: difference(p[-1], corner) < 4)
            assert all(p.shape == (48, 64) for p in shown)
            assert difference(shown[-1], centre) > 10

            # Resized: the encoder was built for 64x48, so this stream ends...
            await runtime.set_target_cropping("cam", {"resolution": "96x64"})
            await watched.ended()
        finally:
            watched.reader.close()
        # ...and the next client gets the new size, the window's pixels.
        third = runtime.channel_status("cam")["streams"]["third"]
        assert (third["width"], third["height"]) == (96, 64)
        watched = Watched(await runtime.stream("cam", "third"))
        try:
            shown = await watched.until(lambda p: len(p) >= 3)
        finally:
            watched.reader.close()
        assert shown[-1].shape == (64, 96)
        assert difference(shown[-1], window_of(runtime, 0, 0, 96, 64)) < 4

        # Off: the third stream (only there for the cropping) goes away.
        await runtime.set_target_cropping("cam", {"enabled": False})
        assert "third" not in runtime.channel_status("cam")["streams"]
        with pytest.raises(NotFoundError):
            await runtime.stream("cam", "third")
        assert status_cropping(runtime)["enabled"] is False


async def test_bad_cropping_is_refused_with_its_key_path_and_changes_nothing(
    tmp_path: Path,
) -> None:
    data = config(enabled=True, resolution="64x48", x=0.25, y=0.5)
    async with running(tmp_path, data) as runtime:
        before = status_cropping(runtime)
        bad: list[tuple[Any, list[str]]] = [
            (
                {"x": 1.5, "resolution": "63x48"},
                [
                    "channels.cam.target_cropping.resolution: width and height must be even, "
                    "from 32 to 7680",
                    "channels.cam.target_cropping.x: value must be at most 1",
                ],
            ),
            (
                {"enabled": "yes"},
                ["channels.cam.target_cropping.enabled: expected bool"],
            ),
            (
                {"stream_type": "main"},
                ["channels.cam.target_cropping.stream_type: value must be one of ['third']"],
            ),
            ({"zoom": 2}, ["channels.cam.target_cropping.zoom: unknown option"]),
            (["x"], ["channels.cam.target_cropping: expected a mapping"]),
        ]
        for changes, errors in bad:
            with pytest.raises(ConfigError) as caught:
                await runtime.set_target_cropping("cam", changes)
            assert sorted(caught.value.errors) == errors, caught.value.errors
        with pytest.raises(NotFoundError):
            await runtime.set_target_cropping("nope", {"x": 0.5})
        assert status_cropping(runtime) == before
        assert runtime.channels["cam"].target_cropping["resolution"] == (64, 48)
    assert not (tmp_path / "overrides.json").exists()


async def test_cropping_changed_at_run_time_survives_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path, config(resolution="64x48")) as runtime:
        await runtime.set_target_cropping("cam", {"enabled": True, "x": 0.75})
        await runtime.set_target_cropping("cam", {"resolution": "128x96"})
    stored = json.loads((tmp_path / "overrides.json").read_text())
    # Only what was changed, as the config file writes it.
    assert stored["channels"]["cam"]["target_cropping"] == {
        "enabled": True,
        "x": 0.75,
        "resolution": "128x96",
    }
    # The config file's own keys still apply where nothing was changed (y here).
    async with running(tmp_path, config(resolution="64x48", y=0.25)) as runtime:
        assert status_cropping(runtime) == {
            "enabled": True,
            "stream_type": "third",
            "resolution": "128x96",
            "x": 0.75,
            "y": 0.25,
        }
        channel = runtime.channels["cam"]
        await eventually(lambda: channel.frames > 2)
        third = runtime.channel_status("cam")["streams"]["third"]
        assert (third["width"], third["height"]) == (128, 96)


async def test_a_stored_cropping_the_schema_refuses_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored = {"channels": {"cam": {"target_cropping": {"enabled": True, "x": 7}}}}
    (tmp_path / "overrides.json").write_text(json.dumps(stored))
    async with running(tmp_path, config(x=0.5)) as runtime:
        assert status_cropping(runtime)["enabled"] is False
        assert status_cropping(runtime)["x"] == 0.5
    assert "stored target cropping dropped" in caplog.text
    assert "channels.cam.target_cropping.x: value must be at most 1" in caplog.text
