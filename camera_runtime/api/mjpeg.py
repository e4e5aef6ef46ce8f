"""Live streams over HTTP: MJPEG (``multipart/x-mixed-replace``, one part per new JPEG) and
a stream's packets as MPEG-TS (``streams/{role}.ts``) or fragmented MP4 (``.mp4``).

The JPEGs come from the channel's ``LiveView``, which encodes each frame once for every viewer
and only while someone watches; the MPEG-TS and MP4 chunks from the channel's ``MuxedStream``,
muxed once for every client and only while someone watches; this module only writes them out.
A slow viewer skips frames (MJPEG: it always gets the newest; MPEG-TS and MP4: up to the next
keyframe), a stalled one is disconnected after ``WRITE_TIMEOUT`` (its socket closed, not only
its viewer slot freed: issue #11, item 4), a viewer whose credentials are revoked (password
changed, API token deleted) is disconnected, and viewers are capped per app (test plan D1):
over the cap, 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field

from aiohttp import web

from ..exceptions import CameraRuntimeError
from ..logsafe import escape
from ..security import Revocation
from .auth import identity
from .errors import ApiError
from .keys import RUNTIME, SECURITY

_LOGGER = logging.getLogger(__name__)

MAX_VIEWERS = 50
BOUNDARY = "frame"
#: A viewer that cannot take one part in this time is gone or hopeless.
WRITE_TIMEOUT = 20.0
#: How often the watchdog checks that each viewer's client is still connected (aiohttp does not
#: cancel handlers on disconnect, and an offline channel produces no frame to fail on) and that
#: its write under way has not waited longer than the write timeout.
DISCONNECT_CHECK = 1.0


def _part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode() + jpeg + b"\r\n"


@dataclass
class _Writing:
    """When the write under way started (``None``: none is), for the viewer's watchdog."""

    since: float | None = None


@dataclass(eq=False)
class _Viewer:
    """One viewer, as the app's watchdog sees it."""

    request: web.Request
    label: str
    pump: asyncio.Task[None]
    writing: _Writing
    revoked: asyncio.Event


@dataclass
class LiveStreams:
    """The app's live viewers: the count for the cap, the tasks to stop at shutdown, and one
    watchdog for all of them (``DISCONNECT_CHECK``): a timed wait per viewer each second cost
    a future and a timer each, a share of the CPU of a stream with many clients."""

    max_viewers: int = MAX_VIEWERS
    write_timeout: float = WRITE_TIMEOUT
    viewers: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _watched: set[_Viewer] = field(default_factory=set, init=False, repr=False)
    _timer: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)

    def watch(self, viewer: _Viewer) -> None:
        self._watched.add(viewer)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._check)

    def unwatch(self, viewer: _Viewer) -> None:
        self._watched.discard(viewer)
        if not self._watched and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def watching(self) -> bool:
        """Whether the watchdog's timer runs (only while someone watches)."""
        return self._timer is not None

    @property
    def _interval(self) -> float:
        return min(DISCONNECT_CHECK, self.write_timeout / 2)

    def _check(self) -> None:
        """Stop the pump of each viewer that left, lost its credentials or stalled."""
        for viewer in list(self._watched):
            if viewer.pump.done():
                continue
            request = viewer.request
            if (
                _gone(request)
                or viewer.revoked.is_set()
                or _stalled(request, viewer.label, viewer.writing, self.write_timeout)
            ):
                viewer.pump.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._check)


STREAMS = web.AppKey("camera_runtime.live_streams", LiveStreams)


async def _pump(
    label: str,
    stream: AsyncGenerator[bytes],
    response: web.StreamResponse,
    wrap: Callable[[bytes], bytes],
    writing: _Writing,
) -> None:
    """Copy the stream's chunks to one client until it leaves; ``aclosing`` detaches the
    viewer at once however this ends, so encoding or muxing stops when the last viewer goes.
    ``writing`` tells the app's watchdog how long a write has been waiting (a timeout per
    write would cost a timer for every chunk of every viewer)."""
    loop = asyncio.get_running_loop()
    try:
        # ``live()`` is an async generator (annotated as an iterator): close it explicitly.
        async with contextlib.aclosing(stream) as frames:
            async for data in frames:
                writing.since = loop.time()
                await response.write(wrap(data))
                writing.since = None
    except ConnectionError as err:
        _LOGGER.debug("%s viewer left: %r", label, err)
    except CameraRuntimeError as err:  # the stream itself ended badly (its worker died...)
        _LOGGER.warning("%s stream ended: %s", label, err)


