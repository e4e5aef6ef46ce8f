"""Recordings in Home Assistant's media browser, against a real runtime recording a file
source: runtime, camera, day; the day's clips, pictures and segments; each resolves to a path
on Home Assistant's own server that gives the real bytes (an MP4 file that plays from a
keyframe, streamed with the byte ranges a seeking player asks for; a JPEG) through the entry's
client, and only to a signed-in user."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import av
import pytest
from homeassistant.components import media_source
from homeassistant.components.media_player import BrowseError
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from camera_runtime.model import Event, EventPhase, EventUpdate
from tests.camera_runtime.api.test_streams import make_ts
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry

ROOT = "media-source://camera_runtime"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("ha-media") / "main.ts", (160, 120))


async def test_browse_and_play_recordings_clips_and_pictures(
    hass: HomeAssistant, serve: ServeFactory, clip: Path, hass_client: ClientSessionGenerator
) -> None:
    data = {
        "device": {"name": "Test NVR"},
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam1",
                "name": "Front door",
                "source": {"type": "file", "path": str(clip), "loop": True},
                "record": {"enabled": True, "record_type": "motion", "pre_record": 1},
                "capture": {"event": {"enabled": True, "events": ["bright"]}},
            }
        ],
    }
    served = await serve(data)
    runtime = served.runtime
    recorder = runtime.recordings.recorders["cam1"]
    bright = Event("cam1", "bright", time.time())
    runtime.bus.publish(EventUpdate(EventPhase.NEW, bright))
    recorded = await runtime.record_clip("cam1", 1.0, 1.0)
    async with asyncio.timeout(20):  # the writer thread offers nothing to await
        while not (  # noqa: ASYNC110
            recorder.segments_written
            and not recorder.recording
            and (await runtime.recordings_of("cam1"))["clips"][0]["end"]
            and len(runtime.captures)
        ):
            await asyncio.sleep(0.05)
    assert recorder.segments_written >= 1 and recorded["reason"] == "clip"

    assert await async_setup_component(hass, "media_source", {})
    await set_up_entry(hass, remote_entry(served))
    device = runtime.device_id
    root = await media_source.async_browse_media(hass, ROOT)
    assert [(c.title, c.identifier) for c in root.children] == [("Test NVR", device)]
    cameras = await media_source.async_browse_media(hass, f"{ROOT}/{device}")
    assert [c.title for c in cameras.children] == ["Front door"]
    days = await media_source.async_browse_media(hass, f"{ROOT}/{device}/cam1")
    (today,) = days.children
    day = await media_source.async_browse_media(hass, today.media_content_id)
    titles = [c.title for c in day.children]
    assert titles[0].startswith("Recordings (")
    kinds = {c.media_content_type for c in day.children[1:]}
    assert kinds == {"video/mp4", "image/jpeg"}
    clip_item = next(c for c in day.children if c.media_content_type == "video/mp4")
    picture_item = next(c for c in day.children if c.media_content_type == "image/jpeg")
    assert clip_item.title.endswith(" clip") and picture_item.title.endswith(" bright")
    segments = await media_source.async_browse_media(hass, day.children[0].media_content_id)
    assert len(segments.children) == recorder.segments_written

    client = await hass_client()
    first = (await runtime.recordings_of("cam1"))["segments"][0]
    played = {}
    for item, check in ((clip_item, "mp4"), (segments.children[0], "mp4"), (picture_item, "jpeg")):
        resolved = await media_source.async_resolve_media(hass, item.media_content_id, None)
        assert resolved.mime_type == ("video/mp4" if check == "mp4" else "image/jpeg")
        async with client.get(resolved.url) as response:
            assert response.status == 200, resolved.url
            assert response.content_type == resolved.mime_type
            body = await response.read()
        if check == "mp4":
            # What a browser's <video> plays: MP4 with its index ahead of the media data.
            assert body.index(b"moov") < body.index(b"mdat")
            with av.open(io.BytesIO(body)) as container:
                assert container.format.name.startswith("mov")
                packets = [p for p in container.demux(video=0) if p.size]
            assert packets[0].is_keyframe
            played[item.title] = len(packets)
            # A player seeking: Home Assistant hands the byte range on, streamed.
            async with client.get(resolved.url, headers={"Range": "bytes=10-109"}) as response:
                assert response.status == 206
                assert response.headers["Content-Range"] == f"bytes 10-109/{len(body)}"
                assert await response.read() == body[10:110]
        else:
            assert Image.open(io.BytesIO(body)).format == "JPEG"
    # A segment plays alone (not the segments that touch it): its own packets.
    with av.open(str(runtime.recordings.segment_file(first["id"]))) as container:
        own = sum(1 for p in container.demux(video=0) if p.size)
    assert played[segments.children[0].title] == own
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(hass, f"{ROOT}/unknown-runtime")
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(hass, f"{ROOT}/{device}/cam1", None)
    async with client.get(f"/api/camera_runtime/{device}/media/picture/nope") as response:
        assert response.status == 404
