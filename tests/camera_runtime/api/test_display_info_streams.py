"""Display info on stream (manual 4.2) in the served streams: the boxes are in the encoded
main stream a client decodes; switched off, the camera's packets still pass through byte for
byte; switched on, passthrough clients are cut over to the encoded pictures."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import pytest

from camera_runtime.api import ApiServer
from tests.polling import eventually

from ..test_display_info import SCENE
from .conftest import ServerFactory
from .helpers import PASSWORD, client, runtime_config
from .test_streams import MAIN_SIZE, admin_url, cut_over, make_ts, packets_of, read_stream


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("clips") / "main.ts", MAIN_SIZE)


def red_in(data: bytes) -> list[int]:
    """How many clearly red pixels each decoded picture of a stream has."""
    counts = []
    with av.open(io.BytesIO(data)) as container:
        try:
            for frame in container.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24").astype(int)
                r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
                counts.append(int(((r > 150) & (g < 90) & (b < 90)).sum()))
        except av.FFmpegError:  # the stream was cut mid-packet
            pass
    return counts


async def serve(make_server: ServerFactory, channel: dict[str, Any]) -> ApiServer:
    data: dict[str, Any] = runtime_config()
    data["channels"] = [channel]
    server = await make_server(data=data)
    await server.security.activate(PASSWORD)
    return server


async def test_the_encoded_stream_shows_the_boxes(make_server: ServerFactory) -> None:
    server = await serve(
        make_server,
        {
            "id": "yard",
            "source": SCENE,
            "detect": {"width": 160, "fps": 10},
            "detectors": {"motion": {"hold_time": 30}},
            "display_info": {"enabled": True, "thickness": 3},
        },
    )
    channel = server.runtime.channels["yard"]
    await eventually(lambda: bool(channel.display.marks()))  # motion is being shown
    async with client(server, auth="basic") as session:
        url = await admin_url(session, "yard")
        with_boxes = red_in(await read_stream(server, url, 40_000))
        assert with_boxes and min(with_boxes) > 100  # every picture has its box outline
        async with session.put(
            "/api/channels/yard/controls/display_info", json={"value": False}
        ) as r:
            assert r.status == 200, await r.text()
        without = red_in(await read_stream(server, url, 40_000))
        # The grey scene itself has no red (the first pictures may predate the switch).
        assert len(without) > 3 and max(without[-3:]) < 10


async def test_off_passes_through_byte_for_byte_and_on_cuts_over(
    make_server: ServerFactory, clip: Path
) -> None:
    server = await serve(
        make_server,
        {
            "id": "yard",
            "source": {"type": "file", "path": str(clip), "loop": True},
            "detectors": {"motion": {}},
            "display_info": {"enabled": False},
        },
    )
    channel = server.runtime.channels["yard"]
    await eventually(lambda: channel.frames > 2)
    async with client(server, auth="basic") as session:
        url = await admin_url(session, "yard")
        received = packets_of(await read_stream(server, url, 40_000))
        source = packets_of(clip)
        assert len(received) >= 5
        start = source.index(received[0])
        for offset, packet in enumerate(received[:-1]):  # the last may be cut short
            assert packet == source[(start + offset) % len(source)]
        await cut_over(server, session, url, "display_info")
        encoded = packets_of(await read_stream(server, url, 20_000))
        assert encoded and not set(encoded) & set(source)  # the pictures, encoded anew
