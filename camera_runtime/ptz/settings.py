"""The ePTZ ranges and schemas: a channel's ``ptz:`` config and every command's payload.

The manual's live-view PTZ chapter gives no numbers; these are the ranges of the same vendor's
PTZ cameras, kept so that a user (and a linkage rule) addressing "preset 3" or "patrol 1" means
the same thing here: presets 1-256, patrols 1-8 of up to 32 presets each (dwell 1-30 s, speed
1-40), patterns 1-4, the live view's PTZ speed slider 1-7.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

PRESETS = (1, 256)
PATROLS = (1, 8)
PATROL_POINTS = 32
PATTERNS = (1, 4)
SPEED = (1, 7)
PATROL_SPEED = (1, 40)
DWELL = (1, 30)
#: A pattern's recording takes moves for this long or this many at most (a save keeps them).
PATTERN_SECONDS = 600.0
PATTERN_MOVES = 1000
NAME_LENGTH = 32


def _real(value: Any) -> float:
    """A number, never a boolean (``true`` is no speed, whatever Python says)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid("expected a number")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected a whole number")
    return value


def _whole(low: int, high: int) -> Any:
    return vol.All(_integer, vol.Range(min=low, max=high))


def _number(low: float, high: float) -> Any:
    return vol.All(_real, vol.Range(min=low, max=high))


FRACTION = _number(0.0, 1.0)


def _inside(area: dict[str, Any]) -> dict[str, Any]:
    if area["x"] + area["w"] > 1.0 + 1e-9 or area["y"] + area["h"] > 1.0 + 1e-9:
        raise vol.Invalid("the window must lie inside the picture (x + w and y + h at most 1)")
    return area


#: An area of a picture: top-left corner and size, 0..1 of the picture (a stitched view's
#: fixed window, where an ePTZ window starts).
AREA_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("x"): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
            vol.Required("y"): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
            vol.Required("w"): vol.All(vol.Coerce(float), vol.Range(min=0.02, max=1)),
            vol.Required("h"): vol.All(vol.Coerce(float), vol.Range(min=0.02, max=1)),
        }
    ),
    _inside,
)


def _even(value: Any) -> int:
    if _integer(value) % 2:
        raise vol.Invalid("must be even (the picture's colour planes are half its size)")
    return int(value)


#: An output size: width and height in even pixels.
SIZE_SCHEMA = vol.ExactSequence(
    [vol.All(_whole(64, 7680), _even), vol.All(_whole(64, 4320), _even)]
)

#: A channel's ``ptz:`` block: off by default; ``max_zoom`` bounds the digital zoom (a 1080p
#: picture zoomed 8x shows a 240x135 window). ``size`` makes the window's output that size
#: (its shape too: the window keeps it); without it the output keeps the picture's size.
#: ``start`` is where the window starts (the largest window of the output's shape inside
#: that area, centred on it) until a command moves it.
PTZ_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("max_zoom", default=8.0): _number(2.0, 16.0),
        vol.Optional("size"): SIZE_SCHEMA,
        vol.Optional("start"): AREA_SCHEMA,
    },
    extra=vol.PREVENT_EXTRA,
)

PRESET = _whole(*PRESETS)
PATROL = _whole(*PATROLS)
PATTERN = _whole(*PATTERNS)
NAME = vol.All(str, vol.Strip, vol.Length(min=1, max=NAME_LENGTH))

#: A continuous move: a direction per axis (-1 to 1: left/up/out to right/down/in) at a speed.
MOVE_SCHEMA = vol.Schema(
    {
        vol.Optional("pan", default=0.0): _number(-1.0, 1.0),
        vol.Optional("tilt", default=0.0): _number(-1.0, 1.0),
        vol.Optional("zoom", default=0.0): _number(-1.0, 1.0),
        vol.Optional("speed", default=4): _whole(*SPEED),
    },
    extra=vol.PREVENT_EXTRA,
)

#: An absolute move: the window's centre (0..1 of the picture) and zoom; keys left out stay.
ABSOLUTE_SCHEMA = vol.Schema(
    {
        vol.Optional("pan"): FRACTION,
        vol.Optional("tilt"): FRACTION,
        vol.Optional("zoom"): _number(1.0, 16.0),
    },
    extra=vol.PREVENT_EXTRA,
)

PATROL_POINT_SCHEMA = vol.Schema(
    {
        vol.Required("preset"): PRESET,
        vol.Optional("dwell", default=5): _whole(*DWELL),
        vol.Optional("speed", default=30): _whole(*PATROL_SPEED),
    },
    extra=vol.PREVENT_EXTRA,
)

PATROL_SCHEMA = vol.All(
    [PATROL_POINT_SCHEMA],
    vol.Length(
        min=1,
        max=PATROL_POINTS,
        msg=f"a patrol has 1 to {PATROL_POINTS} presets",
    ),
)

#: A box on the live picture: two corners in 0..1 of what the viewer sees, in drag order.
BOX_SCHEMA = vol.Schema(
    {
        vol.Required("x0"): FRACTION,
        vol.Required("y0"): FRACTION,
        vol.Required("x1"): FRACTION,
        vol.Required("y1"): FRACTION,
    },
    extra=vol.PREVENT_EXTRA,
)

POINT_SCHEMA = vol.Schema(
    {vol.Required("x"): FRACTION, vol.Required("y"): FRACTION}, extra=vol.PREVENT_EXTRA
)


def transition_time(speed: int) -> float:
    """Seconds a patrol takes from one preset to the next at ``speed`` (1-40): 2 s at 1,
    50 ms (about a frame) at 40."""
    return (PATROL_SPEED[1] + 1 - speed) * 0.05


__all__ = [
    "ABSOLUTE_SCHEMA",
    "AREA_SCHEMA",
    "BOX_SCHEMA",
    "DWELL",
    "MOVE_SCHEMA",
    "NAME",
    "PATROL",
    "PATROLS",
    "PATROL_POINTS",
    "PATROL_SCHEMA",
    "PATROL_SPEED",
    "PATTERN",
    "PATTERNS",
    "PATTERN_MOVES",
    "PATTERN_SECONDS",
    "POINT_SCHEMA",
    "PRESET",
    "PRESETS",
    "PTZ_SCHEMA",
    "SIZE_SCHEMA",
    "SPEED",
    "transition_time",
]
