"""The Panorama + ePTZ mode's ePTZ channels: each an ePTZ window over the whole panorama (the
same ``camera_runtime/ptz`` machinery as any channel's), output at ``eptz_size``, checked on
output frames against where the synthetic scene puts a red marker; presets, patrols, patterns
and 3D positioning act on it, and its presets survive a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from camera_runtime.config import validate_config
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import SECTIONS, runtime_from_data
from camera_runtime.model import Frame
from camera_runtime.ptz.window import crop, extent_for, fit_area
from camera_runtime.registry import PluginRegistry
from camera_runtime.runtime import Runtime

from .test_stitching import psnr, registry, sensor

__all__ = ["registry"]

#: A red marker standing in the wide scene (its centre, 0..1 of the scene).
MARKER = {"size": [0.02, 0.12], "color": [250, 20, 20], "path": [{"t": 0, "x": 0.55, "y": 0.55}]}
SIZE = (320, 180)
START = {"x": 0.5, "y": 0.25, "w": 0.25, "h": 0.5}
#: How near the centre a centred marker is (fraction of the ePTZ picture).
TOLERANCE = 0.03


def data(**extra: Any) -> dict[str, Any]:
    device = {
        "id": "yard",
        "sensors": [{**sensor(i), "objects": [MARKER]} for i in range(4)],
        "output_mode": "panorama_eptz",
        "eptz_channels": 2,
        "eptz_windows": [START],
        "eptz_size": list(SIZE),
        **extra,
    }
    return {"zeroconf": {"enabled": False}, "stitching": [device]}


def marker(frame: Frame) -> tuple[float, float] | None:
    """Where the red marker is in a frame (fractions of its size), or ``None``."""
    v = np.asarray(frame.v)
    ys, xs = np.nonzero(v > 200)
    if xs.size < 4:
        return None
    return (xs.mean() + 0.5) / v.shape[1], (ys.mean() + 0.5) / v.shape[0]


async def frame_of(runtime: Runtime, channel_id: str) -> Frame:
    """An output frame taken after the last command (three frames on: the one in flight
    may predate it)."""
    slot = runtime.channels[channel_id].slot
    loop = asyncio.get_running_loop()
    seq, frame = slot.seq, None
    async with asyncio.timeout(30.0):
        for _ in range(3):
            frame = None
            while frame is None:
                seq, frame = await loop.run_in_executor(None, slot.wait_newer, seq, 1.0)
    assert frame is not None
    return frame


def centred(frame: Frame) -> bool:
    found = marker(frame)
    return found is not None and all(abs(c - 0.5) < TOLERANCE for c in found)


async def test_eptz_channels_pan_tilt_zoom_over_the_panorama_at_their_size(
    tmp_path: Path,
) -> None:
    runtime = runtime_from_data(data(), data_dir=tmp_path)
    await runtime.start()
    try:
        panorama = await frame_of(runtime, "yard")
        first = await frame_of(runtime, "yard-eptz1")
        second = await frame_of(runtime, "yard-eptz2")
        width, height = panorama.width, panorama.height
        extent = extent_for(SIZE, width, height)
        assert (first.width, first.height) == (second.width, second.height) == SIZE
        # Each starts at the largest window of its shape inside its configured area: the
        # same pixels as the panorama cropped there (the scene is still).
        for frame, area in ((first, START), (second, {"x": 0.5, "y": 0.0, "w": 0.5, "h": 1.0})):
            expected = crop(panorama, fit_area(area, extent, 8.0), extent, SIZE)
            assert psnr(np.asarray(frame.y), np.asarray(expected.y)) > 35.0
        seen = marker(panorama)
        assert seen is not None
        # An absolute move puts the marker (where the panorama shows it) in the centre.
        await runtime.ptz_absolute("yard-eptz1", {"pan": seen[0], "tilt": seen[1], "zoom": 2.0})
        assert centred(await frame_of(runtime, "yard-eptz1"))
        await runtime.save_preset("yard-eptz1", 1, "Marker")
        # Away from it: the marker is out of view; the preset brings it back to the centre.
        await runtime.ptz_absolute("yard-eptz1", {"pan": 0.05, "tilt": 0.5, "zoom": 2.0})
        assert marker(await frame_of(runtime, "yard-eptz1")) is None
        await runtime.call_preset("yard-eptz1", 1)
        assert centred(await frame_of(runtime, "yard-eptz1"))
        # 3D positioning: a click where the marker shows off-centre centres it.
        off = seen[0] + 0.1 * extent[0], seen[1]
        await runtime.ptz_absolute("yard-eptz1", {"pan": off[0], "tilt": off[1], "zoom": 2.0})
        shown = marker(await frame_of(runtime, "yard-eptz1"))
        assert shown is not None and shown[0] < 0.5 - 0.1
        await runtime.position_3d("yard-eptz1", {"x": shown[0], "y": shown[1]})
        assert centred(await frame_of(runtime, "yard-eptz1"))
        # A patrol to the preset, and a recorded pattern replayed, end on the marker.
        await runtime.ptz_absolute("yard-eptz1", {"pan": 0.05, "tilt": 0.5, "zoom": 2.0})
        await runtime.set_patrol("yard-eptz1", 1, [{"preset": 1, "dwell": 30, "speed": 40}])
        await runtime.start_patrol("yard-eptz1", 1)
        assert centred(await frame_of(runtime, "yard-eptz1"))
        await runtime.stop_patrol("yard-eptz1")
        await runtime.ptz_absolute("yard-eptz1", {"pan": 0.95, "tilt": 0.5, "zoom": 3.0})
        await runtime.start_pattern_recording("yard-eptz1")
        await runtime.ptz_absolute("yard-eptz1", {"pan": seen[0], "tilt": seen[1]})
        await runtime.save_pattern("yard-eptz1", 1)
        await runtime.ptz_absolute("yard-eptz1", {"pan": 0.05, "tilt": 0.5})
        await runtime.run_pattern("yard-eptz1", 1)
        assert centred(await frame_of(runtime, "yard-eptz1"))
        # The other ePTZ channel did not move.
        assert runtime.ptz_status("yard-eptz2")["zoom"] == pytest.approx(
            fit_area({"x": 0.5, "y": 0.0, "w": 0.5, "h": 1.0}, extent, 8.0).zoom
        )
    finally:
        await runtime.stop()
    # After a restart the ePTZ channel has its presets, patrols and patterns.
    runtime = runtime_from_data(data(), data_dir=tmp_path)
    await runtime.start()
    try:
        status = runtime.ptz_status("yard-eptz1")
        assert [p["name"] for p in status["presets"]] == ["Marker"]
        assert [p["number"] for p in status["patrols"]] == [1]
        assert [p["number"] for p in status["patterns"]] == [1]
        await frame_of(runtime, "yard-eptz1")
        await runtime.call_preset("yard-eptz1", 1)
        assert centred(await frame_of(runtime, "yard-eptz1"))
    finally:
        await runtime.stop()


def test_an_eptz_channels_ptz_is_set_by_the_mode(registry: PluginRegistry) -> None:
    config = validate_config(data(), registry, SECTIONS)
    ptz = config.channel("yard-eptz2").ptz
    assert ptz["enabled"] and list(ptz["size"]) == list(SIZE)
    assert ptz["start"] == {"x": 0.5, "y": 0.0, "w": 0.5, "h": 1.0}
    assert not config.channel("yard").ptz["enabled"]
    # The user's zoom limit is kept; what the mode sets is refused with its key path.
    own = {"yard-eptz1": {"ptz": {"max_zoom": 4}}}
    assert validate_config(data(channels=own), registry, SECTIONS).channel("yard-eptz1").ptz[
        "max_zoom"
    ] == pytest.approx(4.0)
    bad = {"yard-eptz1": {"ptz": {"enabled": False, "size": [640, 360]}}}
    with pytest.raises(ConfigError) as info:
        validate_config(data(channels=bad), registry, SECTIONS)
    assert any(
        line.startswith("stitching[0].channels.yard-eptz1.ptz.enabled: set by the output mode")
        for line in info.value.errors
    ), info.value.errors
    with pytest.raises(ConfigError) as info:
        validate_config(data(eptz_size=[641, 360]), registry, SECTIONS)
    assert any(line.startswith("stitching[0].eptz_size") for line in info.value.errors)
