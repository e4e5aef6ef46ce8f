"""LocalClient around a real in-process Runtime: the embedded mode's client."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from camera_runtime.client.local import LocalClient, validate_file
from camera_runtime.exceptions import (
    ChannelStoppedError,
    ConfigError,
    InvalidValueError,
    NoFrameError,
    NotFoundError,
)
from camera_runtime.host import runtime_from_data

from ...plugins.sources.helpers import make_h264
from .helpers import decode, motion_channel, motion_config, next_matching


async def test_local_client_end_to_end(tmp_path: Path) -> None:
    runtime = runtime_from_data(motion_config(), data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    channels: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.subscribe_events(events.put_nowait)
    client.subscribe_channels(channels.put_nowait)
    await client.start()
    try:
        assert client.connected
        assert client.web_url is None  # no HTTP server in the host's process
        assert (await client.device_info())["device_id"] == runtime.device_id
        assert set(client.channels) == {"cam1"}
        assert [c["id"] for c in await client.fetch_channels()] == ["cam1"]

        new = await next_matching(events, lambda u: u["phase"] == "new")
        assert new["event"]["type"] == "motion"
        assert client.active_events("cam1", "motion")[0]["id"] == new["event"]["id"]
        await next_matching(events, lambda u: u["phase"] == "end")
        assert client.active_events() == []

        assert (await client.set_armed("cam1", False))["armed"] is False
        assert client.channels["cam1"]["armed"] is False
        status = await client.set_detector("cam1", "motion", options={"sensitivity": 30})
        assert status["detectors"]["motion"]["options"]["sensitivity"] == 30
        with pytest.raises(ConfigError):
            await client.set_detector("cam1", "motion", options={"sensitivity": -1})
        with pytest.raises(NotFoundError):
            await client.set_armed("nope", True)

        jpeg = await client.snapshot("cam1")
        assert jpeg[:2] == b"\xff\xd8"
        assert decode(jpeg).shape == (120, 160, 3)
        assert decode(await client.snapshot("cam1", width=80)).shape == (60, 80, 3)
        assert decode(await client.snapshot("cam1", 100, 50)).shape == (50, 100, 3)
        with pytest.raises(InvalidValueError):
            await client.snapshot("cam1", height=121)
        assert (await client.capture("cam1"))["channel"] == "cam1"
        frames = []
        async with contextlib.aclosing(client.mjpeg("cam1")) as stream:
            async for picture in stream:
                frames.append(picture)
                if len(frames) == 2:
                    break
        assert frames[0] != frames[1]
        # Only the live view made pictures while watched: no viewer is left behind.
        assert runtime.channel("cam1").live.viewers == 0

        # A channel added at run time reaches the subscribers and the mirror.
        await runtime.add_channel(motion_channel("cam2", "Garden"))
        added = await next_matching(channels, lambda u: u["channel"] == "cam2")
        assert added["change"] == "added"
        await runtime.remove_channel("cam2")
        removed = await next_matching(channels, lambda u: u["change"] == "removed")
        assert removed["channel"] == "cam2" and "cam2" not in client.channels
    finally:
        await client.close()
    assert not client.connected
    assert all(c.state == "stopped" for c in runtime.channels.values())


async def test_snapshot_before_the_first_picture(tmp_path: Path) -> None:
    config = motion_config()
    config["channels"][0]["source"] = {"type": "rtsp", "url": "rtsp://127.0.0.1:9/none"}
    config["channels"][0]["detectors"] = {}
    client = LocalClient(runtime_from_data(config, data_dir=tmp_path / "data"))
    await client.start()
    try:
        with pytest.raises(NoFrameError):
            await client.snapshot("cam1")
    finally:
        await client.close()


async def test_a_stopped_channel_has_no_picture_to_wait_for(tmp_path: Path) -> None:
    """The embedded client hears what the API answers (409): a disabled channel is stopped,
    not starting, for a snapshot and a capture alike."""
    config = motion_config()
    config["channels"][0]["enabled"] = False
    runtime = runtime_from_data(config, data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    await client.start()
    try:
        with pytest.raises(ChannelStoppedError):
            await client.snapshot("cam1")
        with pytest.raises(ChannelStoppedError):
            await client.capture("cam1")
        with pytest.raises(ChannelStoppedError):
            await client.press("cam1", "capture")
    finally:
        await client.close()
    assert not (runtime.data_dir / "captures").exists()


async def test_a_runtime_that_cannot_start_leaves_no_subscription(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    runtime = runtime_from_data(motion_config(), data_dir=blocker / "data")
    client = LocalClient(runtime)
    with pytest.raises(Exception, match="data folder"):
        await client.start()
    assert runtime.bus.subscriber_count == 0
    assert not client.connected


def test_validate_file_describes_the_runtime(tmp_path: Path) -> None:
    """What a host shows before starting an embedded runtime: its name and channel count."""
    named = tmp_path / "named.yaml"
    named.write_text(yaml.safe_dump(motion_config()))
    assert validate_file(named) == {"device_name": "Test NVR", "channels": 1}
    unnamed = tmp_path / "unnamed.yaml"
    unnamed.write_text(yaml.safe_dump({"zeroconf": {"enabled": False}, "channels": []}))
    assert validate_file(unnamed) == {"device_name": "camera-runtime", "channels": 0}
    unnamed.write_text(yaml.safe_dump({"channels": [{"id": "x"}]}))
    with pytest.raises(ConfigError):
        validate_file(unnamed)


async def test_the_local_client_opens_a_channels_stream(tmp_path: Path) -> None:
    """Embedded, the host serves the streams itself (Home Assistant's HTTP server does): the
    client hands the stream's bytes, MPEG-TS or fragmented MP4, from a keyframe."""
    clip = make_h264(tmp_path / "yard.ts")
    config = motion_config()
    config["channels"] = [{"id": "yard", "source": {"type": "file", "path": str(clip)}}]
    runtime = runtime_from_data(config, data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    await client.start()
    try:
        assert client.opens_streams and not client.serves_streams
        channel = runtime.channels["yard"]
        async with asyncio.timeout(20):
            while channel.packets["main"].info is None:  # noqa: ASYNC110 - no event for it
                await asyncio.sleep(0.05)
        for container, head in (("ts", b"\x47"), ("mp4", b"ftyp")):
            reader = await client.open_stream("yard", "main", container)
            try:
                async with asyncio.timeout(20):
                    chunk = await anext(aiter(reader.chunks()))
                assert head in chunk[:8]
            finally:
                reader.close()
        with pytest.raises(NotFoundError):
            await client.open_stream("yard", "fourth")
    finally:
        await client.close()
