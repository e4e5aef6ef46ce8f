"""The ePTZ commands a client sends (``RuntimeClient.ptz``), each named once with its HTTP
route and the Runtime method the local client calls: the remote and the local client cannot
drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import NotFoundError


@dataclass(frozen=True, slots=True)
class PtzCommand:
    """``method`` and ``path`` (under ``/api/channels/{id}/ptz``; ``{n}`` the number) of the
    route; ``call`` the Runtime method; ``numbered`` whether it takes a number, ``body``
    whether it takes a JSON object."""

    method: str
    path: str
    call: str
    numbered: bool = False
    body: bool = False


COMMANDS: dict[str, PtzCommand] = {
    "move": PtzCommand("POST", "move", "ptz_move", body=True),
    "stop": PtzCommand("POST", "stop", "ptz_stop"),
    "position": PtzCommand("PUT", "position", "ptz_absolute", body=True),
    "position_3d": PtzCommand("POST", "position_3d", "position_3d", body=True),
    "call_preset": PtzCommand("POST", "presets/{n}/call", "call_preset", numbered=True),
    "start_patrol": PtzCommand("POST", "patrols/{n}/start", "start_patrol", numbered=True),
    "stop_patrol": PtzCommand("POST", "stop", "stop_patrol"),
    "run_pattern": PtzCommand("POST", "patterns/{n}/run", "run_pattern", numbered=True),
}


@dataclass(frozen=True, slots=True)
class PtzCall:
    """One ePTZ command (a name of ``COMMANDS``) with its ``number`` (a preset, patrol or
    pattern) or its ``data`` (a move's directions, a place, a point or a box)."""

    command: str
    number: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def command(name: str) -> PtzCommand:
    found = COMMANDS.get(name)
    if found is None:
        raise NotFoundError(f"no PTZ command {name!r}: {', '.join(COMMANDS)}", "not_found")
    return found


__all__ = ["COMMANDS", "PtzCall", "PtzCommand", "command"]
