"""Commands beyond the switches: detector options, capture picture, channels added and removed
at run time, and the channel changes pushed on the WebSocket."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np

from camera_runtime.api import ApiServer
from camera_runtime.host import runtime_from_data, runtime_from_file
from tests.polling import eventually

from .conftest import ServerFactory
from .helpers import client, receive_until, runtime_config

SYNTHETIC = {"type": "synthetic", "width": 160, "height": 120, "fps": 25}


async def test_motion_sensitivity_is_changed_checked_and_pushed(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    channel = activated.runtime.channels["cam1"]
    async with admin.ws_connect("/api/events/ws") as ws:
        body = {"options": {"sensitivity": 80}}
        async with admin.put("/api/channels/cam1/detectors/motion", json=body) as r:
            assert r.status == 200
            assert (await r.json())["detectors"]["motion"]["options"]["sensitivity"] == 80
        pushed = await receive_until(
            ws,
            lambda m: (
                m["type"] == "channel"
                and m["status"]["detectors"]["motion"]["options"]["sensitivity"] == 80
            ),
        )
        assert (pushed["change"], pushed["channel"]) == ("changed", "cam1")
    # Other options are kept; the detector's schema applied its defaults once.
    options = channel.detectors["motion"].options
    assert (options["sensitivity"], options["mode"], options["hold_time"]) == (80, "normal", 5.0)
    async with admin.put(
        "/api/channels/cam1/detectors/motion", json={"options": {"sensitivity": -1}}
    ) as r:
        assert r.status == 422
        error = await r.json()
        assert error["errors"] == [
            "channels.cam1.detectors.motion.sensitivity: value must be at least 0"
        ]
    assert channel.detectors["motion"].options["sensitivity"] == 80


async def test_arming_change_is_pushed_on_the_websocket(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.ws_connect("/api/events/ws?channel=cam1") as ws:
        (await admin.put("/api/channels/cam1/arming", json={"armed": False})).release()
        pushed = await receive_until(
            ws, lambda m: m["type"] == "channel" and m["status"]["armed"] is False
        )
        assert pushed["status"]["id"] == "cam1"


async def test_capture_keeps_a_jpeg_addressed_by_id(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    channel = activated.runtime.channels["cam1"]
    await eventually(lambda: channel.slot.frame is not None)
    async with admin.post("/api/channels/cam1/capture") as r:
        assert r.status == 201
        capture = await r.json()
    assert capture["channel"] == "cam1" and capture["url"] == f"/api/captures/{capture['id']}.jpg"
    async with admin.get(capture["url"]) as r:
        assert r.status == 200 and r.content_type == "image/jpeg"
        jpeg = await r.read()
    assert len(jpeg) == capture["size"]
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (120, 160, 3)
    files = list((activated.runtime.data_dir / "captures").iterdir())
    assert [f.name for f in files] == [f"{capture['id']}.cam1.jpg"]
    # Ids only: anything else is the same 404, whatever exists on disk.
    for bad in ["../overrides", "x", capture["id"][:-1] + "g", "%2e%2e%2fevents"]:
        async with admin.get(f"/api/captures/{bad}.jpg") as r:
            assert r.status == 404, bad
    async with client(activated) as anonymous, anonymous.get(capture["url"]) as r:
        assert r.status == 401


async def test_capture_without_a_picture_is_503(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    unreachable = {"id": "gate", "source": {"type": "rtsp", "url": "rtsp://127.0.0.1:1/x"}}
    async with admin.post("/api/channels", json=unreachable) as r:
        assert r.status == 201
    async with admin.post("/api/channels/gate/capture") as r:  # no picture yet
        assert r.status == 503 and r.headers["Retry-After"] == "1"
        assert (await r.json())["error"] == "no_frame"
    for path in ("capture", "controls/capture"):  # the route and the declared button alike
        async with admin.post(f"/api/channels/garage/{path}") as r:  # disabled: never a picture
            assert r.status == 409
            assert (await r.json())["error"] == "channel_stopped"
    async with admin.post("/api/channels/nope/capture") as r:
        assert r.status == 404
    assert not (activated.runtime.data_dir / "captures").exists()


async def test_channels_added_and_removed_at_run_time(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    runtime = activated.runtime
    new = {"id": "porch", "name": "Porch", "source": SYNTHETIC, "detectors": {"motion": {}}}
    async with admin.ws_connect("/api/events/ws") as ws:
        async with admin.post("/api/channels", json=new) as r:
            assert r.status == 201
            assert (await r.json())["name"] == "Porch"
        added = await receive_until(ws, lambda m: m.get("change") == "added")
        assert added["channel"] == "porch" and added["status"]["name"] == "Porch"
        await eventually(lambda: runtime.channels["porch"].frames > 0)
        async with admin.get("/api/channels") as r:
            assert [c["id"] for c in await r.json()] == ["cam1", "garage", "porch"]
        async with admin.delete("/api/channels/porch") as r:
            assert r.status == 204
        removed = await receive_until(ws, lambda m: m.get("change") == "removed")
        assert removed == {
            "type": "channel",
            "change": "removed",
            "channel": "porch",
            "status": None,
        }
    assert "porch" not in runtime.channels
    async with admin.get("/api/channels/porch") as r:
        assert r.status == 404


async def test_bad_channels_are_refused_and_change_nothing(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    runtime = activated.runtime
    cases: list[tuple[Any, int, str]] = [
        ({"id": "cam1", "source": SYNTHETIC}, 422, "already exists"),
        ({"id": "Bad Id", "source": SYNTHETIC}, 422, "channels[2].id"),
        ({"id": "x", "source": {"type": "nope"}}, 422, "channels[2].source"),
        ({"id": "x", "source": {**SYNTHETIC, "fps": 0}}, 422, "channels[2].source.fps"),
        ([1, 2], 400, "JSON object"),
    ]
    for body, status, words in cases:
        async with admin.post("/api/channels", json=body) as r:
            assert r.status == status, body
            error = await r.json()
            assert words in json.dumps(error), error
    assert list(runtime.channels) == ["cam1", "garage"]
    async with client(activated) as anonymous:
        async with anonymous.post("/api/channels", json={"id": "x", "source": SYNTHETIC}) as r:
            assert r.status == 401
        async with anonymous.delete("/api/channels/cam1") as r:
            assert r.status == 401
    assert list(runtime.channels) == ["cam1", "garage"]


async def test_a_channel_added_through_the_api_is_written_to_the_config_file(
    tmp_path: Path, make_server: ServerFactory
) -> None:
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text("# my cameras\n" + yaml.safe_dump(runtime_config()))
    runtime = runtime_from_file(path, data_dir=tmp_path / "data")
    await runtime.start()
    try:
        await runtime.add_channel({"id": "porch", "source": SYNTHETIC})
        written = yaml.safe_load(path.read_text())
        assert [c["id"] for c in written["channels"]] == ["cam1", "garage", "porch"]
        assert written["channels"][2] == {"id": "porch", "source": SYNTHETIC}
        assert "zeroconf" in written and "name" not in written["channels"][2]  # no defaults
        assert path.with_name("config.yaml.bak").read_text().startswith("# my cameras")
        await runtime.remove_channel("cam1")
        written = yaml.safe_load(path.read_text())
        assert [c["id"] for c in written["channels"]] == ["garage", "porch"]
    finally:
        await runtime.stop()
    again = runtime_from_file(path, data_dir=tmp_path / "data")
    assert [c.id for c in again.config.channels] == ["garage", "porch"]


async def test_deleting_a_token_closes_the_sockets_it_opened(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.post("/api/tokens", json={"name": "ha"}) as r:
        token = await r.json()
    async with admin.post("/api/tokens", json={"name": "other"}) as r:
        other = await r.json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    other_bearer = {"Authorization": f"Bearer {other['token']}"}
    async with (
        client(activated, headers=bearer) as by_token,
        client(activated, headers=other_bearer) as by_other,
        by_token.ws_connect("/api/events/ws") as ws,
        by_other.ws_connect("/api/events/ws") as ws_other,
        admin.ws_connect("/api/events/ws") as ws_admin,
    ):
        async with admin.delete(f"/api/tokens/{token['id']}") as r:
            assert r.status == 204
        message = await ws.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.CLOSE and message.data == 4401
        # The other token and the password's socket stay open and keep receiving.
        (await admin.put("/api/channels/cam1/arming", json={"armed": False})).release()
        for socket in (ws_other, ws_admin):
            pushed = await receive_until(socket, lambda m: m["type"] == "channel")
            assert pushed["status"]["armed"] is False
        async with by_token.get("/api/device") as r:
            assert r.status == 401


async def test_a_password_change_closes_password_sockets_not_token_ones(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.post("/api/tokens", json={"name": "ha"}) as r:
        token = await r.json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    async with (
        client(activated, headers=bearer) as by_token,
        by_token.ws_connect("/api/events/ws") as ws_token,
        admin.ws_connect("/api/events/ws") as ws_admin,
    ):
        await activated.security.set_admin_password("An0ther-Secret?")
        message = await ws_admin.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.CLOSE and message.data == 4401
        await activated.runtime.set_armed("cam1", False)
        pushed = await receive_until(ws_token, lambda m: m["type"] == "channel")
        assert pushed["status"]["armed"] is False


async def test_live_view_ends_when_its_channel_is_removed(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    channel = activated.runtime.channels["cam1"]
    response = await admin.get("/api/channels/cam1/live.mjpeg")
    assert response.status == 200
    await eventually(lambda: channel.live.viewers == 1)
    await activated.runtime.remove_channel("cam1")
    async with asyncio.timeout(10):
        await response.read()  # the multipart body ends: no endless wait
    assert channel.live.viewers == 0
    response.release()


async def test_stop_twice_is_harmless(tmp_path: Path) -> None:
    runtime = runtime_from_data(runtime_config(), data_dir=tmp_path)
    await runtime.stop()  # never started
    await runtime.start()
    await runtime.stop()
    await runtime.stop()
    assert runtime.channels["cam1"].state == "stopped"
