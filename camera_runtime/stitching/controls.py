"""A stitched device's controls, declared on its first output channel (capabilities.py): every
face builds its entities and commands from these, so the output mode, the best stitching
distance and calibration reach the HTTP API, MQTT (with Home Assistant discovery) and Home
Assistant without any face naming them.

- ``stitching_output_mode``, a select of the manual's output modes; choosing one validates the
  changed config and rebuilds the device's channels (``Runtime.set_stitching``);
- ``stitching_distance``, a number: the best stitching distance (not in the original mode,
  which stitches nothing: manual ch. 10);
- ``stitching_calibrate``, a button that calibrates again; its entity shows the channel
  status's ``stitching`` (the ``calibration`` state, ``error`` and ``calibrated_at``) as
  attributes.

The first output channel fronts the device: ``<id>`` in the panorama modes, ``<id>-view1`` in
the divided panorama, ``<id>-sensor1`` in the original mode.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ..capabilities import Control, button, number, select
from ..exceptions import SourceUnavailableError
from .hub import hub
from .modes import DEVICE_SCHEMA, output_channels

#: The extension point name the channel's controls carry for the device's own.
POINT = "stitching"
MODE_KEY = "stitching_output_mode"
DISTANCE_KEY = "stitching_distance"
CALIBRATE_KEY = "stitching_calibrate"
#: What each control's ``sets`` names: the device key it changes, or the command.
OUTPUT_MODE, DISTANCE, CALIBRATE = "output_mode", "best_stitching_distance", "calibrate"

MODE_CONTROL = select(
    MODE_KEY, "Stitching output mode", OUTPUT_MODE, DEVICE_SCHEMA, icon="mdi:panorama-variant"
)
DISTANCE_CONTROL = number(
    DISTANCE_KEY,
    "Best stitching distance",
    DISTANCE,
    DEVICE_SCHEMA,
    step=0.5,
    unit="m",
    icon="mdi:arrow-expand-horizontal",
)
CALIBRATE_CONTROL = button(
    CALIBRATE_KEY, "Calibrate stitching", CALIBRATE, icon="mdi:panorama", attributes=POINT
)

#: The calibration's states, as the status and the button's attributes show them.
CALIBRATED, CALIBRATING, FAILED, NOT_CALIBRATED = (
    "calibrated",
    "calibrating",
    "failed",
    "not_calibrated",
)


def device_of(given: Mapping[str, Any]) -> dict[str, Any]:
    """A ``stitching:`` entry as validated (defaults filled in); it was valid when adopted."""
    return dict(DEVICE_SCHEMA(dict(given)))


def fronts(entries: Any) -> dict[str, dict[str, Any]]:
    """The device each first output channel fronts, by channel id, from the config's
    ``stitching`` entries."""
    found: dict[str, dict[str, Any]] = {}
    for given in entries if isinstance(entries, list) else []:
        device = device_of(given)
        found[output_channels(device)[0][0]] = device
    return found


def channel_ids(given: Mapping[str, Any]) -> list[str]:
    """Every channel a ``stitching:`` entry's output mode makes."""
    return [ident for ident, _ in output_channels(device_of(given))]


def _time(stamp: Any) -> str | None:
    if not isinstance(stamp, int | float):
        return None
    moment = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
    return moment.isoformat(timespec="milliseconds")


class StitchingFace:
    """The controls and status a stitched device adds to its first output channel (a
    ``channel.DeviceFace``). The original mode stitches nothing: no distance, no calibration."""

    point = POINT

    def __init__(self, device: Mapping[str, Any], distance: float | None) -> None:
        self.device = device
        self.owner: str = device["id"]
        self.stitched = device["output_mode"] != "original"
        #: The distance in force: the device's, else its stitcher's default.
        self.distance = distance

    def controls(self) -> list[tuple[Control, Any]]:
        out: list[tuple[Control, Any]] = [(MODE_CONTROL, self.device["output_mode"])]
        if self.stitched:
            out += [(DISTANCE_CONTROL, self.distance), (CALIBRATE_CONTROL, None)]
        return out

    def status(self) -> dict[str, Any]:
        """The device's mode and distance, and the calibration's state (``calibration``; not
        ``state``, which Home Assistant keeps for the entity's own), the words of its last
        failure (``""``: none) and the time of the saved calibration (ISO 8601, UTC)."""
        out: dict[str, Any] = {
            "id": self.owner,
            "output_mode": self.device["output_mode"],
            "best_stitching_distance": self.distance,
        }
        if not self.stitched:
            return out
        try:
            found = hub(self.owner)
        except SourceUnavailableError:  # the runtime is starting or stopping
            return {**out, "calibration": NOT_CALIBRATED, "error": "", "calibrated_at": None}
        status = found.status()
        error = status["calibration_error"] or status["error"]
        if status["recalibrating"]:
            state = CALIBRATING
        elif error:
            state = FAILED
        else:
            state = CALIBRATED if status["calibrated"] else NOT_CALIBRATED
        stamp = _time(status["calibrated_at"])
        return {**out, "calibration": state, "error": error, "calibrated_at": stamp}


__all__ = [
    "CALIBRATE",
    "CALIBRATE_KEY",
    "DISTANCE",
    "DISTANCE_KEY",
    "MODE_KEY",
    "OUTPUT_MODE",
    "POINT",
    "StitchingFace",
    "channel_ids",
    "fronts",
]
