"""Recording routes: list a channel's segments and clips, download a segment by id, play a
time range back as one MPEG-TS file (with byte ranges, so players seek), manual recording and
the record-clip command, picture search, one search over everything indexed, pictures and
their thumbnails by id, and the storage status. Files are addressed by id,
never by a path a client sends."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import web

from ..byte_ranges import RangeNotSatisfiable, range_headers, read_range, wanted_range
from ..captures import REASON
from ..live import MAX_PICTURE_SIDE
from ..model import SEARCH_KINDS
from ..recording.recorder import CLIP_LENGTH, CLIP_PRE
from .auth import audit
from .errors import ApiError
from .keys import RUNTIME
from .parsing import parse_int, parse_time, read_json_object

#: Most a clip command may ask for (s): what the pre-record ring can hold, and one hour.
MAX_PRE, MAX_LENGTH = 30.0, 3600.0
#: Items per list of a search: by default, and at most.
DEFAULT_SEARCH, MAX_SEARCH = 1000, 10000


def _target(request: web.Request) -> str:
    return str(request.app[RUNTIME].channel_status(request.match_info["channel_id"])["id"])


async def list_recordings(request: web.Request) -> web.Response:
    """A channel's segments and clips overlapping ``start``..``end`` (both optional)."""
    channel_id = _target(request)
    start = parse_time("start", request.query.get("start"))
    end = parse_time("end", request.query.get("end"))
    return web.json_response(await request.app[RUNTIME].recordings_of(channel_id, start, end))


async def recording_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[RUNTIME].recording_status(_target(request)))


def _segment_id(request: web.Request) -> int:
    value = request.match_info["segment_id"]
    if not value.isdigit() or len(value) > 18:
        raise ApiError(404, "not_found", "no such recording")
    return int(value)


async def pictures(request: web.Request) -> web.Response:
    """Picture search: a channel's captures in ``start``..``end``, for ``reason``."""
    channel_id = _target(request)
    start = parse_time("start", request.query.get("start"))
    end = parse_time("end", request.query.get("end"))
    reason = request.query.get("reason")
    if reason is not None and not REASON.fullmatch(reason):
        raise ApiError(400, "bad_parameter", "reason must be manual, timing or an event type")
    found = await request.app[RUNTIME].pictures(channel_id, start, end, reason)
    return web.json_response({"pictures": found})


async def search(request: web.Request) -> web.Response:
    """One search over segments, clips, pictures and events: ``channel``, ``start``..``end``,
    ``type`` (a capture type, clip reason or event type), ``within`` (a comma-separated
    subset of segments, clips, pictures, events), ``limit`` per list."""
    query = request.query
    channel = query.get("channel")
    start = parse_time("start", query.get("start"))
    end = parse_time("end", query.get("end"))
    kind = query.get("type")
    if kind is not None and not REASON.fullmatch(kind):
        raise ApiError(400, "bad_parameter", "type must be a capture type or an event type")
    within = tuple(query.get("within", ",".join(SEARCH_KINDS)).split(","))
    unknown = [name for name in within if name not in SEARCH_KINDS]
    if unknown or not within:
        raise ApiError(
            400, "bad_parameter", f"within: a comma-separated subset of {', '.join(SEARCH_KINDS)}"
        )
    limit = parse_int("limit", query.get("limit"), 1, MAX_SEARCH) or DEFAULT_SEARCH
    found = await request.app[RUNTIME].search(channel, start, end, kind, within, limit)
    return web.json_response(found)


async def picture_file(request: web.Request) -> web.FileResponse:
    path = await request.app[RUNTIME].picture_file(request.match_info["capture_id"])
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})


async def picture_thumbnail(request: web.Request) -> web.Response:
    """A captured picture, smaller with ``?width=`` and/or ``?height=``."""
    width = parse_int("width", request.query.get("width"), 1, MAX_PICTURE_SIDE)
    height = parse_int("height", request.query.get("height"), 1, MAX_PICTURE_SIDE)
    capture_id = request.match_info["capture_id"]
    jpeg = await request.app[RUNTIME].picture_thumbnail(capture_id, width, height)
    return web.Response(body=jpeg, content_type="image/jpeg")


async def storage(request: web.Request) -> web.Response:
    """The recordings' storage: video bytes, limits, free and total space, full or not."""
    return web.json_response(await request.app[RUNTIME].recordings_storage())


