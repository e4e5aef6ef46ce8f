"""Recording through the runtime and the HTTP API: a file source's main stream recorded in
segments, listed by time range (ids, no paths), downloaded by id and played back as one
MPEG-TS file that PyAV decodes and ffprobe reads; the record-clip command and manual
recording on an event-type channel; a channel that does not record says so."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from camera_runtime.api import ApiServer

from ..recording.helpers import ffprobe
from .conftest import ServerFactory
from .helpers import PASSWORD, client, eventually, runtime_config
from .test_streams import make_ts


@pytest.fixture(scope="module")
def main_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("rec") / "main.ts", (320, 240))


@pytest.fixture
async def recording(make_server: ServerFactory, main_clip: Path) -> ApiServer:
    data: dict[str, Any] = runtime_config()
    source = {"type": "file", "path": str(main_clip), "loop": True}
    data["channels"] += [
        {
            "id": "yard",
            "source": source,
            "record": {"enabled": True, "segment_length": 1},
        },
        {
            "id": "door",
            "source": source,
            "record": {"enabled": True, "record_type": "event", "pre_record": 1},
        },
    ]
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    return server


async def listing(session: aiohttp.ClientSession, channel: str, **query: str) -> dict[str, Any]:
    async with session.get(f"/api/channels/{channel}/recordings", params=query) as r:
        assert r.status == 200, await r.text()
        return await r.json()  # type: ignore[no-any-return]


async def test_segments_listed_downloaded_and_played_back(
    recording: ApiServer, tmp_path: Path
) -> None:
    runtime = recording.runtime
    await eventually(lambda: runtime.recordings.recorders["yard"].segments_written >= 3, 20)
    async with client(recording, auth="basic") as session:
        found = await listing(session, "yard")
        segments = found["segments"]
        assert len(segments) >= 3 and found["clips"] == []
        assert all("path" not in s for s in segments)  # ids, never paths
        first = segments[0]
        async with session.get(f"/api/recordings/{first['id']}.ts") as r:
            assert r.status == 200 and r.content_type == "video/mp2t"
            data = await r.read()
        assert len(data) == first["size"]
        (tmp_path / "one.ts").write_bytes(data)
        assert ffprobe(tmp_path / "one.ts")["first_key"]
        # A time range: the two first segments, whole, as one file.
        params = {"start": repr(first["start"]), "end": repr(segments[1]["start"] + 0.01)}
        async with session.get("/api/channels/yard/playback.ts", params=params) as r:
            assert r.status == 200
            played = await r.read()
        assert len(played) == first["size"] + segments[1]["size"]
        (tmp_path / "range.ts").write_bytes(played)
        probed = ffprobe(tmp_path / "range.ts")
        assert probed["first_key"]
        duration = segments[1]["end"] - first["start"]
        assert probed["duration"] == pytest.approx(duration, abs=0.2)
        with av.open(io.BytesIO(played)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == pytest.approx(duration * 25, abs=2)
        # Later than anything: nothing to play; unknown segment: 404.
        later = {"start": repr(time.time() + 3600), "end": repr(time.time() + 3700)}
        async with session.get("/api/channels/yard/playback.ts", params=later) as r:
            assert r.status == 404
        async with session.get("/api/recordings/999999.ts") as r:
            assert r.status == 404
        async with session.get("/api/channels/yard/playback.ts") as r:
            assert (r.status, (await r.json())["error"]) == (400, "bad_parameter")


async def test_clip_command_and_manual_recording(recording: ApiServer) -> None:
    runtime = recording.runtime
    recorder = runtime.recordings.recorders["door"]
    assert not recorder.recording  # event type: nothing recorded until asked
    async with client(recording, auth="basic") as session:
        await eventually(lambda: recorder.ring.packets > 25, 20)  # a second in the ring
        body = {"pre": 1, "length": 1}
        async with session.post("/api/channels/door/record/clip", json=body) as r:
            assert r.status == 201, await r.text()
            clip = await r.json()
        assert clip["reason"] == "clip" and clip["end"] is None
        await eventually(lambda: not recorder.open_clip_ids() and not recorder.recording, 20)
        found = await listing(session, "door")
        segments = found["segments"]  # one, or two where the file source looped (a new one)
        (listed,) = found["clips"]
        assert listed["id"] == clip["id"] and listed["end"] == pytest.approx(clip["start"] + 2)
        # The recording starts at or before the clip (a keyframe of the pre-record), covers it.
        assert segments[0]["start"] <= clip["start"] + 0.05
        assert segments[-1]["end"] >= listed["end"]
        written = recorder.segments_written
        async with session.post("/api/channels/door/record/start") as r:
            assert r.status == 200
            manual = await r.json()
        assert manual["reason"] == "manual"
        await eventually(lambda: recorder.recording, 20)
        async with session.get("/api/channels/door/record") as r:
            assert (await r.json())["manual"] is True
        async with session.post("/api/channels/door/record/stop") as r:
            assert (await r.json()) == {"stopped": True}
        await eventually(lambda: not recorder.recording, 20)
        assert recorder.segments_written > written
        async with session.post("/api/channels/door/record/stop") as r:
            assert (await r.json()) == {"stopped": False}
        async with session.post("/api/channels/cam1/record/clip", json={}) as r:
            assert (r.status, (await r.json())["error"]) == (409, "not_recording")
        async with session.post("/api/channels/door/record/clip", json={"pre": 99}) as r:
            assert r.status == 400
