"""The ePTZ controls a channel declares (capabilities.py): every face builds its entities and
commands from these, so presets, patrols and patterns reach the HTTP API, MQTT (with Home
Assistant discovery) and Home Assistant without any face naming them.

- ``ptz_preset``, a select of the saved presets (``"3: Gate"``); choosing one calls it, and
  its value is the preset the window was last sent to (none once it moved away);
- ``ptz_patrol_<n>``, a button per saved patrol, which starts it;
- ``ptz_pattern_<n>``, a button per recorded pattern, which runs it;
- ``ptz_stop``, a button that stops a running patrol or pattern.

A select needs choices, so ``ptz_preset`` appears with the first saved preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..capabilities import Control, ControlKind, button
from ..exceptions import ConfigError

#: The extension point name the channel's controls carry for the ePTZ's own.
POINT = "ptz"
PRESET_KEY = "ptz_preset"
STOP_KEY = "ptz_stop"
#: What each control's ``sets`` names: the Runtime's method that runs it.
CALL_PRESET, START_PATROL, RUN_PATTERN, STOP = "call_preset", "start_patrol", "run_pattern", "stop"


def preset_label(number: int | str, name: str) -> str:
    return f"{number}: {name}"


def declared(
    blocks: Mapping[str, Mapping[str, Any]], current_preset: int | None
) -> list[tuple[Control, Any]]:
    """``(control, value)`` for one ePTZ channel's saved presets, patrols and patterns."""
    presets = blocks["presets"]
    out: list[tuple[Control, Any]] = []
    if presets:
        numbers = sorted(presets, key=int)
        choices = tuple(preset_label(n, presets[n]["name"]) for n in numbers)
        current = str(current_preset)
        value = preset_label(current, presets[current]["name"]) if current in presets else None
        select = Control(
            key=PRESET_KEY,
            kind=ControlKind.SELECT,
            label="Preset",
            sets=CALL_PRESET,
            choices=choices,
            icon="mdi:crosshairs-gps",
        )
        out.append((select, value))
    for n in sorted(blocks["patrols"], key=int):
        out.append(
            (
                button(
                    f"ptz_patrol_{n}", f"Start patrol {n}", START_PATROL, icon="mdi:map-marker-path"
                ),
                None,
            )
        )
    for n in sorted(blocks["patterns"], key=int):
        out.append(
            (button(f"ptz_pattern_{n}", f"Run pattern {n}", RUN_PATTERN, icon="mdi:gesture"), None)
        )
    if blocks["patrols"] or blocks["patterns"]:
        out.append((button(STOP_KEY, "Stop patrol or pattern", STOP, icon="mdi:stop"), None))
    return out


def number_of(key: str) -> int:
    """The patrol's or pattern's number in a button's key (``ptz_patrol_3`` -> 3)."""
    return int(key.rsplit("_", 1)[1])


def preset_of(option: Any, presets: Mapping[str, Any]) -> int:
    """The preset number an option of ``ptz_preset`` names (``"3: Gate"``, or just ``3``)."""
    text = str(option).split(":", 1)[0].strip()
    if not text.isdigit() or text not in presets:
        raise ConfigError(f"{PRESET_KEY}: no preset {option!r}")
    return int(text)


__all__ = [
    "CALL_PRESET",
    "POINT",
    "PRESET_KEY",
    "RUN_PATTERN",
    "START_PATROL",
    "STOP",
    "STOP_KEY",
    "declared",
    "number_of",
    "preset_label",
    "preset_of",
]
