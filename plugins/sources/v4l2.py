"""The `v4l2` source: a USB webcam (or capture card) on Linux, through FFmpeg's v4l2 input.

Size, frame rate and the webcam's wire format (``input_format``: mjpeg, yuyv422, h264...) are
asked of the driver; left out, the driver's current mode is used. MJPEG and YUYV pictures are
converted to yuv420p once per frame by the shared decode path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import SourceUnavailableError
from camera_runtime.interfaces import Source

from ._av import AvSource, OpenSpec

#: How long the driver may take to start streaming, and to deliver each frame after that.
OPEN_TIMEOUT = 10.0
READ_TIMEOUT = 5.0


class V4l2Source(AvSource):
    """A V4L2 device; unplugging it raises ``SourceUnavailableError`` like a network drop."""

    kind: ClassVar[str] = "v4l2"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("device", default="/dev/video0"): vol.All(str, vol.Length(min=1)),
            # Width and height go together: a driver mode is a size.
            vol.Inclusive("width", "size"): vol.All(vol.Coerce(int), vol.Range(min=16, max=7680)),
            vol.Inclusive("height", "size"): vol.All(vol.Coerce(int), vol.Range(min=16, max=4320)),
            vol.Optional("fps"): vol.All(vol.Coerce(float), vol.Range(min=1, max=240)),
            # FFmpeg's name of the wire format: a pixel format or a codec.
            vol.Optional("input_format"): vol.All(str, vol.Match(r"^[a-z0-9_]+$")),
        }
    )

    @property
    def device(self) -> str:
        return str(self.options["device"])

    def describe(self) -> str:
        return f"v4l2 {self.device}"

    def ffmpeg_options(self) -> dict[str, str]:
        """The v4l2 demuxer's options for the requested mode."""
        options = self.options
        result: dict[str, str] = {}
        if "width" in options:
            result["video_size"] = f"{options['width']}x{options['height']}"
        if "fps" in options:
            result["framerate"] = f"{options['fps']:g}"
        if "input_format" in options:
            result["input_format"] = options["input_format"]
        return result

    def open_spec(self) -> OpenSpec:
        if not os.path.exists(self.device):
            raise SourceUnavailableError(
                f"cannot open v4l2 device {self.device}: no such device (is the webcam plugged in?)"
            )
        return OpenSpec(
            target=self.device,
            label=self.describe(),
            format="v4l2",
            options=self.ffmpeg_options(),
            timeout=(OPEN_TIMEOUT, READ_TIMEOUT),
        )


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the `v4l2` source."""
    register(V4l2Source)
