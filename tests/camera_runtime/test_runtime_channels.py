"""Channels added and removed at run time: one change at a time, the CLI's overlay kept out of
the file, the config file rewritten only with what the user wrote."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from camera_runtime.config_file import ConfigFile
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data, runtime_from_file

SYNTHETIC = {"type": "synthetic", "width": 160, "height": 120, "fps": 10}


def base() -> dict[str, Any]:
    return {"zeroconf": {"enabled": False}, "channels": [{"id": "cam", "source": SYNTHETIC}]}


async def test_concurrent_changes_are_serialised(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(base()))
    runtime = runtime_from_file(path, data_dir=tmp_path / "data")
    await runtime.start()
    try:
        results = await asyncio.gather(
            runtime.add_channel({"id": "a", "source": SYNTHETIC}),
            runtime.add_channel({"id": "b", "source": SYNTHETIC}),
            runtime.add_channel({"id": "a", "source": SYNTHETIC}),
            return_exceptions=True,
        )
        assert [type(r).__name__ for r in results] == ["dict", "dict", "ConfigError"]
        assert [r["id"] for r in results[:2]] == ["a", "b"]  # each added channel's status
        assert sorted(runtime.channels) == ["a", "b", "cam"]
        assert [c.id for c in runtime.config.channels] == ["cam", "a", "b"]
        written = yaml.safe_load(path.read_text())
        assert [c["id"] for c in written["channels"]] == ["cam", "a", "b"]
        removed = await asyncio.gather(
            runtime.remove_channel("a"), runtime.remove_channel("a"), return_exceptions=True
        )
        assert removed[0] is None and type(removed[1]).__name__ == "NotFoundError"
        assert sorted(runtime.channels) == ["b", "cam"]
    finally:
        await runtime.stop()
    assert not any(t.name.startswith("channel-") for t in threading.enumerate())


async def test_the_overlay_applies_but_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(base()))
    data = {**base(), "mqtt": {"host": "127.0.0.1", "port": 1, "discovery": False}}
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    runtime.config_file = ConfigFile(base(), path)
    runtime.config_file.overlay = {"mqtt": data["mqtt"]}
    await runtime.start()
    try:
        await runtime.add_channel({"id": "b", "source": SYNTHETIC})
        mqtt = runtime.config.section("mqtt")
        assert mqtt is not None and mqtt["port"] == 1
        assert "mqtt" not in yaml.safe_load(path.read_text())
    finally:
        await runtime.stop()


async def test_an_invalid_channel_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(base()))
    runtime = runtime_from_file(path, data_dir=tmp_path / "data")
    await runtime.start()
    try:
        before = path.read_text()
        with pytest.raises(ConfigError):
            await runtime.add_channel({"id": "x", "source": {**SYNTHETIC, "fps": -1}})
        assert path.read_text() == before and sorted(runtime.channels) == ["cam"]
        assert not (tmp_path / "config.yaml.bak").exists()
    finally:
        await runtime.stop()
