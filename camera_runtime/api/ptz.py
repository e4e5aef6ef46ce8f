"""The ePTZ routes (docs/ptz.md): moves, presets, patrols, patterns, 3D positioning and count
pixel of a channel, each a thin handler over the Runtime's PTZ methods (``ptz/methods.py``).

Looking (status, count pixel) needs a user; moving and saving an operator. Bad numbers and
payloads are the methods' ``ConfigError`` (422, naming the key) or ``NotFoundError`` (404).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import openapi
from .auth import Policy, audit
from .errors import ApiError
from .keys import RUNTIME
from .parsing import read_json_object

BASE = "/api/channels/{channel_id}/ptz"


def _number(request: web.Request) -> int:
    text = request.match_info["number"]
    if not text.isdigit() or len(text) > 3:
        raise ApiError(404, "not_found", "no such resource")
    return int(text)


def _channel_id(request: web.Request) -> str:
    return request.app[RUNTIME].channel_status(request.match_info["channel_id"])["id"]


async def status(request: web.Request) -> web.Response:
    return web.json_response(request.app[RUNTIME].ptz_status(_channel_id(request)))


async def move(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    return web.json_response(await request.app[RUNTIME].ptz_move(_channel_id(request), body))


async def stop(request: web.Request) -> web.Response:
    return web.json_response(await request.app[RUNTIME].ptz_stop(_channel_id(request)))


async def absolute(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    runtime = request.app[RUNTIME]
    return web.json_response(await runtime.ptz_absolute(_channel_id(request), body))


async def position_3d(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    runtime = request.app[RUNTIME]
    return web.json_response(await runtime.position_3d(_channel_id(request), body))


async def count_pixel(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    return web.json_response(request.app[RUNTIME].count_pixel(_channel_id(request), body))


async def save_preset(request: web.Request) -> web.Response:
    body = await read_json_object(request, allowed={"name"})
    target, number = _channel_id(request), _number(request)
    saved = await request.app[RUNTIME].save_preset(target, number, body.get("name"))
    audit(request, "channel %r preset %d saved", target, number)
    return web.json_response(saved)


async def rename_preset(request: web.Request) -> web.Response:
    body = await read_json_object(request, allowed={"name"})
    if "name" not in body:
        raise ApiError(400, "missing_field", "'name' is required")
    target, number = _channel_id(request), _number(request)
    renamed = await request.app[RUNTIME].rename_preset(target, number, body["name"])
    audit(request, "channel %r preset %d renamed", target, number)
    return web.json_response(renamed)


async def call_preset(request: web.Request) -> web.Response:
    target = _channel_id(request)
    return web.json_response(await request.app[RUNTIME].call_preset(target, _number(request)))


async def delete_preset(request: web.Request) -> web.Response:
    target, number = _channel_id(request), _number(request)
    await request.app[RUNTIME].delete_preset(target, number)
    audit(request, "channel %r preset %d deleted", target, number)
    return web.Response(status=204)


async def set_patrol(request: web.Request) -> web.Response:
    body = await read_json_object(request, allowed={"presets"})
    if "presets" not in body:
        raise ApiError(400, "missing_field", "'presets' is required")
    target, number = _channel_id(request), _number(request)
    saved = await request.app[RUNTIME].set_patrol(target, number, body["presets"])
    audit(request, "channel %r patrol %d saved", target, number)
    return web.json_response(saved)


async def delete_patrol(request: web.Request) -> web.Response:
    target, number = _channel_id(request), _number(request)
    await request.app[RUNTIME].delete_patrol(target, number)
    audit(request, "channel %r patrol %d deleted", target, number)
    return web.Response(status=204)


async def start_patrol(request: web.Request) -> web.Response:
    target = _channel_id(request)
    return web.json_response(await request.app[RUNTIME].start_patrol(target, _number(request)))


async def record_pattern(request: web.Request) -> web.Response:
    target = _channel_id(request)
    return web.json_response(await request.app[RUNTIME].start_pattern_recording(target))


async def save_pattern(request: web.Request) -> web.Response:
    target, number = _channel_id(request), _number(request)
    saved = await request.app[RUNTIME].save_pattern(target, number)
    audit(request, "channel %r pattern %d saved", target, number)
    return web.json_response(saved)


async def run_pattern(request: web.Request) -> web.Response:
    target = _channel_id(request)
    return web.json_response(await request.app[RUNTIME].run_pattern(target, _number(request)))


async def delete_pattern(request: web.Request) -> web.Response:
    target, number = _channel_id(request), _number(request)
    await request.app[RUNTIME].delete_pattern(target, number)
    audit(request, "channel %r pattern %d deleted", target, number)
    return web.Response(status=204)


_USER, _OPERATOR = Policy.USER, Policy.OPERATOR
#: ``(method, path, handler, policy, summary, body schema)``.
_TABLE: list[tuple[str, str, Any, Policy, str, str | None]] = [
    (
        "GET",
        BASE,
        status,
        _USER,
        "Where the ePTZ window is; saved presets, patrols, patterns",
        None,
    ),
    (
        "POST",
        f"{BASE}/move",
        move,
        _OPERATOR,
        "Continuous move (directions -1..1, speed 1-7); zeros stop",
        "PtzMove",
    ),
    ("POST", f"{BASE}/stop", stop, _OPERATOR, "Stop a move, patrol or pattern", None),
    (
        "PUT",
        f"{BASE}/position",
        absolute,
        _OPERATOR,
        "Absolute move: centre (0..1) and zoom",
        "PtzPosition",
    ),
    (
        "POST",
        f"{BASE}/position_3d",
        position_3d,
        _OPERATOR,
        "3D positioning: a point centres, a box zooms",
        "PtzBox",
    ),
    (
        "POST",
        "/api/channels/{channel_id}/count_pixel",
        count_pixel,
        _USER,
        "Count pixel: a box's size in pixels",
        "PtzBox",
    ),
    (
        "PUT",
        f"{BASE}/presets/{{number}}",
        save_preset,
        _OPERATOR,
        "Save the window as preset 1-256",
        "PtzName",
    ),
    ("PATCH", f"{BASE}/presets/{{number}}", rename_preset, _OPERATOR, "Rename a preset", "PtzName"),
    ("DELETE", f"{BASE}/presets/{{number}}", delete_preset, _OPERATOR, "Delete a preset", None),
    ("POST", f"{BASE}/presets/{{number}}/call", call_preset, _OPERATOR, "Call a preset", None),
    (
        "PUT",
        f"{BASE}/patrols/{{number}}",
        set_patrol,
        _OPERATOR,
        "Save patrol 1-8 (1-32 presets, dwell, speed)",
        "PtzPatrol",
    ),
    ("DELETE", f"{BASE}/patrols/{{number}}", delete_patrol, _OPERATOR, "Delete a patrol", None),
    ("POST", f"{BASE}/patrols/{{number}}/start", start_patrol, _OPERATOR, "Start a patrol", None),
    (
        "POST",
        f"{BASE}/patterns/record",
        record_pattern,
        _OPERATOR,
        "Start recording a pattern",
        None,
    ),
    (
        "PUT",
        f"{BASE}/patterns/{{number}}",
        save_pattern,
        _OPERATOR,
        "End the recording: save pattern 1-4",
        None,
    ),
    ("DELETE", f"{BASE}/patterns/{{number}}", delete_pattern, _OPERATOR, "Delete a pattern", None),
    ("POST", f"{BASE}/patterns/{{number}}/run", run_pattern, _OPERATOR, "Run a pattern once", None),
]

_N = {"type": "number"}
_FRACTION = {"type": "number", "minimum": 0, "maximum": 1}
_DIRECTION = {"type": "number", "minimum": -1, "maximum": 1}
SCHEMAS: dict[str, Any] = {
    "PtzMove": {
        "type": "object",
        "properties": {
            "pan": _DIRECTION,
            "tilt": _DIRECTION,
            "zoom": _DIRECTION,
            "speed": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "additionalProperties": False,
    },
    "PtzPosition": {
        "type": "object",
        "properties": {"pan": _FRACTION, "tilt": _FRACTION, "zoom": {**_N, "minimum": 1}},
        "additionalProperties": False,
    },
    "PtzBox": {
        "type": "object",
        "properties": {k: _FRACTION for k in ("x", "y", "x0", "y0", "x1", "y1")},
        "additionalProperties": False,
    },
    "PtzName": {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 32}},
        "additionalProperties": False,
    },
    "PtzPatrol": {
        "type": "object",
        "properties": {"presets": {"type": "array", "items": {"type": "object"}}},
        "required": ["presets"],
        "additionalProperties": False,
    },
}


def setup_ptz_routes(add: Any) -> None:
    """Add the routes with ``add(method, path, handler, policy)`` and document them."""
    for method, path, handler, policy, summary, body in _TABLE:
        add(method, path, handler, policy)
        errors = "400 404 413 415 422 507" if body else "404 422 507"
        openapi.OPERATIONS[(method, path)] = openapi._op(
            summary, {"type": "object"}, body=body, errors=errors
        )
    openapi.SCHEMAS.update(SCHEMAS)


__all__ = ["setup_ptz_routes"]
