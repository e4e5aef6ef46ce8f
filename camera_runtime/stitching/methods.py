"""The Runtime's stitching methods: the devices' calibration state, recalibration, preview."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from ..channel import BoundControl, Channel
from ..channels import Channels
from ..config import RuntimeConfig
from ..exceptions import ChannelStoppedError, NotFoundError
from . import calibration
from .controls import CALIBRATE, DISTANCE, StitchingFace, fronts
from .hub import StitchHub, devices, hub

#: Longest a recalibration asked through the API may take (features, matches, tables).
RECALIBRATE_TIMEOUT = 120.0


class StitchingMethods:
    """Mixed into ``Runtime``: what the faces ask about stitched devices, and their
    controls."""

    config: RuntimeConfig
    data_dir: Path
    channels: Channels

    #: The Runtime's (it rebuilds the device's channels).
    set_stitching: Callable[[str, Mapping[str, Any]], Awaitable[list[str]]]

    def _stitch_prepare(self, channel: Channel) -> None:
        """Give the first output channel of a stitched device the device's controls."""
        device = fronts(self.config.raw.get("stitching")).get(channel.id)
        if device is None:
            return
        distance = device.get(DISTANCE)
        if distance is None and device["output_mode"] != "original":
            distance = channel.config.source_options["device"]["stitcher"].get(DISTANCE)
        channel.device_face = StitchingFace(device, distance)

    def _front(self, device_id: str) -> Channel | None:
        """The channel that fronts the device (its controls and calibration state)."""
        for channel in self.channels.values():
            face = channel.device_face
            if face is not None and face.owner == device_id:
                return channel
        return None

    async def stitching_control(self, bound: BoundControl, value: Any) -> dict[str, Any]:
        """Run one of a stitched device's controls (``controls.py``): a new output mode or
        distance (the channels are rebuilt), or the calibrate button (``value`` ``None``)."""
        device_id = bound.owner
        assert device_id is not None
        if bound.control.sets == CALIBRATE:
            return await self.recalibrate(device_id)
        ids = await self.set_stitching(device_id, {bound.control.sets: bound.control.parse(value)})
        return {"channels": ids}

    def _hub(self, device_id: str) -> StitchHub:
        if device_id not in devices(self.config.channels):
            raise NotFoundError(f"no stitched device {device_id!r}", "device_not_found")
        return hub(device_id)

    def stitching(self) -> list[dict[str, Any]]:
        """Every stitched device: output mode, channels, calibration state."""
        result = []
        for device_id in devices(self.config.channels):
            status = self._hub(device_id).status()
            status["channels"] = [
                c.id
                for c in self.config.channels
                if c.source_type == "stitched" and c.source_options["device"]["id"] == device_id
            ]
            result.append(status)
        return result

    async def recalibrate(self, device_id: str) -> dict[str, Any]:
        """Calibrate the device again from its next pictures; returns its status once done
        (``calibration_error`` says why it failed; the old calibration then stays)."""
        found = self._hub(device_id)
        if not found.running:
            raise ChannelStoppedError(
                f"the channels of {device_id!r} are stopped: no pictures to calibrate from"
            )
        done = found.recalibrate()
        front = self._front(device_id)
        if front is not None:
            front.notify()  # calibrating
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, done.wait, RECALIBRATE_TIMEOUT)
        if front is not None:
            front.notify()  # the result: state, error words, time
        return found.status()

    def stitching_preview(self, device_id: str) -> Path:
        """The preview JPEG the last calibration wrote."""
        self._hub(device_id)
        path = calibration.preview_path(self.data_dir, device_id)
        if not path.is_file():
            raise NotFoundError(f"{device_id!r} has no calibration preview yet", "not_found")
        return path
