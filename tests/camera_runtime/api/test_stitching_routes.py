"""The stitching routes on a real runtime: the devices' state, a failed calibration explained,
unknown devices, stopped channels."""

from __future__ import annotations

import asyncio
from typing import Any

from camera_runtime.model import ChannelUpdate

from ..stitching.test_stitching import device, sensor
from .conftest import ServerFactory
from .helpers import PASSWORD, client


def data(stitching: dict[str, Any]) -> dict[str, Any]:
    return {"zeroconf": {"enabled": False}, "stitching": [stitching]}


async def test_sensors_without_overlap_are_explained_on_the_channel_and_in_the_api(
    make_server: ServerFactory,
) -> None:
    apart = {"id": "yard", "sensors": [sensor(i, 2, overlap=0.0) for i in range(2)]}
    offline = asyncio.Event()
    server = await make_server(data=data(apart))
    await server.security.activate(PASSWORD)

    def changed(update: ChannelUpdate) -> None:
        if update.status is not None and update.status["error"]:
            offline.set()

    unsubscribe = server.runtime.subscribe_channels(changed)
    try:
        if not server.runtime.channels["yard"].last_error:
            async with asyncio.timeout(30):
                await offline.wait()
    finally:
        unsubscribe()
    async with client(server, auth="basic") as admin:
        async with admin.get("/api/channels/yard") as r:
            status = await r.json()
        assert status["state"] == "offline"
        assert "too little overlap between sensors 1 and 2" in status["error"]
        async with admin.get("/api/stitching") as r:
            assert r.status == 200
            (state,) = await r.json()
        assert state["id"] == "yard" and state["calibrated"] is False
        assert state["channels"] == ["yard"]
        async with admin.get("/api/stitching/yard/preview.jpg") as r:
            assert r.status == 404


async def test_unknown_devices_are_404_and_user_levels_are_enforced(
    make_server: ServerFactory,
) -> None:
    server = await make_server(data=data(device("original")))
    await server.security.activate(PASSWORD)
    async with client(server, auth="basic") as admin:
        async with admin.get("/api/stitching") as r:
            assert await r.json() == []  # the original mode stitches nothing
        async with admin.post("/api/stitching/yard/calibrate") as r:
            assert r.status == 404
            assert (await r.json())["error"] == "device_not_found"
        async with admin.get("/api/stitching/nowhere/preview.jpg") as r:
            assert r.status == 404
    async with client(server) as anon, anon.post("/api/stitching/yard/calibrate") as r:
        assert r.status == 401


async def test_recalibrating_a_device_whose_channels_are_stopped_is_409(
    make_server: ServerFactory,
) -> None:
    server = await make_server(data=data(device(channels={"yard": {"enabled": False}})))
    await server.security.activate(PASSWORD)
    async with client(server, auth="basic") as admin:
        async with admin.post("/api/stitching/yard/calibrate") as r:
            assert r.status == 409
            assert (await r.json())["error"] == "channel_stopped"
        async with admin.get("/api/stitching") as r:
            (state,) = await r.json()
        assert state["running"] is False and state["calibrated"] is False
