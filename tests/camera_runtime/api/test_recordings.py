"""Recording through the runtime and the HTTP API: a file source's main stream recorded in
segments, listed by time range (ids, no paths), downloaded by id and played back as one
MPEG-TS file that PyAV decodes and ffprobe reads, seeking with byte ranges; the record-clip
command and manual recording on an event-type channel; a channel that does not record says
so. Capture by timing and by event (manual 5.3.1) found again by picture search, pictures
decoded back; the storage status."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import aiohttp
import av
import cv2
import numpy as np
import pytest

from camera_runtime.api import ApiServer
from camera_runtime.model import Event, EventPhase, EventUpdate
from tests.polling import eventually

from ..recording.helpers import ffprobe
from .conftest import ServerFactory
from .helpers import PASSWORD, client, runtime_config
from .test_streams import make_ts


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height of a JPEG, decoded with OpenCV (a runtime dependency)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert picture is not None
    return picture.shape[1], picture.shape[0]


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
            "capture": {
                "timing": {"enabled": True, "interval": 1},
                "resolution": "160x120",
                "quality": 40,
            },
        },
        {
            "id": "door",
            "source": source,
            "record": {"enabled": True, "record_type": "event", "pre_record": 1},
            "capture": {"event": {"enabled": True, "events": ["bright"], "number": 3}},
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


async def pictures(session: aiohttp.ClientSession, channel: str, **query: str) -> list[Any]:
    async with session.get(f"/api/channels/{channel}/pictures", params=query) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["pictures"]  # type: ignore[no-any-return]


async def test_timing_and_event_captures_found_by_picture_search(recording: ApiServer) -> None:
    runtime = recording.runtime
    await eventually(lambda: runtime.capture_plans.status("yard")["taken"] >= 2, 20)
    other = Event("door", "motion", time.time())
    runtime.bus.publish(EventUpdate(EventPhase.NEW, other))  # not a capturing type
    bright = Event("door", "bright", time.time())
    runtime.bus.publish(EventUpdate(EventPhase.NEW, bright))
    await eventually(lambda: runtime.capture_plans.status("door")["taken"] == 3, 20)
    async with client(recording, auth="basic") as session:
        timed = await pictures(session, "yard", reason="timing")
        assert len(timed) >= 2 and {p["reason"] for p in timed} == {"timing"}
        async with session.get(timed[0]["url"]) as r:
            picture = await r.read()
        assert jpeg_size(picture) == (160, 120)
        assert timed[1]["time"] - timed[0]["time"] == pytest.approx(1.0, abs=0.5)
        burst = await pictures(session, "door")
        assert [p["reason"] for p in burst] == ["bright"] * 3
        assert burst[2]["time"] - burst[0]["time"] == pytest.approx(2.0, abs=0.5)
        # A time range, and bad parameters that name what is wrong.
        assert await pictures(session, "door", end=repr(bright.start - 1)) == []
        async with session.get("/api/channels/door/pictures?reason=../x") as r:
            assert (r.status, (await r.json())["error"]) == (400, "bad_parameter")
        async with session.get("/api/channels/door/pictures?start=soon") as r:
            assert r.status == 400
        # The manual button's pictures say so.
        async with session.post("/api/channels/door/capture") as r:
            assert (await r.json())["reason"] == "manual"
        async with session.get("/api/recordings/storage") as r:
            storage = await r.json()
        assert storage["pictures"] >= len(timed) + 4  # timing goes on meanwhile
        assert storage["video_bytes"] >= 0 and storage["free_bytes"] > 0
        assert storage["overwrite"] is True and storage["full"] is None


async def search(session: aiohttp.ClientSession, **query: str) -> dict[str, Any]:
    async with session.get("/api/search", params=query) as r:
        assert r.status == 200, await r.text()
        return await r.json()  # type: ignore[no-any-return]


async def test_one_search_over_segments_clips_pictures_and_events(recording: ApiServer) -> None:
    runtime = recording.runtime
    await eventually(lambda: runtime.capture_plans.status("yard")["taken"] >= 1, 20)
    await eventually(lambda: runtime.recordings.recorders["yard"].segments_written >= 1, 20)
    bright = Event("door", "bright", time.time())
    runtime.bus.publish(EventUpdate(EventPhase.NEW, bright))
    await eventually(lambda: runtime.capture_plans.status("door")["taken"] == 3, 20)
    async with client(recording, auth="basic") as session:
        door = await search(session, channel="door", type="bright")
        assert [p["reason"] for p in door["pictures"]] == ["bright"] * 3
        assert {p["type"] for p in door["pictures"]} == {"event"}
        assert [e["id"] for e in door["events"]] == [bright.id]
        assert all(c["reason"] == "bright" for c in door["clips"])
        # "event": every event-triggered picture, and every event.
        assert len((await search(session, channel="door", type="event"))["pictures"]) == 3
        timed = await search(session, type="timing")
        assert timed["pictures"] and {p["channel"] for p in timed["pictures"]} == {"yard"}
        assert timed["events"] == [] and timed["segments"]  # segments: whatever the type
        only = await search(session, channel="yard", within="segments", limit="1")
        assert list(only) == ["segments"] and len(only["segments"]) == 1
        assert "path" not in only["segments"][0]
        later = await search(session, channel="door", start=repr(time.time() + 60))
        assert later["pictures"] == [] and later["events"] == []
        # A picture and its thumbnail, by id.
        picture = door["pictures"][0]
        async with session.get(picture["url"]) as r:
            assert jpeg_size(await r.read())[0] > 0
        async with session.get(picture["thumbnail"], params={"width": "64"}) as r:
            assert r.status == 200 and jpeg_size(await r.read())[0] == 64
        async with session.get("/api/captures/0000000000000-000000000000/thumbnail.jpg") as r:
            assert r.status == 404
        for bad in ("within=files", "type=../x", "limit=0", "start=soon"):
            async with session.get(f"/api/search?{bad}") as r:
                assert (r.status, (await r.json())["error"]) == (400, "bad_parameter"), bad
        async with session.get("/api/search?channel=nope") as r:
            assert r.status == 404


async def test_playback_as_mp4_for_a_browser(recording: ApiServer) -> None:
    """The range remuxed (no re-encoding) into one MP4 with its index first: every recorded
    frame, times from the first segment's start, byte ranges; remuxed once per range."""
    runtime = recording.runtime
    await eventually(lambda: runtime.recordings.recorders["yard"].segments_written >= 3, 30)
    async with client(recording, auth="basic") as session:
        segments = (await listing(session, "yard"))["segments"][:3]
        start, end = segments[0]["start"], segments[2]["end"]
        url = f"/api/channels/yard/playback.mp4?start={start}&end={end - 0.01}"
        async with session.get(url) as r:
            assert r.status == 200, await r.text()
            assert r.headers["Content-Type"] == "video/mp4"
            data = await r.read()
        assert data.index(b"moov") < data.index(b"mdat")  # faststart: plays at once
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            packets = [p for p in container.demux(stream) if p.size]
            assert packets[0].is_keyframe and packets[0].pts is not None
            last = max(p.pts for p in packets if p.pts is not None)
            span = float((last - packets[0].pts) * stream.time_base)
        with av.open(io.BytesIO(data)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        expected = 0
        for segment in segments:
            async with session.get(f"/api/recordings/{segment['id']}.ts") as r:
                with av.open(io.BytesIO(await r.read())) as ts:
                    expected += sum(1 for p in ts.demux(video=0) if p.size)
        assert frames == expected
        assert span == pytest.approx(end - start, abs=0.5)
        async with session.get(url, headers={"Range": "bytes=0-99"}) as r:
            assert r.status == 206 and await r.read() == data[:100]
        assert len(list(runtime.recordings.playback.folder.glob("*.mp4"))) == 1  # remuxed once
        async with session.get(f"/api/channels/yard/playback.mp4?start=0&end={4 * 3600}") as r:
            assert (r.status, (await r.json())["error"]) == (400, "bad_parameter")
        async with session.get("/api/channels/yard/playback.mp4?start=0&end=3600") as r:
            assert r.status == 404


async def test_playback_seeks_with_byte_ranges_and_thumbnails(recording: ApiServer) -> None:
    runtime = recording.runtime
    await eventually(lambda: runtime.recordings.recorders["yard"].segments_written >= 2, 20)
    async with client(recording, auth="basic") as session:
        async with session.get("/api/channels/yard/recordings") as r:
            segments = (await r.json())["segments"]
        params = {"start": repr(segments[0]["start"]), "end": repr(segments[1]["start"] + 0.01)}
        async with session.get("/api/channels/yard/playback.ts", params=params) as r:
            assert r.status == 200 and r.headers["Accept-Ranges"] == "bytes"
            whole = await r.read()
        size = len(whole)
        assert size == segments[0]["size"] + segments[1]["size"]
        # Across the boundary of the two files, an open-ended range and the last bytes.
        middle = segments[0]["size"] - 1000
        for header, first, stop in (
            (f"bytes={middle}-{middle + 1999}", middle, middle + 2000),
            (f"bytes={middle}-", middle, size),
            ("bytes=-188", size - 188, size),
        ):
            headers = {"Range": header}
            async with session.get(
                "/api/channels/yard/playback.ts", params=params, headers=headers
            ) as r:
                assert r.status == 206, header
                assert r.headers["Content-Range"] == f"bytes {first}-{stop - 1}/{size}"
                assert await r.read() == whole[first:stop]
        # Thumbnails: the segment's first picture, smaller when asked; bad sizes say so.
        async with session.get(f"/api/recordings/{segments[1]['id']}.jpg?width=160") as r:
            assert r.status == 200 and r.content_type == "image/jpeg"
            thumb = await r.read()
        assert jpeg_size(thumb) == (160, 120)
        async with session.get(f"/api/recordings/{segments[1]['id']}.jpg?width=9999") as r:
            assert (r.status, (await r.json())["error"]) == (400, "bad_parameter")
        async with session.get("/api/recordings/999999.jpg") as r:
            assert r.status == 404
        # Seeking to the second file's start gives a file that plays from its keyframe.
        tail = {"Range": f"bytes={segments[0]['size']}-"}
        async with session.get("/api/channels/yard/playback.ts", params=params, headers=tail) as r:
            second = await r.read()
        with av.open(io.BytesIO(second)) as container:
            assert next(p for p in container.demux(video=0) if p.size).is_keyframe
        for bad in (f"bytes={size}-", "pages=1-2"):
            async with session.get(
                "/api/channels/yard/playback.ts", params=params, headers={"Range": bad}
            ) as r:
                assert r.status == 416, bad
                assert r.headers["Content-Range"] == f"bytes */{size}"
