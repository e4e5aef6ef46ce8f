"""The v4l2 source without a webcam: its options, and a clear error when the device is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol

from camera_runtime.exceptions import SourceUnavailableError
from camera_runtime_plugins.sources.v4l2 import V4l2Source


def make(**options: object) -> V4l2Source:
    return V4l2Source(V4l2Source.CONFIG_SCHEMA(options))


def test_schema_defaults_and_driver_options() -> None:
    assert V4l2Source.CONFIG_SCHEMA({}) == {"device": "/dev/video0"}
    source = make(device="/dev/video2", width=1280, height=720, fps=30, input_format="mjpeg")
    assert source.ffmpeg_options() == {
        "video_size": "1280x720",
        "framerate": "30",
        "input_format": "mjpeg",
    }
    assert make().ffmpeg_options() == {}  # the driver's current mode
    assert source.describe() == "v4l2 /dev/video2"


@pytest.mark.parametrize(
    "options",
    [
        {"width": 1280},  # a size needs both
        {"height": 720},
        {"fps": 0},
        {"input_format": "MJPEG; rm -rf"},
        {"device": ""},
        {"resolution": "720p"},
    ],
)
def test_schema_rejects(options: dict[str, object]) -> None:
    with pytest.raises(vol.Invalid):
        V4l2Source.CONFIG_SCHEMA(options)


def test_missing_device_is_unavailable_with_a_clear_message(tmp_path: Path) -> None:
    source = make(device=str(tmp_path / "video9"))
    with pytest.raises(SourceUnavailableError, match=r"video9: no such device"):
        source.open()
    with pytest.raises(SourceUnavailableError, match="not open"):
        source.read()


def test_a_file_that_is_no_video_device_is_unavailable(tmp_path: Path) -> None:
    not_a_device = tmp_path / "video0"
    not_a_device.write_bytes(b"\0" * 64)
    with pytest.raises(SourceUnavailableError, match=r"cannot open v4l2 .*video0: \w+"):
        make(device=str(not_a_device)).open()
