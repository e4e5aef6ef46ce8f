"""Streams over HTTP: a channel's main stream passed through as MPEG-TS, byte for byte, to real
ffprobe and PyAV; the sub-stream decoded for live view and detection; stream URLs."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import cv2
import numpy as np
import pytest

from camera_runtime.api import ApiServer
from tests.polling import eventually

from ...plugins.sources.helpers import ffmpeg
from .conftest import ServerFactory
from .helpers import PASSWORD, client, runtime_config
from .test_live import read_part

FFPROBE = shutil.which("ffprobe") or "ffprobe"
MAIN_SIZE, SUB_SIZE = (320, 240), (160, 120)


def make_ts(path: Path, size: tuple[int, int]) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size[0]}x{size[1]}:rate=25", "-t", "2",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "10", "-bf", "0",
        "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return make_ts(folder / "main.ts", MAIN_SIZE), make_ts(folder / "sub.ts", SUB_SIZE)


def packets_of(data: bytes | Path) -> list[bytes]:
    """The video packets PyAV demuxes from a file or from bytes."""
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else str(data)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


@pytest.fixture
async def streaming(make_server: ServerFactory, clips: tuple[Path, Path]) -> ApiServer:
    main, sub = clips
    data: dict[str, Any] = runtime_config()
    data["channels"].append(
        {
            "id": "yard",
            "source": {"type": "file", "path": str(main), "loop": True},
            "substream": {"type": "file", "path": str(sub), "loop": True},
        }
    )
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    return server


@pytest.fixture
async def admin_session(streaming: ApiServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with client(streaming, auth="basic") as session:
        yield session


async def stream_url(session: aiohttp.ClientSession, role: str = "main") -> dict[str, Any]:
    async with session.post(f"/api/channels/yard/streams/{role}/url") as r:
        assert r.status == 200, await r.text()
        return await r.json()  # type: ignore[no-any-return]


async def read_stream(
    server: ApiServer, path: str, size: int, content_type: str = "video/mp2t"
) -> bytes:
    """At least ``size`` bytes of a stream, read without any credentials but the URL's."""
    async with client(server) as anon, anon.get(path) as r:
        assert r.status == 200, await r.text()
        assert r.headers["Content-Type"] == content_type
        data = b""
        async with asyncio.timeout(20):
            while len(data) < size:
                data += await r.content.readany()
    return data


async def test_main_stream_is_the_source_packets_byte_for_byte(
    streaming: ApiServer, admin_session: aiohttp.ClientSession, clips: tuple[Path, Path]
) -> None:
    channel = streaming.runtime.channels["yard"]
    await eventually(lambda: channel.packets["main"].info is not None)
    assert not channel.served.passthrough["main"].running  # nobody watches: no muxer runs
    url = await stream_url(admin_session)
    data = await read_stream(streaming, url["path"], 60_000)

    assert data[0] == 0x47 and len(data) >= 188  # MPEG-TS sync byte
    received = packets_of(data)
    source = packets_of(clips[0])
    assert len(received) >= 10
    # The stream joins at a keyframe and every packet is one of the file's, unchanged and in
    # order (the file loops, so the sequence wraps around).
    start = source.index(received[0])
    for offset, packet in enumerate(received[:-1]):  # the last may be cut short
        assert packet == source[(start + offset) % len(source)]
    await eventually(lambda: not channel.served.passthrough["main"].running)  # the client left


