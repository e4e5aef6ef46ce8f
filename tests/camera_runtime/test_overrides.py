"""Run-time settings (arming, detector switches and options) survive a restart; the channel bus
reports changes and running channels' stats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from camera_runtime import channels as channels_module
from camera_runtime.exceptions import ConfigError, NotFoundError, StorageError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import ChannelChange, ChannelUpdate
from camera_runtime.runtime import Runtime

SYNTHETIC = {"type": "synthetic", "width": 160, "height": 120, "fps": 25}


def config(**motion: Any) -> dict[str, Any]:
    return {
        "zeroconf": {"enabled": False},
        "channels": [{"id": "cam", "source": SYNTHETIC, "detectors": {"motion": motion}}],
    }


@asynccontextmanager
async def running(data_dir: Path, data: dict[str, Any]) -> AsyncIterator[Runtime]:
    runtime = runtime_from_data(data, data_dir=data_dir)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_switches_and_options_survive_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        await runtime.set_armed("cam", False)
        await runtime.set_detector("cam", "motion", enabled=False, options={"sensitivity": 75})
    async with running(tmp_path, config(hold_time=2)) as runtime:
        channel = runtime.channels["cam"]
        assert channel.armed is False
        motion = channel.detectors["motion"]
        assert motion.enabled is False
        # The stored override (sensitivity) and the edited config (hold time) both apply.
        assert (motion.options["sensitivity"], motion.options["hold_time"]) == (75, 2.0)
    stored = json.loads((tmp_path / "overrides.json").read_text())
    assert stored == {
        "channels": {
            "cam": {
                "armed": False,
                "detectors": {"motion": {"enabled": False, "options": {"sensitivity": 75}}},
            }
        }
    }


async def test_an_override_the_config_no_longer_accepts_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stored = {
        "channels": {
            "cam": {"detectors": {"motion": {"enabled": False, "options": {"sensitivity": 500}}}},
            "gone": {"armed": False},
        }
    }
    (tmp_path / "overrides.json").write_text(json.dumps(stored))
    async with running(tmp_path, config(sensitivity=30)) as runtime:
        motion = runtime.channels["cam"].detectors["motion"]
        # The bad options are dropped; the switch, still valid, applies.
        assert (motion.enabled, motion.options["sensitivity"]) == (False, 30)
    assert "stored motion options dropped" in caplog.text
    assert "sensitivity: value must be at most 100" in caplog.text


async def test_unreadable_overrides_start_from_the_config(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "overrides.json").write_text("{not json")
    async with running(tmp_path, config()) as runtime:
        assert runtime.channels["cam"].armed is True
    assert "overrides.json is unreadable" in caplog.text


async def test_bad_commands_raise_and_change_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, config()) as runtime:
        with pytest.raises(NotFoundError):
            await runtime.set_armed("nope", False)
        with pytest.raises(NotFoundError):
            await runtime.set_detector("cam", "line_crossing", enabled=False)
        with pytest.raises(ConfigError) as err:
            await runtime.set_detector(
                "cam", "motion", enabled=False, options={"sensitivity": "high"}
            )
        assert err.value.errors == [
            "channels.cam.detectors.motion.sensitivity: expected a whole number"
        ], err.value.errors
        assert runtime.channels["cam"].detectors["motion"].enabled is True
    assert not (tmp_path / "overrides.json").exists()


async def test_channel_bus_reports_changes_and_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channels_module, "STATS_INTERVAL", 0.05)
    runtime = runtime_from_data(config(), data_dir=tmp_path)
    updates: list[ChannelUpdate] = []
    online = asyncio.Event()
    stats = asyncio.Event()
    disarmed = asyncio.Event()

    def record(update: ChannelUpdate) -> None:
        updates.append(update)
        status = update.status or {}
        if status.get("armed") is False:
            disarmed.set()
        if status.get("state") == "online":
            if online.is_set() and status.get("frames", 0) > 0:
                stats.set()
            online.set()

    runtime.channel_bus.subscribe(record)
    await runtime.start()
    try:
        async with asyncio.timeout(10):
            await online.wait()
            await stats.wait()
        await runtime.set_armed("cam", False)
        async with asyncio.timeout(10):
            await disarmed.wait()
    finally:
        await runtime.stop()
    assert all(u.change is ChannelChange.CHANGED and u.channel == "cam" for u in updates)


async def test_a_setting_that_cannot_be_saved_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    """A switch that would be lost at the next restart is not switched: the write comes
    first, and its failure is the answer (``StorageError``; the API's 507)."""
    async with running(tmp_path, config()) as runtime:
        saved = tmp_path / "overrides.json"
        saved.mkdir()  # os.replace onto a folder fails, as a full or read-only disk would
        with pytest.raises(StorageError, match="cannot save run-time settings"):
            await runtime.set_armed("cam", False)
        with pytest.raises(StorageError):
            await runtime.set_detector("cam", "motion", options={"sensitivity": 10})
        with pytest.raises(StorageError):
            await runtime.set_control("cam", "motion_detection", False)
        channel = runtime.channels["cam"]
        assert channel.armed is True
        assert channel.detectors["motion"].enabled is True
        assert channel.detectors["motion"].options["sensitivity"] == 50
        saved.rmdir()
        await runtime.set_armed("cam", False)  # writable again: it works
        assert channel.armed is False
        assert json.loads(saved.read_text())["channels"]["cam"]["armed"] is False


def stages_config(**mask: Any) -> dict[str, Any]:
    areas = [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]]
    return {
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam",
                "source": SYNTHETIC,
                "image": {"privacy_mask": {"areas": areas, **mask}, "mirror": {}},
            }
        ],
    }


async def test_image_stage_switches_and_options_survive_a_restart(tmp_path: Path) -> None:
    async with running(tmp_path, stages_config()) as runtime:
        await runtime.set_control("cam", "privacy_mask", False)
        await runtime.set_stage("cam", "mirror", options={"mode": "up_down"})
        with pytest.raises(ConfigError) as caught:
            await runtime.set_stage("cam", "mirror", options={"mode": "sideways"})
        assert caught.value.errors == [
            "channels.cam.image.mirror.mode: value must be one of ['center', 'left_right', "
            "'off', 'up_down']"
        ]
        with pytest.raises(NotFoundError):
            await runtime.set_stage("cam", "rotate", enabled=True)
    async with running(tmp_path, stages_config(color="grey")) as runtime:
        stages = runtime.channels["cam"].stages
        assert stages["privacy_mask"].enabled is False
        assert stages["privacy_mask"].options["color"] == "grey"  # the edited config applies
        assert stages["mirror"].options == {"mode": "up_down"}
    stored = json.loads((tmp_path / "overrides.json").read_text())
    assert stored["channels"]["cam"]["image"] == {
        "privacy_mask": {"enabled": False},
        "mirror": {"options": {"mode": "up_down"}},
    }
