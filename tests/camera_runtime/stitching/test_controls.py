"""A stitched device's declared controls on its first output channel: the output mode select
rebuilds the device's channels (validated first: a refused change changes nothing), the best
stitching distance number, and the calibrate button whose result the channel's status shows
(state, error words, time); all written back to the config."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from camera_runtime.exceptions import ConfigError, NotFoundError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import ChannelChange, ChannelUpdate
from camera_runtime.runtime import Runtime
from camera_runtime.stitching import calibration

from .test_stitching import AREA, sensor


def data(**extra: Any) -> dict[str, Any]:
    device = {
        "id": "yard",
        "sensors": [sensor(i) for i in range(4)],
        "output_mode": "panorama",
        **extra,
    }
    return {"zeroconf": {"enabled": False}, "stitching": [device]}


async def online(runtime: Runtime, channel_id: str) -> None:
    """Wait for the channel's first picture."""
    slot = runtime.channels[channel_id].slot
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(30.0):
        frame = None
        while frame is None:
            _seq, frame = await loop.run_in_executor(None, slot.wait_newer, slot.seq, 1.0)


def controls(runtime: Runtime, channel_id: str) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in runtime.channel_status(channel_id)["controls"]}


async def test_the_output_mode_select_rebuilds_the_channels_and_calibrate_reports(
    tmp_path: Path,
) -> None:
    runtime = runtime_from_data(data(), data_dir=tmp_path)
    changes: list[ChannelUpdate] = []
    runtime.subscribe_channels(changes.append)
    await runtime.start()
    try:
        await online(runtime, "yard")
        found = controls(runtime, "yard")
        mode = found["stitching_output_mode"]
        assert mode["kind"] == "select" and mode["value"] == "panorama"
        assert mode["options"] == ["panorama", "panorama_eptz", "original", "divided_panorama"]
        distance = found["stitching_distance"]
        assert (distance["min"], distance["max"], distance["value"]) == (1, 100, 10.0)
        assert found["stitching_calibrate"]["attributes"] == "stitching"
        status = runtime.channel_status("yard")["stitching"]
        assert status["calibration"] == "calibrated" and status["error"] == ""
        first = status["calibrated_at"]
        assert first is not None and first.endswith("+00:00")
        # The calibrate button calibrates again: a new time, no error.
        saved = calibration.load(tmp_path, "yard")
        assert saved is not None
        result = await runtime.press("yard", "stitching_calibrate")
        assert result["calibration_error"] == ""
        assert calibration.load(tmp_path, "yard")["calibrated_at"] > saved["calibrated_at"]  # type: ignore[index]
        assert runtime.channel_status("yard")["stitching"]["calibration"] == "calibrated"
        # The distance: written to the device, the channels rebuilt with it.
        await runtime.set_control("yard", "stitching_distance", 30)
        assert runtime.config_file.data["stitching"][0]["best_stitching_distance"] == 30
        assert controls(runtime, "yard")["stitching_distance"]["value"] == 30
        with pytest.raises(ConfigError, match="stitching_distance: expected a number from 1"):
            await runtime.set_control("yard", "stitching_distance", 500)
        # The original mode: one channel per sensor; the first fronts the device, without
        # the distance (dropped: that mode does not stitch) and calibration.
        changes.clear()
        await runtime.set_control("yard", "stitching_output_mode", "original")
        ids = [f"yard-sensor{i}" for i in range(1, 5)]
        assert runtime.channel_ids() == ids
        assert [(u.change, u.channel) for u in changes if u.change is not ChannelChange.CHANGED][
            :5
        ] == [(ChannelChange.REMOVED, "yard")] + [(ChannelChange.ADDED, i) for i in ids]
        entry = runtime.config_file.data["stitching"][0]
        assert entry["output_mode"] == "original" and "best_stitching_distance" not in entry
        found = controls(runtime, "yard-sensor1")
        assert found["stitching_output_mode"]["value"] == "original"
        assert "stitching_distance" not in found and "stitching_calibrate" not in found
        assert "stitching_output_mode" not in controls(runtime, "yard-sensor2")
        with pytest.raises(NotFoundError):
            await runtime.press("yard-sensor1", "stitching_calibrate")
        await online(runtime, "yard-sensor1")
        # Back to the panorama with ePTZ: the panorama and its ePTZ channels run.
        await runtime.set_control("yard-sensor1", "stitching_output_mode", "panorama_eptz")
        assert runtime.channel_ids() == ["yard", *(f"yard-eptz{i}" for i in range(1, 5))]
        await online(runtime, "yard-eptz1")
    finally:
        await runtime.stop()


async def test_a_mode_the_config_cannot_have_is_refused_and_nothing_changes(
    tmp_path: Path,
) -> None:
    smart = {"yard": {"detectors": {"intrusion": {"rules": [{"region": AREA}]}}}}
    runtime = runtime_from_data(data(channels=smart), data_dir=tmp_path)
    await runtime.start()
    try:
        with pytest.raises(ConfigError) as info:
            await runtime.set_control("yard", "stitching_output_mode", "panorama_eptz")
        assert any(
            line.startswith(
                "stitching[0].channels.yard.detectors.intrusion: smart events are supported "
                "only in the panorama output mode"
            )
            for line in info.value.errors
        ), info.value.errors
        with pytest.raises(ConfigError, match="stitching_output_mode: expected one of"):
            await runtime.set_control("yard", "stitching_output_mode", "fisheye")
        assert runtime.channel_ids() == ["yard"]
        assert runtime.config_file.data["stitching"][0]["output_mode"] == "panorama"
        await online(runtime, "yard")
    finally:
        await runtime.stop()