async def test_real_ffprobe_and_pyav_open_the_stream_url(
    streaming: ApiServer, admin_session: aiohttp.ClientSession
) -> None:
    url = (await stream_url(admin_session))["url"]
    probe = await asyncio.to_thread(
        subprocess.run,
        [FFPROBE, "-v", "error", "-show_streams", "-of", "json", url],
        capture_output=True,
        timeout=60,
        check=True,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", *MAIN_SIZE)
    assert stream["r_frame_rate"] == "25/1"

    def decode_some() -> tuple[int, int, int]:
        with av.open(url, timeout=20) as container:
            for frame in container.decode(video=0):
                return frame.width, frame.height, int(frame.key_frame)
        raise AssertionError("no frame decoded")

    assert await asyncio.to_thread(decode_some) == (*MAIN_SIZE, 1)  # starts at a keyframe


async def test_the_stream_as_fragmented_mp4_for_a_browser(
    streaming: ApiServer, admin_session: aiohttp.ClientSession, clips: tuple[Path, Path]
) -> None:
    """The same stream URL's grant plays ``.mp4``: an initialisation segment, then fragments
    from a keyframe, each frame the source's (the same NAL units, length-prefixed)."""
    path = (await stream_url(admin_session))["path"].replace(".ts?", ".mp4?")
    data = await read_stream(streaming, path, 60_000, "video/mp4")
    assert data[4:8] == b"ftyp"
    with av.open(io.BytesIO(data)) as container:
        frames = []
        with contextlib.suppress(av.error.InvalidDataError):  # the last fragment is cut short
            for frame in container.decode(video=0):
                frames.append(frame)
    assert len(frames) >= 10 and frames[0].key_frame
    assert (frames[0].width, frames[0].height) == MAIN_SIZE
    async with admin_session.get("/api/channels/yard/streams/main.mkv") as r:
        assert r.status == 404


async def test_substream_feeds_live_view_and_detection_main_is_not_decoded(
    streaming: ApiServer, admin_session: aiohttp.ClientSession
) -> None:
    await eventually(lambda: streaming.runtime.channels["yard"].frames > 3)
    async with admin_session.get("/api/channels/yard") as r:
        status = await r.json()
    main, sub = status["streams"]["main"], status["streams"]["sub"]
    assert (main["codec"], main["width"], main["height"]) == ("h264", *MAIN_SIZE)
    assert (sub["codec"], sub["width"], sub["height"]) == ("h264", *SUB_SIZE)
    assert (status["width"], status["height"]) == MAIN_SIZE  # the channel is its main stream
    async with admin_session.get("/api/channels/yard/snapshot.jpg") as r:
        jpeg = await r.read()
    with av.open(io.BytesIO(jpeg)) as container:
        picture = next(container.decode(video=0))
    assert (picture.width, picture.height) == SUB_SIZE  # pictures come from the sub-stream
    channel = streaming.runtime.channels["yard"]
    # The channel's pictures are the sub-stream's while the main stream's packets flow (that
    # the main feed never decodes is shown in test_feed.py, counting decode calls).
    assert channel.slot.frame is not None and channel.slot.frame.width == SUB_SIZE[0]
    assert channel.packets["main"].packets > 0
    url = await stream_url(admin_session, "sub")
    received = packets_of(await read_stream(streaming, url["path"], 20_000))
    assert received  # the sub-stream is served too


async def test_stream_url_grants_one_stream_and_nothing_else(
    streaming: ApiServer, admin_session: aiohttp.ClientSession
) -> None:
    url = await stream_url(admin_session)
    access = url["path"].split("access=")[1]
    assert url["expires"] is not None  # given to a password: it expires
    async with client(streaming) as anon:
        for path in (
            "/api/channels/yard/streams/main.ts",  # no credentials
            f"/api/channels/yard/streams/sub.ts?access={access}",  # another stream
            f"/api/channels/yard/streams/main.ts?access={access[:-2]}xx",  # tampered
            "/api/channels/yard/streams/main.ts?access=garbage",
        ):
            async with anon.get(path) as r:
                assert r.status == 401, path
                assert "WWW-Authenticate" not in r.headers or "access=" not in path
        # The grant opens nothing but its stream.
        for path in (f"/api/channels/yard?access={access}", f"/api/device?access={access}"):
            async with anon.get(path) as r:
                assert r.status == 401, path


async def test_a_token_url_lives_with_its_token(
    streaming: ApiServer, admin_session: aiohttp.ClientSession
) -> None:
    async with admin_session.post("/api/tokens", json={"name": "ha"}) as r:
        created = await r.json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    async with client(streaming, headers=headers) as program:
        url = await stream_url(program)
    assert url["expires"] is None
    assert await read_stream(streaming, url["path"], 1000)
    async with admin_session.delete(f"/api/tokens/{created['id']}") as r:
        assert r.status in (200, 204)
    async with client(streaming) as anon, anon.get(url["path"]) as r:
        assert r.status == 401
        assert "deleted" in (await r.json())["message"]


async def test_an_open_stream_ends_when_its_token_is_deleted(
    streaming: ApiServer, admin_session: aiohttp.ClientSession
) -> None:
    async with admin_session.post("/api/tokens", json={"name": "vlc"}) as r:
        created = await r.json()
    async with client(streaming, headers={"Authorization": f"Bearer {created['token']}"}) as c:
        url = await stream_url(c)
    async with client(streaming) as anon, anon.get(url["path"]) as stream:
        assert stream.status == 200
        assert await stream.content.readany()
        async with admin_session.delete(f"/api/tokens/{created['id']}") as r:
            assert r.status in (200, 204)
        async with asyncio.timeout(15):  # the server closes it (checked every second)
            with contextlib.suppress(aiohttp.ClientPayloadError):
                while await stream.content.readany():
                    pass


async def test_stream_errors_are_clear(
    make_server: ServerFactory, admin: aiohttp.ClientSession
) -> None:
    async with admin.get("/api/channels/cam1/streams/sub.ts") as r:
        assert r.status == 404
        assert (await r.json())["error"] == "stream_not_found"
    async with admin.post("/api/channels/cam1/streams/third/url") as r:
        assert r.status == 404
    async with admin.get("/api/channels/garage/streams/main.ts") as r:
        assert r.status == 409
        assert (await r.json())["error"] == "channel_stopped"


def decoded(data: bytes) -> list[Any]:
    """The pictures of an MPEG-TS or fragmented MP4 stream, as grey numpy arrays."""
    with av.open(io.BytesIO(data)) as container:
        frames = []
        try:
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="gray"))
        except av.FFmpegError:  # the stream was cut mid-packet
            pass
        return frames


