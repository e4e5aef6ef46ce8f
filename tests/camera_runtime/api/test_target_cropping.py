"""Target cropping and image stage previews over HTTP: ``PUT .../target_cropping`` changes the
third stream's window (422 with key paths, nothing changed on bad input), ``POST
.../image/{kind}/preview`` answers a JPEG of the proposed settings and changes nothing; both
need an operator."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.api import ApiServer
from camera_runtime.api.openapi import SCHEMAS
from camera_runtime.config import TARGET_CROPPING_SCHEMA
from tests.polling import eventually

from ..users import write_users
from .conftest import ServerFactory
from .helpers import client

QUARTER = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
SOURCE = {
    "type": "synthetic",
    "width": 160,
    "height": 120,
    "fps": 25,
    "background": "flat",
    "objects": [],
    "noise": 0,
}
OSD = {"enabled": False, "show_name": False, "show_date": False, "texts": ["LIVE"]}

#: The users written below all have this password.
PASSWORD = "Cam3ra-Runtime!"


def config() -> dict[str, Any]:
    image = {"privacy_mask": {"areas": [QUARTER]}, "osd": OSD}
    return {
        "zeroconf": {"enabled": False},
        "channels": [
            {"id": "cam1", "source": SOURCE, "image": image},
            {"id": "off", "enabled": False, "source": SOURCE, "image": {"osd": OSD}},
        ],
    }


@pytest.fixture
async def camera(make_server: ServerFactory, tmp_path: Path) -> ApiServer:
    """An activated device with ``admin`` and ``viewer`` (level user), both with the web
    tests' ``PASSWORD``, and cam1 running."""
    write_users(tmp_path / "data0", {"viewer": "user"}, PASSWORD)  # the factory's first data folder
    server = await make_server(data=config())
    channel = server.runtime.channels["cam1"]
    await eventually(lambda: channel.frames > 2)
    return server


@pytest.fixture
async def admin(camera: ApiServer) -> Any:
    async with client(camera, headers=basic("admin")) as session:
        yield session


def basic(user: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def status(session: aiohttp.ClientSession) -> dict[str, Any]:
    async with session.get("/api/channels/cam1") as r:
        assert r.status == 200
        return await r.json()  # type: ignore[no-any-return]


def grey(jpeg: bytes) -> Any:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)


async def test_target_cropping_is_changed_over_the_api(
    camera: ApiServer, admin: aiohttp.ClientSession
) -> None:
    url = "/api/channels/cam1/target_cropping"
    change = {"enabled": True, "resolution": "64x48", "x": 0.5, "y": 0.25}
    async with admin.put(url, json=change) as r:
        assert r.status == 200, await r.text()
        answered = await r.json()
    expected = {"enabled": True, "stream_type": "third", "resolution": "64x48", "x": 0.5, "y": 0.25}
    assert answered["target_cropping"] == expected
    third = answered["streams"]["third"]
    assert (third["mode"], third["width"], third["height"]) == ("encoded", 64, 48)
    assert (await status(admin))["target_cropping"] == expected
    async with admin.put(url, json={"x": 0}) as r:  # a move alone
        assert r.status == 200
        assert (await r.json())["target_cropping"] == {**expected, "x": 0.0}

    # Bad input: 422 naming each key, nothing changed, nothing stored.
    stored = (camera.runtime.data_dir / "overrides.json").read_text()
    async with admin.put(url, json={"resolution": "65x48", "x": 2, "zoom": 1}) as r:
        assert r.status == 422
        body = await r.json()
    assert body["error"] == "invalid_config"
    assert sorted(body["errors"]) == [
        "channels.cam1.target_cropping.resolution: width and height must be even, from 32 to 7680",
        "channels.cam1.target_cropping.x: value must be at most 1",
        "channels.cam1.target_cropping.zoom: unknown option",
    ]
    assert (await status(admin))["target_cropping"] == {**expected, "x": 0.0}
    assert (camera.runtime.data_dir / "overrides.json").read_text() == stored
    assert json.loads(stored)["channels"]["cam1"]["target_cropping"] == {
        **change,
        "x": 0.0,
    }

    for data, code in [("{}", 400), ("[1]", 400), ("{", 400)]:
        async with admin.put(url, data=data, headers={"Content-Type": "application/json"}) as r:
            assert (r.status, (await r.json())["error"]) == (
                code,
                "bad_request" if data == "{}" else "bad_json",
            )
    async with admin.put(url, data="x=1") as r:
        assert r.status == 415
    async with admin.put("/api/channels/nope/target_cropping", json={"x": 0.5}) as r:
        assert (r.status, (await r.json())["error"]) == (404, "channel_not_found")


