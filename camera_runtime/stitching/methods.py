"""The Runtime's stitching methods: the devices' calibration state, recalibration, preview."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ..config import RuntimeConfig
from ..exceptions import ChannelStoppedError, NotFoundError
from . import calibration
from .hub import StitchHub, devices, hub

#: Longest a recalibration asked through the API may take (features, matches, tables).
RECALIBRATE_TIMEOUT = 120.0


class StitchingMethods:
    """Mixed into ``Runtime``: what the faces ask about stitched devices."""

    config: RuntimeConfig
    data_dir: Path

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
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, done.wait, RECALIBRATE_TIMEOUT)
        return found.status()

    def stitching_preview(self, device_id: str) -> Path:
        """The preview JPEG the last calibration wrote."""
        self._hub(device_id)
        path = calibration.preview_path(self.data_dir, device_id)
        if not path.is_file():
            raise NotFoundError(f"{device_id!r} has no calibration preview yet", "not_found")
        return path
