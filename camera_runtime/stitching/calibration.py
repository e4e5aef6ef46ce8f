"""A stitched device's calibration on disk, and running one: what the hub and the CLI share.

The calibration is the stitcher's own data (JSON) in ``<data folder>/stitching/<id>.json``,
written atomically, so it survives restarts: a device is calibrated once, not at every start.
A preview of the stitched picture is written beside it (``<id>.jpg``) for the user to judge.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2

from ..data_folder import private_folder, write_private
from ..exceptions import CalibrationError, SourceEndedError, SourceUnavailableError
from ..interfaces import Source, Stitcher
from ..interfaces.stages import Progress
from ..model import Frame
from ..registry import PluginRegistry

_LOGGER = logging.getLogger(__name__)

#: Reads a sensor may take to hand its first picture (an encoded stream starts at a keyframe).
_FIRST_FRAME_READS = 500


def folder(data_dir: Path) -> Path:
    return data_dir / "stitching"


def calibration_path(data_dir: Path, device_id: str) -> Path:
    return folder(data_dir) / f"{device_id}.json"


def preview_path(data_dir: Path, device_id: str) -> Path:
    return folder(data_dir) / f"{device_id}.jpg"


def build(device: Mapping[str, Any], registry: PluginRegistry) -> tuple[list[Source], Stitcher]:
    """The device's sensors (not yet open) and its stitcher, from validated options."""
    sensors = [
        registry.source(s["type"])({k: v for k, v in s.items() if k != "type"})
        for s in device["sensors"]
    ]
    spec = device["stitcher"]
    stitcher_cls = registry.get("stitcher", spec["type"])
    stitcher = stitcher_cls({k: v for k, v in spec.items() if k != "type"})
    assert isinstance(stitcher, Stitcher)
    return sensors, stitcher


def read_frame(source: Source) -> Frame:
    """The next picture of an open source, decoding packets when it hands packets."""
    if not source.PACKETS:
        return source.read()
    for _ in range(_FIRST_FRAME_READS):
        frames = source.decode(source.read_packet())
        if frames:
            return frames[-1]
    raise SourceUnavailableError(f"{source.describe()} gave no picture")


def load(data_dir: Path, device_id: str) -> dict[str, Any] | None:
    """The saved calibration, or ``None`` when there is none or it cannot be read."""
    path = calibration_path(data_dir, device_id)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        _LOGGER.warning("cannot read the calibration %s (%s): calibrating again", path, err)
        return None
    return data if isinstance(data, dict) else None


def save(data_dir: Path, device_id: str, calibration: Mapping[str, Any], preview: Frame) -> None:
    """Write the calibration and its preview picture; ``OSError`` when the disk refuses."""
    private_folder(folder(data_dir))
    stamped = {**calibration, "calibrated_at": time.time()}
    write_private(calibration_path(data_dir, device_id), json.dumps(stamped).encode())
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(preview.i420(), cv2.COLOR_YUV2BGR_I420))
    if ok:
        write_private(preview_path(data_dir, device_id), jpeg.tobytes())


def use_saved_or_calibrate(
    stitcher: Stitcher,
    frames: Sequence[Frame],
    data_dir: Path,
    device_id: str,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> bool:
    """Load the saved calibration when it fits the sensors, else calibrate and save; True
    when a new calibration was made. ``CalibrationError`` when calibrating fails."""
    sizes = [(frame.width, frame.height) for frame in frames]
    saved = None if force else load(data_dir, device_id)
    if saved is not None:
        try:
            stitcher.load(saved, sizes)
            return False
        except CalibrationError as err:
            _LOGGER.info("stitching %s: %s; calibrating again", device_id, err.message)
    calibration = stitcher.calibrate(frames, progress)
    try:
        save(data_dir, device_id, calibration, stitcher.stitch(frames))
    except OSError as err:
        _LOGGER.error("cannot save the calibration of %s: %s", device_id, err)
    return True


def calibrate_device(
    device: Mapping[str, Any],
    registry: PluginRegistry,
    data_dir: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Open the sensors, take one picture of each, calibrate and save (the CLI's
    ``calibrate``); returns the saved calibration."""
    sensors, stitcher = build(device, registry)
    try:
        frames = []
        for sensor in sensors:
            sensor.open()
            frames.append(read_frame(sensor))
    except (SourceUnavailableError, SourceEndedError) as err:
        raise CalibrationError(f"a sensor gave no picture: {err.message}") from err
    finally:
        for sensor in sensors:
            sensor.close()
    use_saved_or_calibrate(stitcher, frames, data_dir, device["id"], force=True, progress=progress)
    saved = load(data_dir, device["id"])
    if saved is None:
        raise CalibrationError(f"the calibration could not be saved in {folder(data_dir)}")
    return saved