async def test_a_preview_is_a_jpeg_of_the_proposed_settings_and_changes_nothing(
    camera: ApiServer, admin: aiohttp.ClientSession
) -> None:
    url = "/api/channels/cam1/image/osd/preview"
    options = {"texts": ["PREVIEW"], "font_size": 24, "color": "white", "x": 0.55, "y": 0.6}
    before = await status(admin)
    async with admin.post(url, json={"enabled": True, "options": options}) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == "image/jpeg"
        assert r.headers["Cache-Control"] == "no-store"
        preview = grey(await r.read())
    async with admin.get("/api/channels/cam1/snapshot.jpg") as r:
        live = grey(await r.read())
    assert preview.shape == live.shape == (120, 160)
    # The text where it was placed; none live.
    assert np.count_nonzero(preview[60:, 80:] > 200) > 50
    assert np.count_nonzero(live[60:, 80:] > 200) == 0
    # The live mask's quarter is covered (its fill colour, black) in the preview too.
    assert preview[4:56, 4:76].max() <= 8
    # A preview of the mask switched off still covers what the live mask hides.
    async with admin.post(
        "/api/channels/cam1/image/privacy_mask/preview", json={"enabled": False}
    ) as r:
        assert r.status == 200
        assert grey(await r.read())[4:56, 4:76].max() <= 8
    after = await status(admin)
    assert after["image"] == before["image"]
    assert not (camera.runtime.data_dir / "overrides.json").exists()

    # The PUT's errors, the same words.
    async with admin.post(url, json={"options": {"font_size": 33}}) as r:
        assert r.status == 422
        assert (await r.json())["errors"] == [
            "channels.cam1.image.osd.font_size: value must be one of [16, 24, 32, 48, 64]"
        ]
    async with admin.post(url, json={"enabled": "yes"}) as r:
        assert (r.status, (await r.json())["error"]) == (400, "bad_field")
    async with admin.post(url, json={}) as r:
        assert r.status == 400
    async with admin.post(url, json={"options": {"texts": ["x" * (1 << 20)]}}) as r:
        assert r.status == 413
    async with admin.post("/api/channels/cam1/image/rotate/preview", json={"enabled": True}) as r:
        assert (r.status, (await r.json())["error"]) == (404, "image_stage_not_found")
    async with admin.post("/api/channels/off/image/osd/preview", json={"enabled": True}) as r:
        assert (r.status, (await r.json())["error"]) == (409, "channel_stopped")


async def test_a_user_may_neither_crop_nor_preview(
    camera: ApiServer, admin: aiohttp.ClientSession
) -> None:
    before = await status(admin)
    async with client(camera, headers=basic("viewer")) as viewer:
        async with viewer.get("/api/channels/cam1") as r:
            assert r.status == 200  # a user sees the window...
            assert (await r.json())["target_cropping"] == before["target_cropping"]
        async with viewer.put("/api/channels/cam1/target_cropping", json={"x": 0.5}) as r:
            assert r.status == 403  # ...but may not move it
        async with viewer.post(
            "/api/channels/cam1/image/privacy_mask/preview", json={"enabled": False}
        ) as r:
            assert r.status == 403
            assert r.content_type == "application/json"
    assert (await status(admin))["target_cropping"] == before["target_cropping"]


def test_the_document_states_the_config_s_resolution_rule() -> None:
    """A resolution the OpenAPI document allows is one the config's schema accepts, and the
    other way round (in plain digits): schemathesis' valid bodies are never refused."""
    change = SCHEMAS["TargetCroppingChange"]["properties"]["resolution"]
    assert SCHEMAS["TargetCropping"]["properties"]["resolution"] == change
    pattern = re.compile(change["pattern"])
    for side in range(8000):
        text = f"{side}x48"
        try:
            TARGET_CROPPING_SCHEMA({"resolution": text})
        except vol.Invalid:
            accepted = False
        else:
            accepted = True
        assert bool(pattern.match(text)) is accepted, text
