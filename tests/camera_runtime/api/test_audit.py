"""The audit log says who changed what (test plan F2; issue #11, item 9): tokens deleted,
channels added and removed, arming, detector and control changes, each with the user, the
method and the address. A change that cannot be saved answers 507, changes nothing and is not
audited as done."""

from __future__ import annotations

import logging
import os

import aiohttp
import pytest

from camera_runtime.api import ApiServer

from .helpers import client

SYNTHETIC = {"type": "synthetic", "width": 160, "height": 120, "fps": 25}


def _audit(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "camera_runtime.security.audit"]


async def test_changes_are_audited_with_who_did_them(
    activated: ApiServer, admin: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "camera_runtime.security.audit")
    async with admin.post("/api/tokens", json={"name": "ha"}) as r:
        token = await r.json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    async with client(activated, headers=bearer) as program:
        async with program.put("/api/channels/cam1/arming", json={"armed": False}) as r:
            assert r.status == 200
        async with program.put("/api/channels/cam1/detectors/motion", json={"enabled": False}) as r:
            assert r.status == 200
    async with admin.put("/api/channels/cam1/controls/motion_sensitivity", json={"value": 70}) as r:
        assert r.status == 200
    async with admin.post("/api/channels/cam1/controls/capture") as r:
        assert r.status == 200
    new = {"id": "porch", "source": SYNTHETIC}
    async with admin.post("/api/channels", json=new) as r:
        assert r.status == 201
    async with admin.delete("/api/channels/porch") as r:
        assert r.status == 204
    async with admin.delete(f"/api/tokens/{token['id']}") as r:
        assert r.status == 204
    lines = _audit(caplog)
    by_token, by_admin = "by 'admin' (token) from 127.0.0.1", "by 'admin' (basic) from 127.0.0.1"
    expected = [
        f"channel 'cam1' disarmed {by_token}",
        f"channel 'cam1' detector 'motion' changed (enabled: False, options: []) {by_token}",
        f"channel 'cam1' control 'motion_sensitivity' set to 70 {by_admin}",
        f"channel 'cam1' button 'capture' pressed {by_admin}",
        f"channel 'porch' added {by_admin}",
        f"channel 'porch' removed {by_admin}",
        f"API token {token['id']} ('ha' of 'admin') deleted by 'admin' (basic)",
    ]
    for line in expected:
        assert line in lines, (line, lines)


async def test_a_change_that_cannot_be_saved_is_507_and_changes_nothing(
    activated: ApiServer, admin: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "camera_runtime.security.audit")
    channel = activated.runtime.channels["cam1"]  # type: ignore[attr-defined]
    saved = os.path.join(activated.runtime.data_dir, "overrides.json")
    os.mkdir(saved)  # os.replace onto a folder fails, as a full or read-only disk would
    for path, body in (
        ("/api/channels/cam1/arming", {"armed": False}),
        ("/api/channels/cam1/detectors/motion", {"options": {"sensitivity": 10}}),
        ("/api/channels/cam1/controls/motion_detection", {"value": False}),
    ):
        async with admin.put(path, json=body) as r:
            assert r.status == 507, path
            assert (await r.json())["error"] == "storage_error"
    assert channel.armed is True
    assert channel.detectors["motion"].enabled is True
    assert channel.detectors["motion"].options["sensitivity"] == 50
    async with admin.get("/api/channels/cam1") as r:
        assert (await r.json())["armed"] is True
    assert not [line for line in _audit(caplog) if "channel 'cam1'" in line]
    os.rmdir(saved)
    async with admin.put("/api/channels/cam1/arming", json={"armed": False}) as r:
        assert r.status == 200
    assert channel.armed is False