def _stalled(request: web.Request, label: str, writing: _Writing, write_timeout: float) -> bool:
    """Whether the viewer took nothing for ``write_timeout``: then its socket is aborted (the
    unsent parts dropped), or it would stay open, holding a file descriptor and its buffers."""
    since = writing.since
    if since is None or asyncio.get_running_loop().time() - since < write_timeout:
        return False
    _LOGGER.info(
        "%s viewer %s took nothing for %.0f s: disconnected",
        label,
        escape(request.remote),
        write_timeout,
    )
    if request.transport is not None:
        request.transport.abort()
    return True


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def live_mjpeg(request: web.Request) -> web.StreamResponse:
    """Stream a channel's live view until the client disconnects or the server stops."""
    channel_id = request.match_info["channel_id"]
    runtime = request.app[RUNTIME]
    runtime.channel_status(channel_id)  # 404 for an unknown channel
    return await _serve(
        request,
        f"{channel_id}: MJPEG",
        lambda: runtime.live(channel_id),
        f"multipart/x-mixed-replace; boundary={BOUNDARY}",
        _part,
    )


async def live_ts(request: web.Request) -> web.StreamResponse:
    """Stream one of a channel's streams as MPEG-TS (players, Home Assistant's ``stream``)."""
    return await _live_stream(request, "ts")


async def live_mp4(request: web.Request) -> web.StreamResponse:
    """Stream one of a channel's streams as fragmented MP4 (a browser's Media Source)."""
    return await _live_stream(request, "mp4")


async def _live_stream(request: web.Request, container: str) -> web.StreamResponse:
    """Until the client disconnects, the stream ends (the channel stops, or reconnects as
    another codec or size) or the server stops."""
    channel_id, role = request.match_info["channel_id"], request.match_info["role"]
    runtime = request.app[RUNTIME]
    # 404/409/503 before the response starts
    stream = await runtime.stream(channel_id, role, container)
    try:
        label = f"{channel_id}: {role} stream"
        return await _serve(request, label, stream.chunks, stream.content_type, lambda b: b)
    finally:
        stream.close()


async def _serve(
    request: web.Request,
    label: str,
    open_stream: Callable[[], AsyncGenerator[bytes]],
    content_type: str,
    wrap: Callable[[bytes], bytes],
) -> web.StreamResponse:
    streams = request.app[STREAMS]
    if streams.viewers >= streams.max_viewers:
        raise ApiError(
            503,
            "too_many_viewers",
            f"at most {streams.max_viewers} live viewers at once",
            headers={"Retry-After": "5"},
        )
    streams.viewers += 1
    caller = identity(request)
    revoked = asyncio.Event()

    def on_revocation(revocation: Revocation) -> None:
        if caller.revoked_by(revocation):
            revoked.set()

    unsubscribe = request.app[SECURITY].revocations.subscribe(on_revocation)
    try:
        response = web.StreamResponse(
            headers={
                "Content-Type": content_type,
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        writing = _Writing()
        pump = asyncio.create_task(
            _pump(label, open_stream(), response, wrap, writing), name=f"live {label}"
        )
        streams.tasks.add(pump)
        viewer = _Viewer(request, label, pump, writing, revoked)
        streams.watch(viewer)
        try:
            await asyncio.wait({pump})
        finally:
            streams.unwatch(viewer)
            streams.tasks.discard(pump)
            if not pump.done():
                pump.cancel()
                await asyncio.wait({pump})
        if revoked.is_set() and request.transport is not None:
            request.transport.close()  # its credentials are gone: so is the stream
        return response
    finally:
        unsubscribe()
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


__all__ = [
    "MAX_VIEWERS",
    "STREAMS",
    "WRITE_TIMEOUT",
    "LiveStreams",
    "live_mjpeg",
    "live_mp4",
    "live_ts",
    "setup_mjpeg",
]
