"""The embedded mode's video path end to end: a runtime built from a config file by
``LocalClient.from_file``, as the Home Assistant integration builds it, with a looping file
camera and an RTSP camera decoded by PyAV. ``scripts/test`` runs this again with the av
version Home Assistant ships (its stream integration's pin), which the embedded runtime gets."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import yaml

from camera_runtime.client.local import LocalClient
from tests.camera_runtime.client.helpers import decode

from .helpers import HEIGHT, WIDTH, Clips
from .rtsp_server import RtspServer


async def test_embedded_runtime_decodes_file_and_rtsp_cameras(
    clips: Clips, rtsp_server: RtspServer, tmp_path: Path
) -> None:
    config = {
        "device": {"name": "Upstairs"},
        "zeroconf": {"enabled": False},
        "channels": [
            {"id": "file", "source": {"type": "file", "path": str(clips.mp4), "loop": True}},
            {"id": "rtsp", "source": {"type": "rtsp", "url": rtsp_server.url, "open_timeout": 5}},
        ],
    }
    path = tmp_path / "camera_runtime.yaml"
    path.write_text(yaml.safe_dump(config))
    client = await asyncio.to_thread(LocalClient.from_file, path, data_dir=tmp_path / "data")
    online: asyncio.Queue[str] = asyncio.Queue()

    def on_channel(update: dict[str, Any]) -> None:
        if (update.get("status") or {}).get("state") == "online":
            online.put_nowait(update["channel"])

    client.subscribe_channels(on_channel)
    await client.start()
    try:
        assert (await client.device_info())["device_name"] == "Upstairs"
        seen: set[str] = set()
        async with asyncio.timeout(20):
            while seen != {"file", "rtsp"}:
                seen.add(await online.get())
        for channel in ("file", "rtsp"):
            status = client.channels[channel]
            assert (status["width"], status["height"]) == (WIDTH, HEIGHT)
            async with asyncio.timeout(10):
                while not client.runtime.has_picture(channel):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            assert decode(await client.snapshot(channel)).shape == (HEIGHT, WIDTH, 3)
            assert decode(await client.snapshot(channel, width=172)).shape == (120, 172, 3)
            pictures = []
            async with contextlib.aclosing(client.mjpeg(channel)) as stream:
                async for jpeg in stream:
                    pictures.append(jpeg)
                    if len(pictures) == 3:
                        break
            assert len(set(pictures)) == 3  # the clip moves: three different pictures
    finally:
        await client.close()
    assert all(c.state == "stopped" for c in client.runtime.channels.values())
