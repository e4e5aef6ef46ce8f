"""Strict request parsing for the handlers: JSON bodies, typed fields, times and limits.

Every failure is an ``ApiError`` 4xx naming the field or parameter and the rule, so a client
(or a fuzzer) never gets a 500 for bad input, and a request with any bad part changes nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

from aiohttp import web

from .errors import ApiError

_TYPE_NAMES = {bool: "true or false", str: "a string", int: "an integer"}
_VALUE_PREVIEW = 64
_DIGITS = re.compile(r"[0-9]{1,9}")


def _preview(value: str) -> str:
    return value if len(value) <= _VALUE_PREVIEW else value[:_VALUE_PREVIEW] + "..."


async def read_json_object(
    request: web.Request, *, allowed: Collection[str] | None = None
) -> dict[str, Any]:
    """The request body as a JSON object; 415 unless sent as JSON, 413 over the size limit,
    400 for bad JSON, another shape, or (with ``allowed``) unknown keys."""
    content_type = request.content_type
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.read()
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise ApiError(400, "bad_field", f"unknown field(s): {', '.join(map(repr, unknown))}")
    return body


def field[T](body: dict[str, Any], name: str, kind: type[T]) -> T:
    """``body[name]``, which must be present and exactly of ``kind`` (``1`` is not ``true``)."""
    if name not in body:
        raise ApiError(400, "missing_field", f"{name!r} is required")
    value = body[name]
    if type(value) is not kind:
        raise ApiError(400, "bad_field", f"{name!r} must be {_TYPE_NAMES.get(kind, kind.__name__)}")
    return value


def parse_time(name: str, value: str | None) -> float | None:
    """A query time: seconds since the epoch, or ISO 8601 (local time when it has no offset)."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.timestamp()
    except (ValueError, OverflowError, OSError):
        raise ApiError(
            400,
            "bad_parameter",
            f"{name!r} must be seconds since the epoch or an ISO 8601 date-time, "
            f"got {_preview(value)!r}",
            parameter=name,
        ) from None


def parse_bool(name: str, value: str | None) -> bool | None:
    """A query boolean: ``true``/``false`` (also ``1``/``0``); None when absent."""
    if value is None:
        return None
    lowered = value.lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise ApiError(400, "bad_parameter", f"{name!r} must be true or false", parameter=name)


def parse_int(name: str, value: str | None, low: int, high: int) -> int | None:
    """A query integer in ``low..high`` (inclusive), in plain decimal digits (no sign, space
    or ``_``, which Python's ``int`` would take); None when absent."""
    if value is None:
        return None
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise ApiError(
            400,
            "bad_parameter",
            f"{name!r} must be a whole number from {low} to {high}, got {_preview(value)!r}",
            parameter=name,
        )
    return int(value)


__all__ = ["field", "parse_int", "parse_time", "read_json_object"]
