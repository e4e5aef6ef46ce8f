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
from .parsing import field, read_json_object

BASE = "/api/channels/{channel_id}/ptz"
NUMBER = "{number:[0-9]{1,3}}"


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


async def record_pattern(request: web.Request) -> web.Response:
    target = _channel_id(request)
    return web.json_response(await request.app[RUNTIME].start_pattern_recording(target))


def _delete(method: str, what: str) -> Any:
    """A handler deleting the numbered ``what`` with the Runtime's ``method`` (204)."""

    async def handler(request: web.Request) -> web.Response:
        target, number = _channel_id(request), _number(request)
        await getattr(request.app[RUNTIME], method)(target, number)
        audit(request, f"channel %r {what} %d deleted", target, number)
        return web.Response(status=204)

    return handler


def _run(method: str) -> Any:
    """A handler running the numbered preset, patrol or pattern with the Runtime's ``method``:
    answers the window's status."""

    async def handler(request: web.Request) -> web.Response:
        run = getattr(request.app[RUNTIME], method)
        return web.json_response(await run(_channel_id(request), _number(request)))

    return handler


def _save(
    method: str, what: str, verb: str, keys: set[str] | None, args: Any = lambda body: ()
) -> Any:
    """A handler saving the numbered ``what`` with the Runtime's ``method``: the body (an
    object of ``keys``; none when ``keys`` is None) gives ``args(body)`` after the number."""

    async def handler(request: web.Request) -> web.Response:
        body = await read_json_object(request, allowed=keys) if keys is not None else {}
        target, number = _channel_id(request), _number(request)
        saved = await getattr(request.app[RUNTIME], method)(target, number, *args(body))
        audit(request, f"channel %r {what} %d {verb}", target, number)
        return web.json_response(saved)

    return handler


save_preset = _save("save_preset", "preset", "saved", {"name"}, lambda b: (b.get("name"),))
rename_preset = _save(
    "rename_preset", "preset", "renamed", {"name"}, lambda b: (field(b, "name", str),)
)
set_patrol = _save(
    "set_patrol", "patrol", "saved", {"presets"}, lambda b: (field(b, "presets", list),)
)
save_pattern = _save("save_pattern", "pattern", "saved", None)
delete_preset, delete_patrol, delete_pattern = (
    _delete("delete_preset", "preset"),
    _delete("delete_patrol", "patrol"),
    _delete("delete_pattern", "pattern"),
)
call_preset, start_patrol, run_pattern = (
    _run("call_preset"),
    _run("start_patrol"),
    _run("run_pattern"),
)

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
        "PtzPointOrBox",
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
    (
        "PATCH",
        f"{BASE}/presets/{{number}}",
        rename_preset,
        _OPERATOR,
        "Rename a preset",
        "PtzRename",
    ),
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
_NAME = {"type": "string", "minLength": 1, "maxLength": 32, "pattern": r"\S"}
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
        "properties": {
            "pan": _FRACTION,
            "tilt": _FRACTION,
            "zoom": {**_N, "minimum": 1, "maximum": 16},
        },
        "additionalProperties": False,
    },
    "PtzPoint": {
        "type": "object",
        "properties": {"x": _FRACTION, "y": _FRACTION},
        "required": ["x", "y"],
        "additionalProperties": False,
    },
    "PtzBox": {
        "type": "object",
        "properties": {k: _FRACTION for k in ("x0", "y0", "x1", "y1")},
        "required": ["x0", "y0", "x1", "y1"],
        "additionalProperties": False,
    },
    "PtzPointOrBox": {
        "oneOf": [
            {"$ref": "#/components/schemas/PtzPoint"},
            {"$ref": "#/components/schemas/PtzBox"},
        ]
    },
    "PtzName": {
        "type": "object",
        "properties": {"name": _NAME},
        "additionalProperties": False,
    },
    "PtzRename": {
        "type": "object",
        "properties": {"name": _NAME},
        "required": ["name"],
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
        # Numbers only: ``patterns/record`` is then no pattern, and another method on it 405.
        add(method, path.replace("{number}", NUMBER), handler, policy)
        errors = "400 404 413 415 422 507" if body else "404 422 507"
        openapi.OPERATIONS[(method, path)] = openapi._op(
            summary, {"type": "object"}, body=body, errors=errors
        )
    openapi.SCHEMAS.update(SCHEMAS)


__all__ = ["setup_ptz_routes"]
