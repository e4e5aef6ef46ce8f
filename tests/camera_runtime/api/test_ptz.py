"""The ePTZ routes over HTTP: moves, presets (save, call, rename, delete), patrols, patterns,
3D positioning and count pixel; bad input is a 4xx naming the key, never a 500; looking needs
a user, moving an operator; the preset select and the patrol buttons work through the generic
control routes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from camera_runtime.api import ApiServer
from tests.polling import eventually

from ..users import write_users
from .conftest import ServerFactory
from .helpers import client

PASSWORD = "Cam3ra-Runtime!"
SOURCE = {"type": "synthetic", "width": 160, "height": 90, "fps": 25, "objects": [], "noise": 0}
BASE = "/api/channels/cam1/ptz"


@pytest.fixture
async def camera(make_server: ServerFactory, tmp_path: Path) -> ApiServer:
    write_users(tmp_path / "data0", {"viewer": "user"}, PASSWORD)
    channels = [
        {"id": "cam1", "source": SOURCE, "ptz": {"enabled": True}},
        {"id": "plain", "source": SOURCE},
    ]
    server = await make_server(data={"zeroconf": {"enabled": False}, "channels": channels})
    channel = server.runtime.channels["cam1"]
    await eventually(lambda: channel.frames > 2)
    return server


def basic(user: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
async def admin(camera: ApiServer) -> Any:
    async with client(camera, headers=basic("admin")) as session:
        yield session


async def call(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with session.request(method, url, **kw) as r:
        body = await r.json() if r.status != 204 else None
        return r.status, body


async def test_presets_patrols_and_patterns_over_http(
    camera: ApiServer, admin: aiohttp.ClientSession
) -> None:
    assert await call(admin, "PUT", f"{BASE}/position", json={"pan": 0.3, "zoom": 2}) == (
        200,
        {
            "pan": 0.3,
            "tilt": 0.5,
            "zoom": 2.0,
            "moving": False,
            "patrol": None,
            "pattern": None,
            "recording": False,
            "since": None,
        },
    )
    status, saved = await call(admin, "PUT", f"{BASE}/presets/1", json={"name": "Door"})
    assert (status, saved) == (
        200,
        {"number": 1, "name": "Door", "pan": 0.3, "tilt": 0.5, "zoom": 2.0},
    )
    await call(admin, "PUT", f"{BASE}/position", json={"pan": 0.7, "tilt": 0.6})
    status, _ = await call(admin, "PUT", f"{BASE}/presets/2", json={})
    assert status == 200
    status, called = await call(admin, "POST", f"{BASE}/presets/1/call")
    assert (status, called["pan"], called["zoom"]) == (200, 0.3, 2.0)
    status, renamed = await call(admin, "PATCH", f"{BASE}/presets/2", json={"name": "Yard"})
    assert renamed["name"] == "Yard"
    patrol = [{"preset": 1, "dwell": 1, "speed": 40}, {"preset": 2, "dwell": 1, "speed": 40}]
    assert (await call(admin, "PUT", f"{BASE}/patrols/1", json={"presets": patrol}))[0] == 200
    status, running = await call(admin, "POST", f"{BASE}/patrols/1/start")
    assert running["patrol"] == 1
    # A preset a patrol uses cannot be deleted.
    status, body = await call(admin, "DELETE", f"{BASE}/presets/2")
    assert (status, body["error"]) == (422, "invalid_config")
    assert (await call(admin, "POST", f"{BASE}/stop"))[1]["patrol"] is None
    assert (await call(admin, "POST", f"{BASE}/patterns/record"))[1]["recording"] is True
    await call(admin, "POST", f"{BASE}/move", json={"pan": 1, "speed": 2})
    status, pattern = await call(admin, "PUT", f"{BASE}/patterns/3")
    assert (status, pattern["number"], pattern["steps"]) == (200, 3, 1)
    assert (await call(admin, "POST", f"{BASE}/patterns/3/run"))[1]["pattern"] == 3
    status, listed = await call(admin, "GET", BASE)
    assert [p["name"] for p in listed["presets"]] == ["Door", "Yard"]
    assert [p["number"] for p in listed["patterns"]] == [3]
    # 3D positioning and count pixel.
    status, moved = await call(
        admin, "POST", f"{BASE}/position_3d", json={"x0": 0.25, "y0": 0.25, "x1": 0.75, "y1": 0.75}
    )
    assert status == 200 and moved["zoom"] > 1
    status, size = await call(
        admin, "POST", "/api/channels/cam1/count_pixel", json={"x0": 0, "y0": 0, "x1": 0.5, "y1": 1}
    )
    assert (status, size["width"], size["height"]) == (200, 80, 90)
    # The declared controls: the select calls a preset, a button starts the patrol.
    status, channel = await call(
        admin, "PUT", "/api/channels/cam1/controls/ptz_preset", json={"value": "2: Yard"}
    )
    assert (status, channel["ptz"]["pan"]) == (200, 0.7)
    status, result = await call(admin, "POST", "/api/channels/cam1/controls/ptz_patrol_1")
    assert (status, result["patrol"]) == (200, 1)
    # Deleting.
    assert (await call(admin, "DELETE", f"{BASE}/patrols/1"))[0] == 204
    assert (await call(admin, "DELETE", f"{BASE}/presets/2"))[0] == 204
    assert (await call(admin, "DELETE", f"{BASE}/patterns/3"))[0] == 204
    status, listed = await call(admin, "GET", BASE)
    assert (listed["patrols"], listed["patterns"], len(listed["presets"])) == ([], [], 1)


async def test_bad_input_is_a_clear_4xx(camera: ApiServer, admin: aiohttp.ClientSession) -> None:
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", f"{BASE}/presets/9/call", None, 404, "preset_not_found"),
        ("POST", f"{BASE}/presets/999/call", None, 422, "invalid_config"),
        ("PUT", f"{BASE}/patrols/1", {"presets": []}, 422, "invalid_config"),
        ("PUT", f"{BASE}/patrols/9", {"presets": [{"preset": 1}]}, 422, "invalid_config"),
        ("POST", f"{BASE}/move", {"pan": 2}, 422, "invalid_config"),
        ("POST", f"{BASE}/move", {"speed": 0}, 422, "invalid_config"),
        ("PUT", f"{BASE}/position", {"zoom": 40}, 422, "invalid_config"),
        ("POST", f"{BASE}/position_3d", {"x": 1.5, "y": 0}, 422, "invalid_config"),
        ("PUT", f"{BASE}/presets/1", {"name": ""}, 422, "invalid_config"),
        ("PUT", f"{BASE}/presets/1", {"colour": "red"}, 400, "bad_field"),
        ("POST", f"{BASE}/patrols/2/start", None, 404, "patrol_not_found"),
        ("POST", f"{BASE}/patterns/1/run", None, 404, "pattern_not_found"),
        ("POST", "/api/channels/plain/ptz/move", {"pan": 1}, 404, "ptz_not_enabled"),
        ("POST", "/api/channels/nope/ptz/move", {"pan": 1}, 404, "channel_not_found"),
    ]
    for method, url, body, code, error in cases:
        status, answer = await call(admin, method, url, json=body)
        assert (status, answer["error"]) == (code, error), (method, url, body, answer)
    status, answer = await call(
        admin, "PUT", f"{BASE}/patrols/1", json={"presets": [{"preset": 1, "dwell": 99}]}
    )
    assert answer["errors"] == ["presets[0].dwell: value must be at most 30"]
    assert not (camera.runtime.data_dir / "ptz.json").exists()


async def test_a_user_looks_an_operator_moves(camera: ApiServer) -> None:
    async with client(camera, headers=basic("viewer")) as viewer:
        assert (await call(viewer, "GET", BASE))[0] == 200
        box = {"x0": 0, "y0": 0, "x1": 1, "y1": 1}
        assert (await call(viewer, "POST", "/api/channels/cam1/count_pixel", json=box))[0] == 200
        assert (await call(viewer, "POST", f"{BASE}/move", json={"pan": 1}))[0] == 403
        assert (await call(viewer, "PUT", f"{BASE}/presets/1", json={}))[0] == 403
