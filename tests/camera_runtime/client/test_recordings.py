"""Recording through both clients: the remote one (HTTP) and the local one (in-process) start
and stop manual recording, record a clip, list the segments and download one, with the same
answers; a channel that does not record is refused by both."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from camera_runtime.client import RemoteClient
from camera_runtime.client.base import RuntimeClient
from camera_runtime.client.errors import RequestError
from camera_runtime.client.local import LocalClient
from camera_runtime.exceptions import NotRecordingError
from camera_runtime.host import runtime_from_data
from camera_runtime.runtime import Runtime
from tests.runtime_server import ServeFactory

from ..api.test_streams import make_ts


@pytest.fixture(scope="module")
def main_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("client-rec") / "main.ts", (160, 120))


def _config(clip: Path) -> dict[str, Any]:
    source = {"type": "file", "path": str(clip), "loop": True}
    return {
        "zeroconf": {"enabled": False},
        "channels": [
            {"id": "cam1", "source": source, "record": {"enabled": True, "record_type": "event"}},
            {"id": "cam2", "source": source},
        ],
    }


async def _until(predicate: Any, within: float = 20.0) -> None:
    """State of the recorder's thread, which offers nothing to await: polled, bounded."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _record(client: RuntimeClient, runtime: Runtime) -> list[Any]:
    recorder = runtime.recordings.recorders["cam1"]
    await _until(lambda: recorder.ring.packets > 10)
    manual = await client.record_start("cam1")
    await _until(lambda: recorder.recording)
    stopped = await client.record_stop("cam1")
    again = await client.record_stop("cam1")
    await _until(lambda: not recorder.recording and not recorder.open_clip_ids())
    clip = await client.record_clip("cam1", 0.5, 0.5)
    found = await client.recordings("cam1")
    data = await client.recording(found["segments"][0]["id"])
    with av.open(io.BytesIO(data)) as container:
        first = next(p for p in container.demux(video=0) if p.size)
    segment = found["segments"][0]
    span = (segment["start"] + 0.001, segment["end"] - 0.001)
    async with client.playback("cam1", *span) as whole:
        played = b"".join([chunk async for chunk in whole.chunks])
    # A seeking player's byte range: 206 and those bytes, with where they lie in the whole.
    async with client.playback("cam1", *span, "bytes=100-1099") as part:
        piece = b"".join([chunk async for chunk in part.chunks])
    async with client.playback("cam1", *span, "bytes=-10") as tail:
        last = b"".join([chunk async for chunk in tail.chunks])
    with pytest.raises(RequestError) as refused:
        async with client.playback("cam1", *span, f"bytes={len(played)}-"):
            pass
    with av.open(io.BytesIO(played)) as container:
        assert container.format.name.startswith("mov")  # MP4: what a browser plays
        moved = [p for p in container.demux(video=0) if p.size]
    with av.open(io.BytesIO(data)) as container:
        recorded = [p for p in container.demux(video=0) if p.size]
    return [
        manual["reason"],
        stopped,
        again,
        clip["reason"],
        [c["reason"] for c in found["clips"]],
        len(data) == found["segments"][0]["size"],
        first.is_keyframe,
        # remuxed (length-prefixed NAL units instead of start codes), every picture kept
        [p.is_keyframe for p in moved] == [p.is_keyframe for p in recorded],
        (whole.status, whole.headers["Content-Type"], whole.headers["Content-Length"])
        == (200, "video/mp4", str(len(played))),
        (part.status, part.headers["Content-Range"], piece)
        == (206, f"bytes 100-1099/{len(played)}", played[100:1100]),
        (tail.status, last) == (206, played[-10:]),
        (refused.value.status, refused.value.translation_key) == (416, "range_not_satisfiable"),
    ]


EXPECTED = ["manual", True, False, "clip", ["manual", "clip"], True, True, True, True, True]
EXPECTED += [True, True]


async def test_remote_client_records(
    serve: ServeFactory, session: aiohttp.ClientSession, main_clip: Path
) -> None:
    served = await serve(_config(main_clip))
    client = RemoteClient(session, "127.0.0.1", served.port, token=served.token)
    await client.start()
    try:
        assert await _record(client, served.runtime) == EXPECTED
        with pytest.raises(RequestError) as refused:
            await client.record_clip("cam2")
        assert (refused.value.status, refused.value.translation_key) == (409, "not_recording")
    finally:
        await client.close()


async def test_local_client_records(tmp_path: Path, main_clip: Path) -> None:
    runtime = runtime_from_data(_config(main_clip), data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    await client.start()
    try:
        assert await _record(client, runtime) == EXPECTED
        with pytest.raises(NotRecordingError):
            await client.record_clip("cam2")
    finally:
        await client.close()
