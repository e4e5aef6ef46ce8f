"""``camera-runtime calibrate``: calibrate a stitched device from the terminal, with a progress bar.

It opens the device's sensors, takes one picture of each, calibrates, saves the calibration in
the data folder (where the runtime loads it at its next start) and writes a preview picture of
the panorama. A failure is explained in words a user can act on (the stitcher's
``CalibrationError``), and the exit status is 1.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from ..config import RuntimeConfig
from ..exceptions import CalibrationError, ConfigError
from ..registry import PluginRegistry
from . import calibration
from .hub import devices

_BAR = 30


class ProgressBar:
    """Draws ``[#####-----]  50% what`` on one terminal line (one line per step otherwise)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()

    def __call__(self, share: float, what: str) -> None:
        done = round(share * _BAR)
        line = f"[{'#' * done}{'-' * (_BAR - done)}] {share * 100:3.0f}% {what}"
        if self._tty:
            self._out.write(f"\r\x1b[K{line}")
            if share >= 1.0:
                self._out.write("\n")
        else:
            self._out.write(line + "\n")
        self._out.flush()


def choose(config: RuntimeConfig, device_id: str | None) -> Mapping[str, Any]:
    """The stitched device to calibrate: ``device_id``, or the only one the config has."""
    found = devices(config.channels)
    if not found:
        modes = [d.get("output_mode") for d in config.raw.get("stitching") or []]
        hint = " (the original output mode stitches nothing)" if "original" in modes else ""
        raise ConfigError("nothing to calibrate", [f"stitching: no stitched device{hint}"])
    if device_id is None:
        if len(found) > 1:
            raise ConfigError(
                "which device?", [f"stitching: choose one with --device: {', '.join(found)}"]
            )
        return next(iter(found.values()))
    if device_id not in found:
        raise ConfigError(
            "no such device", [f"stitching: no stitched device {device_id!r} ({', '.join(found)})"]
        )
    return found[device_id]


def run(
    config: RuntimeConfig,
    registry: PluginRegistry,
    data_dir: Path,
    device_id: str | None,
    out: TextIO | None = None,
) -> int:
    """Calibrate and report (on ``out``, standard output by default); 0 when saved, 1 when
    the calibration failed."""
    out = out or sys.stdout
    device = choose(config, device_id)
    print(f"calibrating {device['id']}: {len(device['sensors'])} sensors", file=out)
    try:
        saved = calibration.calibrate_device(device, registry, data_dir, ProgressBar(out))
    except CalibrationError as err:
        print(f"\ncalibration failed: {err.message}", file=out)
        return 1
    width, height = saved["canvas"]
    matches = ", ".join(str(n) for n in saved.get("matches", []))
    print(f"panorama {width}x{height}; matching features per seam: {matches}", file=out)
    print(f"saved {calibration.calibration_path(data_dir, device['id'])}", file=out)
    print(f"preview {calibration.preview_path(data_dir, device['id'])}", file=out)
    return 0