async def segment_thumbnail(request: web.Request) -> web.Response:
    """JPEG of a segment's first picture, smaller with ``?width=`` and/or ``?height=``."""
    width = parse_int("width", request.query.get("width"), 1, MAX_PICTURE_SIDE)
    height = parse_int("height", request.query.get("height"), 1, MAX_PICTURE_SIDE)
    jpeg = await request.app[RUNTIME].recording_thumbnail(_segment_id(request), width, height)
    return web.Response(body=jpeg, content_type="image/jpeg")


async def segment_file(request: web.Request) -> web.FileResponse:
    path = await request.app[RUNTIME].recording_file(_segment_id(request))
    return web.FileResponse(path, headers={"Content-Type": "video/mp2t"})


def _required_range(request: web.Request) -> tuple[str, float, float]:
    """The channel and the ``start``..``end`` a playback route requires."""
    channel_id = _target(request)
    start = parse_time("start", request.query.get("start"))
    end = parse_time("end", request.query.get("end"))
    if start is None or end is None:
        raise ApiError(400, "bad_parameter", "start and end are required")
    return channel_id, start, end


async def playback_mp4(request: web.Request) -> web.FileResponse:
    """``start``..``end`` as one MP4 file (remuxed, index first) for a ``<video>`` element;
    byte ranges answered by the file response."""
    channel_id, start, end = _required_range(request)
    path = await request.app[RUNTIME].playback_mp4(channel_id, start, end)
    _wanted(request, path.stat().st_size)  # a range outside it: the same 416 as playback.ts
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})


async def playback(request: web.Request) -> web.StreamResponse:
    """``start``..``end`` as one MPEG-TS file: the segments covering it, whole, in order."""
    channel_id, start, end = _required_range(request)
    paths = await request.app[RUNTIME].playback_files(channel_id, start, end)
    loop = asyncio.get_running_loop()
    # Open every file first (off the loop): retention may delete one meanwhile, an open
    # file stays readable.
    files = await loop.run_in_executor(None, _open_all, paths)
    try:
        if not files:
            raise ApiError(404, "not_found", "no recording in that time range")
        sizes = [os.fstat(f.fileno()).st_size for f in files]
        first, stop = _wanted(request, sum(sizes))
        status, headers = range_headers(first, stop, sum(sizes))
        response = web.StreamResponse(
            status=status, headers={"Content-Type": "video/mp2t", **headers}
        )
        await response.prepare(request)
        offset = 0  # of the current file in the whole
        for file, size in zip(files, sizes, strict=True):
            begin, end = max(first - offset, 0), min(stop - offset, size)
            offset += size
            if begin < end:
                async for chunk in read_range(file, begin, end):
                    await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        for file in files:
            file.close()


def _wanted(request: web.Request, size: int) -> tuple[int, int]:
    """The bytes ``[first, stop)`` the request's ``Range`` asks for (``byte_ranges``); 416 with
    the API's error body when they lie outside the file."""
    try:
        return wanted_range(request.headers.get("Range"), size)
    except RangeNotSatisfiable as err:
        raise ApiError(
            416, "range_not_satisfiable", str(err), headers={"Content-Range": err.content_range}
        ) from None


def _open_all(paths: list[Path]) -> list[BinaryIO]:
    files: list[BinaryIO] = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            files.append(open(path, "rb"))  # noqa: SIM115 - closed by the handler
    return files


def _seconds(body: dict[str, Any], name: str, default: float, high: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise ApiError(400, "bad_field", f"{name!r} must be a number from 0 to {high:g}")
    return float(value)


async def record_clip(request: web.Request) -> web.Response:
    """The linkage action "record": ``pre`` s before now (5), ``length`` s long (30)."""
    channel_id = _target(request)
    body = await read_json_object(request, allowed={"pre", "length"})
    pre = _seconds(body, "pre", CLIP_PRE, MAX_PRE)
    length = _seconds(body, "length", CLIP_LENGTH, MAX_LENGTH)
    clip = await request.app[RUNTIME].record_clip(channel_id, pre, length)
    audit(request, "channel %r clip recorded", channel_id)
    return web.json_response(clip, status=201)


async def record_start(request: web.Request) -> web.Response:
    channel_id = _target(request)
    clip = await request.app[RUNTIME].record_start(channel_id)
    audit(request, "channel %r manual recording started", channel_id)
    return web.json_response(clip)


async def record_stop(request: web.Request) -> web.Response:
    channel_id = _target(request)
    stopped = await request.app[RUNTIME].record_stop(channel_id)
    audit(request, "channel %r manual recording stopped", channel_id)
    return web.json_response({"stopped": stopped})