async def test_a_synthetic_scene_gets_an_encoded_main_stream_only_while_watched(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    channel = activated.runtime.channels["cam1"]
    await eventually(lambda: channel.frames > 2)
    async with admin.get("/api/channels/cam1") as r:
        main = (await r.json())["streams"]["main"]
    assert (main["mode"], main["codec"], main["width"], main["height"]) == (
        "encoded",
        "h264",
        160,
        120,
    )
    url = await admin_url(admin, "cam1")
    pictures = decoded(await read_stream(activated, url, 30_000))
    assert pictures and pictures[0].shape == (120, 160)
    encoder = channel.served._encoded["main"][0]
    await eventually(lambda: not encoder.running)  # the client left: the encoder stopped
    # The same encoded stream as fragmented MP4 (the encoder's start codes, parameter sets in
    # band, become an avcC box and length-prefixed samples).
    mp4 = await read_stream(activated, url.replace(".ts?", ".mp4?"), 30_000, "video/mp4")
    assert mp4[4:8] == b"ftyp"
    pictures = decoded(mp4)
    assert pictures and pictures[0].shape == (120, 160)
    await eventually(lambda: not encoder.running)


async def admin_url(session: aiohttp.ClientSession, channel: str, role: str = "main") -> str:
    async with session.post(f"/api/channels/{channel}/streams/{role}/url") as r:
        assert r.status == 200, await r.text()
        return str((await r.json())["path"])


async def cut_over(
    server: ApiServer, session: aiohttp.ClientSession, url: str, control: str
) -> None:
    """Switch ``control`` on while a client watches channel ``yard``'s main stream passed
    through: that client's stream ends (at its next packet) and the stream is encoded."""
    channel = server.runtime.channels["yard"]
    async with client(server) as anon, anon.get(url) as passthrough:
        assert passthrough.status == 200
        await passthrough.content.readany()
        assert channel.served.status()["main"]["mode"] == "passthrough"
        async with session.put(f"/api/channels/yard/controls/{control}", json={"value": True}) as r:
            assert r.status == 200, await r.text()
        async with asyncio.timeout(20):
            while await passthrough.content.readany():
                pass
    assert channel.served.status()["main"]["mode"] == "encoded"


async def test_a_privacy_mask_cuts_passthrough_over_to_encoded_masked_pictures(
    make_server: ServerFactory, clips: tuple[Path, Path]
) -> None:
    main, _ = clips
    data: dict[str, Any] = runtime_config()
    left_half = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
    data["channels"] = [
        {
            "id": "yard",
            "source": {"type": "file", "path": str(main), "loop": True},
            "image": {"privacy_mask": {"enabled": False, "areas": [left_half]}},
            "streams": {"third": {"width": 80, "height": 60}},
        }
    ]
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    channel = server.runtime.channels["yard"]
    await eventually(lambda: channel.frames > 2)
    async with client(server, auth="basic") as session:
        url = await admin_url(session, "yard")
        await cut_over(server, session, url, "privacy_mask")
        pictures = decoded(await read_stream(server, url, 40_000))
        assert pictures
        for picture in pictures:
            assert picture.shape == (MAIN_SIZE[1], MAIN_SIZE[0])
            masked = picture[:, : MAIN_SIZE[0] // 2 - 4]
            assert masked.mean() < 20 and masked.max() < 40  # black (16), give or take H.264
        third = decoded(await read_stream(server, await admin_url(session, "yard", "third"), 8000))
        assert third and third[0].shape == (60, 80)
        # The MJPEG live view shows the same masked pictures.
        async with session.get("/api/channels/yard/live.mjpeg") as live:
            jpeg = await read_part(live)
        picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert picture[:, : MAIN_SIZE[0] // 2 - 4].max() < 40


async def test_stream_config_errors_name_their_key() -> None:
    from camera_runtime.exceptions import ConfigError
    from camera_runtime.host import runtime_from_data

    data: dict[str, Any] = runtime_config()
    data["channels"][0]["streams"] = {
        "fourth": {},
        "third": {"video_encoding": "vp9", "i_frame_interval": 0},
    }
    with pytest.raises(ConfigError) as caught:
        runtime_from_data(data, data_dir=Path("/nonexistent-not-created"))
    text = "\n".join(caught.value.errors)
    assert "channels[0].streams" in text and "fourth" in text
    assert "channels[0].streams.third.video_encoding" in text
    assert "channels[0].streams.third.i_frame_interval" in text


async def test_an_mjpeg_stream_is_not_served_as_mpeg_ts(make_server: ServerFactory) -> None:
    data: dict[str, Any] = runtime_config()
    data["channels"][0]["streams"] = {"third": {"video_encoding": "mjpeg"}}
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    async with client(server, auth="basic") as session:
        async with session.get("/api/channels/cam1/streams/third.ts") as r:
            assert r.status == 409
            body = await r.json()
        assert body["error"] == "stream_unavailable" and "mjpeg" in body["message"]


async def test_target_cropping_makes_the_third_stream_a_window(make_server: ServerFactory) -> None:
    data: dict[str, Any] = runtime_config()
    data["channels"][0]["target_cropping"] = {
        "enabled": True,
        "resolution": "64x48",
        "x": 0.5,
        "y": 0.5,
    }
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    channel = server.runtime.channels["cam1"]
    await eventually(lambda: channel.frames > 2)
    async with client(server, auth="basic") as session:
        async with session.get("/api/channels/cam1") as r:
            third = (await r.json())["streams"]["third"]
        assert (third["mode"], third["width"], third["height"]) == ("encoded", 64, 48)
        url = await admin_url(session, "cam1", "third")
    pictures = decoded(await read_stream(server, url, 8000))
    assert pictures and pictures[0].shape == (48, 64)
