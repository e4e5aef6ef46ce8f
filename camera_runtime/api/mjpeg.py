"""MJPEG live view over HTTP: ``multipart/x-mixed-replace``, one part per new JPEG.

The JPEGs come from the channel's ``LiveView``, which encodes each frame once for every viewer
and only while someone watches; this module only writes them out. A slow viewer skips frames
(it always gets the newest), a stalled one is disconnected after ``WRITE_TIMEOUT`` (its socket
closed, not only its viewer slot freed: issue #11, item 4), and viewers are capped per app
(test plan D1): over the cap, 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from aiohttp import web

from ..logsafe import escape
from .errors import ApiError
from .keys import RUNTIME

_LOGGER = logging.getLogger(__name__)

MAX_VIEWERS = 50
BOUNDARY = "frame"
#: A viewer that cannot take one part in this time is gone or hopeless.
WRITE_TIMEOUT = 20.0
#: How often a viewer waiting for a frame checks that its client is still connected (aiohttp
#: does not cancel handlers on disconnect, and an offline channel produces no frame to fail on).
DISCONNECT_CHECK = 1.0


@dataclass
class LiveStreams:
    """The app's MJPEG viewers: the count for the cap, and the tasks to stop at shutdown."""

    max_viewers: int = MAX_VIEWERS
    write_timeout: float = WRITE_TIMEOUT
    viewers: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


STREAMS = web.AppKey("camera_runtime.live_streams", LiveStreams)


def _part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode() + jpeg + b"\r\n"


async def _pump(
    request: web.Request,
    channel_id: str,
    stream: AsyncGenerator[bytes],
    response: web.StreamResponse,
    write_timeout: float,
) -> None:
    """Copy the live view's JPEGs to one client until it leaves; ``aclosing`` detaches the
    viewer at once however this ends, so encoding stops when the last viewer goes. A client
    that takes no part within ``write_timeout`` is disconnected: its socket is aborted (the
    unsent parts dropped), or it would stay open, holding a file descriptor and its buffers."""
    try:
        # ``live()`` is an async generator (annotated as an iterator): close it explicitly.
        async with contextlib.aclosing(stream) as frames:
            async for jpeg in frames:
                async with asyncio.timeout(write_timeout):
                    await response.write(_part(jpeg))
    except TimeoutError:
        _LOGGER.info(
            "%s: MJPEG viewer %s took no frame for %.0f s: disconnected",
            channel_id,
            escape(request.remote),
            write_timeout,
        )
        if request.transport is not None:
            request.transport.abort()
    except ConnectionError as err:
        _LOGGER.debug("%s: MJPEG viewer left: %r", channel_id, err)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def live_mjpeg(request: web.Request) -> web.StreamResponse:
    """Stream a channel's live view until the client disconnects or the server stops."""
    channel_id = request.match_info["channel_id"]
    request.app[RUNTIME].channel_status(channel_id)  # 404 for an unknown channel
    streams = request.app[STREAMS]
    if streams.viewers >= streams.max_viewers:
        raise ApiError(
            503,
            "too_many_viewers",
            f"at most {streams.max_viewers} live viewers at once",
            headers={"Retry-After": "5"},
        )
    streams.viewers += 1
    try:
        response = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        stream = request.app[RUNTIME].live(channel_id)
        pump = asyncio.create_task(
            _pump(request, channel_id, stream, response, streams.write_timeout),
            name=f"mjpeg-{channel_id}",
        )
        streams.tasks.add(pump)
        try:
            while not pump.done():
                await asyncio.wait({pump}, timeout=DISCONNECT_CHECK)
                if not pump.done() and _gone(request):
                    pump.cancel()
        finally:
            streams.tasks.discard(pump)
            if not pump.done():
                pump.cancel()
                await asyncio.wait({pump})
        return response
    finally:
        streams.viewers -= 1


async def _stop_streams(app: web.Application) -> None:
    """``on_shutdown``: end every stream, so a graceful stop does not wait for viewers."""
    for task in list(app[STREAMS].tasks):
        task.cancel()


def setup_mjpeg(
    app: web.Application, max_viewers: int = MAX_VIEWERS, write_timeout: float = WRITE_TIMEOUT
) -> None:
    app[STREAMS] = LiveStreams(max_viewers=max_viewers, write_timeout=write_timeout)
    app.on_shutdown.append(_stop_streams)  # type: ignore[arg-type]  # aiosignal 1.4 typing


__all__ = ["MAX_VIEWERS", "STREAMS", "WRITE_TIMEOUT", "LiveStreams", "live_mjpeg", "setup_mjpeg"]
