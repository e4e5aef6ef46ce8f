"""The saved presets, patrols and patterns of every ePTZ channel, kept in the data folder
(``ptz.json``) so they survive a restart.

A change is written before it applies (as ``overrides.py`` does): when the file cannot be
written the change is refused with ``StorageError`` and nothing changes, on disk or in memory.
An entry the file holds that no longer reads (edited by hand, written by a newer version) is
dropped at load with a warning; the rest stays.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import voluptuous as vol

from ..data_folder import read_channels_file, write_channels_file
from .motion import Move, PatrolPoint, Recorded, Step
from .settings import NAME, PATROL, PATROL_SCHEMA, PATTERN, PRESET
from .window import Window

_LOGGER = logging.getLogger(__name__)

FILENAME = "ptz.json"

#: ``{channel id: {"presets": {"1": {...}}, "patrols": {"1": [...]}, "patterns": {"1": {...}}}}``
Stored = dict[str, dict[str, dict[str, Any]]]

_WINDOW = vol.Schema(
    {
        vol.Required("pan"): vol.All(vol.Any(int, float), vol.Range(min=0, max=1)),
        vol.Required("tilt"): vol.All(vol.Any(int, float), vol.Range(min=0, max=1)),
        vol.Required("zoom"): vol.All(vol.Any(int, float), vol.Range(min=1, max=16)),
    }
)
_PRESET = _WINDOW.extend({vol.Required("name"): NAME})
_MOVE = vol.Schema(
    {
        vol.Required(axis): vol.All(vol.Any(int, float), vol.Range(min=-1, max=1))
        for axis in ("pan", "tilt", "zoom")
    }
).extend({vol.Required("speed"): vol.All(int, vol.Range(min=1, max=7))})
_PATTERN = vol.Schema(
    {
        vol.Required("origin"): _WINDOW,
        vol.Required("length"): vol.All(vol.Any(int, float), vol.Range(min=0)),
        vol.Required("steps"): [
            vol.Any(
                vol.ExactSequence([vol.Any(int, float), "move", _MOVE]),
                vol.ExactSequence([vol.Any(int, float), "goto", _WINDOW]),
            )
        ],
    }
)
_BLOCKS: dict[str, tuple[Any, Any]] = {
    "presets": (PRESET, _PRESET),
    "patrols": (PATROL, PATROL_SCHEMA),
    "patterns": (PATTERN, _PATTERN),
}


def step_as_data(step: Step) -> list[Any]:
    t, what = step
    if isinstance(what, Move):
        data = {"pan": what.pan, "tilt": what.tilt, "zoom": what.zoom, "speed": what.speed}
        return [round(t, 4), "move", data]
    return [round(t, 4), "goto", what.as_dict()]


def pattern_as_data(pattern: Recorded) -> dict[str, Any]:
    return {
        "origin": pattern.origin.as_dict(),
        "length": round(pattern.length, 4),
        "steps": [step_as_data(step) for step in pattern.steps],
    }


def pattern_from_data(data: dict[str, Any]) -> Recorded:
    steps: list[Step] = []
    for t, kind, what in data["steps"]:
        step = Move(**what) if kind == "move" else Window.from_dict(what)
        steps.append((float(t), step))
    return Recorded(Window.from_dict(data["origin"]), tuple(steps), float(data["length"]))


def patrol_points(points: list[dict[str, Any]], presets: dict[str, Any]) -> list[PatrolPoint]:
    """A stored patrol's points as the window runs them (every preset must exist)."""
    return [
        PatrolPoint(Window.from_dict(presets[str(p["preset"])]), float(p["dwell"]), int(p["speed"]))
        for p in points
    ]


class PtzBook:
    """Every channel's presets, patrols and patterns, read from ``ptz.json`` at start."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILENAME
        self.channels: Stored = {}
        self._lock = asyncio.Lock()

    def of(self, channel_id: str) -> dict[str, dict[str, Any]]:
        """One channel's blocks (empty ones when it has saved nothing); read-only."""
        found = self.channels.get(channel_id, {})
        return {block: found.get(block, {}) for block in _BLOCKS}

    def load(self) -> None:
        """Read the file (blocking); what does not read is dropped with a warning."""
        lost = "no presets, patrols or patterns"
        for channel_id, blocks in read_channels_file(self.path, lost).items():
            self.channels[channel_id] = self._read_channel(channel_id, blocks)

    def _read_channel(self, channel_id: str, blocks: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for block, (number, schema) in _BLOCKS.items():
            entries = blocks.get(block)
            for key, value in (entries if isinstance(entries, dict) else {}).items():
                try:
                    number(int(key))
                    out.setdefault(block, {})[str(int(key))] = schema(value)
                except (ValueError, vol.Invalid) as err:
                    _LOGGER.warning(
                        "%s: %s %s in %s dropped: %s", channel_id, block, key, FILENAME, err
                    )
        return out

    def _write(self, channels: Stored) -> None:
        write_channels_file(self.path, channels, "presets, patrols and patterns")

    async def forget(self, channel_id: str, writer: Executor) -> None:
        """Drop a removed channel's presets, patrols and patterns (a new channel with its id
        starts with none)."""
        async with self._lock:
            if channel_id not in self.channels:
                return
            updated = {k: v for k, v in self.channels.items() if k != channel_id}
            await asyncio.get_running_loop().run_in_executor(writer, self._write, updated)
            self.channels = updated

    async def update(
        self,
        channel_id: str,
        change: Callable[[dict[str, dict[str, Any]]], None],
        writer: Executor,
    ) -> None:
        """Make ``change`` to a copy of one channel's blocks, write the file, then keep it."""
        async with self._lock:
            updated = copy.deepcopy(self.channels)
            blocks = updated.setdefault(channel_id, {})
            for block in _BLOCKS:
                blocks.setdefault(block, {})
            change(blocks)
            await asyncio.get_running_loop().run_in_executor(writer, self._write, updated)
            self.channels = updated


__all__ = [
    "FILENAME",
    "PtzBook",
    "patrol_points",
    "pattern_as_data",
    "pattern_from_data",
]
