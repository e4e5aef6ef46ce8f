"""Pictures and pushes from a real synthetic camera: snapshot, MJPEG (shared encode, nothing
encoded without viewers, viewer cap, clean disconnect) and the event WebSocket."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest

from camera_runtime.api import ApiServer
from camera_runtime.api.mjpeg import STREAMS
from camera_runtime.api.ws import QUEUE_SIZE
from camera_runtime.channel import Channel
from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.workers.remote import RemoteChannel
from tests.polling import eventually

from .conftest import ServerFactory
from .helpers import PASSWORD, client, receive_until, runtime_config


async def next_frames(channel: Channel, count: int) -> None:
    """Wait until the channel has produced ``count`` more frames (on its own thread)."""
    target = channel.slot.seq + count
    while channel.slot.seq < target:
        await asyncio.to_thread(channel.slot.wait_newer, channel.slot.seq, 1.0)


async def read_part(response: aiohttp.ClientResponse) -> bytes:
    """One part of ``multipart/x-mixed-replace; boundary=frame``."""
    content = response.content
    assert await content.readline() == b"--frame\r\n"
    headers: dict[str, str] = {}
    while (line := await content.readline()) != b"\r\n":
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    assert headers["content-type"] == "image/jpeg"
    jpeg = await content.readexactly(int(headers["content-length"]))
    assert await content.readexactly(2) == b"\r\n"
    return jpeg


async def read_parts(response: aiohttp.ClientResponse, count: int) -> list[bytes]:
    return [await read_part(response) for _ in range(count)]


def decode(jpeg: bytes) -> Any:
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    return picture


# ---------------------------------------------------------------- snapshot


async def test_snapshot_is_a_jpeg_of_the_latest_frame(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    await next_frames(activated.runtime.channels["cam1"], 1)
    async with admin.get("/api/channels/cam1/snapshot.jpg") as r:
        assert r.status == 200
        assert r.content_type == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        jpeg = await r.read()
    assert jpeg[:2] == b"\xff\xd8"
    assert decode(jpeg).shape == (120, 160, 3)


async def test_snapshot_resized_by_the_runtime(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    await next_frames(activated.runtime.channels["cam1"], 1)
    path = "/api/channels/cam1/snapshot.jpg"
    for query, shape in [
        ("width=80", (60, 80, 3)),  # one side: the aspect ratio is kept
        ("height=30", (30, 40, 3)),
        ("width=100&height=50", (50, 100, 3)),
        ("width=160&height=120", (120, 160, 3)),
    ]:
        async with admin.get(f"{path}?{query}") as r:
            assert r.status == 200, query
            assert r.content_type == "image/jpeg"
            assert decode(await r.read()).shape == shape, query


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("width=0", "'width'"),
        ("width=-5", "'width'"),
        ("width=abc", "'width'"),
        ("width=1.5", "'width'"),
        ("width=", "'width'"),
        ("height=1_0", "'height'"),
        ("height=99999999999999999999", "'height'"),
        ("width=161", "'width'"),  # larger than the picture: never upscaled
        ("width=80&height=121", "'height'"),
    ],
)
async def test_snapshot_bad_size_is_400(
    activated: ApiServer, admin: aiohttp.ClientSession, query: str, named: str
) -> None:
    await next_frames(activated.runtime.channels["cam1"], 1)
    async with admin.get(f"/api/channels/cam1/snapshot.jpg?{query}") as r:
        assert r.status == 400
        body = await r.json()
    assert body["error"] == "bad_parameter"
    assert named in body["message"]


async def test_snapshot_without_a_frame_is_503(admin: aiohttp.ClientSession) -> None:
    unreachable = {"id": "gate", "source": {"type": "rtsp", "url": "rtsp://127.0.0.1:1/x"}}
    async with admin.post("/api/channels", json=unreachable) as r:
        assert r.status == 201
    async with admin.get("/api/channels/gate/snapshot.jpg") as r:  # no picture yet
        assert r.status == 503
        assert (await r.json())["error"] == "no_frame"
    async with admin.get("/api/channels/garage/snapshot.jpg") as r:  # disabled: never one
        assert r.status == 409
        assert (await r.json())["error"] == "channel_stopped"
    async with admin.get("/api/channels/nope/snapshot.jpg") as r:
        assert r.status == 404


# ---------------------------------------------------------------- MJPEG


async def test_mjpeg_shared_encode_and_nothing_encoded_without_viewers(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    channel = activated.runtime.channels["cam1"]
    live = channel.live
    await next_frames(channel, 10)
    assert live.frames_encoded == 0  # frames flow, nobody watches: no encoding at all

    path = "/api/channels/cam1/live.mjpeg"
    async with admin.get(path) as first, admin.get(path) as second:
        assert first.status == second.status == 200
        assert first.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
        assert first.headers["Content-Security-Policy"]
        await eventually(lambda: live.viewers == 2)
        seq_before, encoded_before = channel.slot.seq, live.frames_encoded
        parts = await asyncio.gather(read_parts(first, 8), read_parts(second, 8))
        # Encodes first, frames second: the encoder keeps running, and a frame it encodes
        # between the two reads must be counted among the frames too.
        encoded = live.frames_encoded - encoded_before
        produced = channel.slot.seq - seq_before
    for viewer in parts:
        assert all(decode(jpeg).shape == (120, 160, 3) for jpeg in viewer)
    # One encode per frame for both viewers: never more encodes than frames, and both were
    # handed the same JPEGs. Two more at most: the frame current at the start of the window
    # (not counted in ``produced``) and, when the encoder lags, an older one whose encode was
    # already under way then.
    assert encoded <= produced + 2
    assert set(parts[0]) & set(parts[1])
    assert encoded < len(parts[0]) + len(parts[1])

    await eventually(lambda: live.viewers == 0)
    await eventually(lambda: activated.app is not None and activated.app[STREAMS].viewers == 0)
    await next_frames(channel, 3)  # let an encode that was in flight finish
    settled = live.frames_encoded
    await next_frames(channel, 10)
    assert live.frames_encoded == settled  # viewers gone: encoding stopped


async def test_mjpeg_viewer_cap_is_503(activated: ApiServer, admin: aiohttp.ClientSession) -> None:
    assert activated.app is not None
    activated.app[STREAMS].max_viewers = 1
    path = "/api/channels/cam1/live.mjpeg"
    async with admin.get(path) as first:
        assert first.status == 200
        async with admin.get(path) as second:
            assert second.status == 503
            assert (await second.json())["error"] == "too_many_viewers"
        await read_part(first)
    async with admin.get("/api/channels/nope/live.mjpeg") as r:
        assert r.status == 404


@pytest.mark.parametrize("channel_id", ["cam1", "garage"])
async def test_mjpeg_disconnect_ends_cleanly(
    activated: ApiServer, caplog: pytest.LogCaptureFixture, channel_id: str
) -> None:
    """A viewer that goes away (with frames flowing, or on a channel without frames) is
    detached, counted out, and leaves nothing in the log above DEBUG."""
    caplog.set_level(logging.DEBUG)
    channel = activated.runtime.channels[channel_id]
    assert activated.app is not None
    streams = activated.app[STREAMS]
    async with client(activated, auth="basic") as session:
        response = await session.get(f"/api/channels/{channel_id}/live.mjpeg")
        assert response.status == 200
        await eventually(lambda: channel.live.viewers == 1)
        if channel_id == "cam1":
            await read_part(response)
        response.close()  # drop the connection mid-stream
    await eventually(lambda: channel.live.viewers == 0 and streams.viewers == 0)
    if channel_id == "cam1":
        await next_frames(channel, 2)
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING and "audit" not in r.name]
    assert not problems, [r.getMessage() for r in problems]


async def test_server_stop_ends_live_streams(activated: ApiServer) -> None:
    async with client(activated, auth="basic") as session:
        response = await session.get("/api/channels/garage/live.mjpeg")
        assert response.status == 200
        async with asyncio.timeout(5):
            await activated.stop()  # returns promptly although a viewer is attached
        response.close()


# ---------------------------------------------------------------- event WebSocket


def _event(channel: str = "cam1", event_id: str = "ws-1") -> EventUpdate:
    return EventUpdate(EventPhase.NEW, Event(channel, "motion", 1_000_000_000.0, id=event_id))


async def test_websocket_pushes_event_updates(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    bus = activated.runtime.bus
    before = bus.subscriber_count
    async with admin.ws_connect("/api/events/ws") as ws:
        bus.publish(_event())
        message = await receive_until(ws, lambda m: m.get("event", {}).get("id") == "ws-1")
        assert message == {"type": "event", **_event().as_dict()}
        await ws.send_str(json.dumps({"type": "ping"}))
        await ws.send_str("not json")  # ignored
        assert await receive_until(ws, lambda m: m["type"] == "pong") == {"type": "pong"}
    await eventually(lambda: bus.subscriber_count == before)


async def test_websocket_channel_filter(activated: ApiServer, admin: aiohttp.ClientSession) -> None:
    async with admin.ws_connect("/api/events/ws?channel=garage") as ws:
        activated.runtime.bus.publish(_event("cam1", "not-for-me"))
        activated.runtime.bus.publish(_event("garage", "for-me"))
        message = json.loads(await ws.receive_str(timeout=10))
        assert message["event"]["id"] == "for-me"
    async with admin.get("/api/events/ws?channel=nope") as r:
        assert r.status == 404


async def test_websocket_slow_client_overflows_without_blocking_the_bus(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.ws_connect("/api/events/ws?channel=garage") as ws:
        total = QUEUE_SIZE + 40
        for i in range(total):  # all at once: the client cannot keep up
            activated.runtime.bus.publish(_event("garage", f"burst-{i}"))
        first = json.loads(await ws.receive_str(timeout=10))
        assert first["type"] == "overflow"
        assert first["dropped"] >= 40
        received = [json.loads(await ws.receive_str(timeout=10)) for _ in range(QUEUE_SIZE)]
        assert received[-1]["event"]["id"] == f"burst-{total - 1}"  # the newest are kept


async def test_websocket_with_a_session_cookie(activated: ApiServer) -> None:
    async with client(activated) as browser:
        login = {"username": "admin", "password": PASSWORD}
        (await browser.post("/api/login", json=login)).release()
        async with browser.ws_connect("/api/events/ws", origin=activated.url) as ws:
            activated.runtime.bus.publish(_event("garage", "cookie"))
            message = await receive_until(ws, lambda m: m.get("event", {}).get("id") == "cookie")
            assert message["phase"] == "new"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
async def test_ffmpeg_reads_the_mjpeg_stream_with_digest(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """A10 interop: FFmpeg as the client, digest only (it answers the MD5 challenge)."""
    server = await make_server(web_authentication="digest")
    await server.security.activate(PASSWORD)
    url = server.url.replace("http://", f"http://admin:{PASSWORD}@")
    output = tmp_path / "frame.jpg"
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-v", "error", "-y", "-i", f"{url}/api/channels/cam1/live.mjpeg",
        "-frames:v", "1", str(output),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert decode(await asyncio.to_thread(output.read_bytes)).shape == (120, 160, 3)


async def test_a_viewer_that_does_not_read_is_disconnected(make_server: ServerFactory) -> None:
    """Issue #11, item 4: the write timeout frees the viewer's slot *and* closes its socket,
    so stalled viewers cannot pile up open connections. The client here never reads, with a
    small receive buffer; big noisy frames fill the server's buffers within a second or so."""
    source = {"type": "synthetic", "width": 1280, "height": 720, "fps": 25, "noise": 30}
    server = await make_server(
        data={"zeroconf": {"enabled": False}, "channels": [{"id": "cam1", "source": source}]}
    )
    await server.security.activate(PASSWORD)
    streams = server.app[STREAMS]  # type: ignore[index]
    streams.write_timeout = 0.5
    loop = asyncio.get_running_loop()
    basic = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    with socket.socket() as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.setblocking(False)
        await loop.sock_connect(stalled, ("127.0.0.1", server.port))
        await loop.sock_sendall(
            stalled,
            b"GET /api/channels/cam1/live.mjpeg HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Basic {basic}\r\n\r\n".encode(),
        )
        await eventually(lambda: streams.viewers == 1)
        await eventually(lambda: streams.watching)  # one watchdog timer for every viewer
        await eventually(lambda: streams.viewers == 0, within=30)
        assert not streams.watching  # and none left once nobody watches
        # The server closed the connection: reading what is left ends in EOF or a reset.
        async with asyncio.timeout(5):
            with contextlib.suppress(ConnectionError):
                while await loop.sock_recv(stalled, 65536):
                    pass


async def test_a_worker_channel_streams_mjpeg_and_its_death_ends_the_stream(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Channels in worker processes: MJPEG over HTTP as from a local channel; when the worker
    is killed the viewer's response ends and the runtime says why (no stray task error)."""
    data = runtime_config()
    data["workers"] = {"channels_per_process": 4}
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    remote = server.runtime.channels["cam1"]
    assert isinstance(remote, RemoteChannel)
    path = "/api/channels/cam1/live.mjpeg"
    async with client(server, auth="basic") as admin:
        async with admin.get("/api/device") as device:
            workers = (await device.json())["workers"]
        assert workers["restarts"] == 0
        assert [p["channels"] for p in workers["processes"]] == [["cam1", "garage"]]
    async with client(server, auth="basic") as admin, admin.get(path) as response:
        assert response.status == 200
        assert all(decode(jpeg).shape == (120, 160, 3) for jpeg in await read_parts(response, 3))
        pid = remote.worker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        async with asyncio.timeout(30):
            while await response.content.read(65536):
                pass
    await eventually(lambda: any("stream ended" in r.getMessage() for r in caplog.records))
