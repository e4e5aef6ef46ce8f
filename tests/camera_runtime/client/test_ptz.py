"""ePTZ through both clients: every command of ``client/ptz.py`` reaches the runtime the same
way through the remote client (HTTP routes) and the local one (Runtime methods), and both
refuse the same input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from camera_runtime.client import PtzCall, RemoteClient
from camera_runtime.client.base import RuntimeClient
from camera_runtime.client.errors import RequestError
from camera_runtime.client.local import LocalClient
from camera_runtime.client.ptz import COMMANDS
from camera_runtime.exceptions import NotFoundError
from camera_runtime.host import runtime_from_data
from camera_runtime.runtime import Runtime
from tests.runtime_server import ServeFactory

SOURCE = {"type": "synthetic", "width": 160, "height": 90, "fps": 25, "objects": [], "noise": 0}


def config() -> dict[str, Any]:
    channel = {"id": "cam1", "source": SOURCE, "ptz": {"enabled": True}}
    return {"zeroconf": {"enabled": False}, "channels": [channel]}


async def commands(client: RuntimeClient, runtime: Runtime) -> list[Any]:
    """Every command once; what the window said after each."""
    await runtime.ptz_absolute("cam1", {"pan": 0.3, "zoom": 2})
    await runtime.save_preset("cam1", 1)
    await runtime.set_patrol("cam1", 1, [{"preset": 1}])
    await runtime.start_pattern_recording("cam1")
    await runtime.save_pattern("cam1", 1)
    calls = [
        PtzCall("position", data={"pan": 0.6, "tilt": 0.4, "zoom": 3}),
        PtzCall("position_3d", data={"x": 0.5, "y": 0.5}),
        PtzCall("call_preset", 1),
        PtzCall("move", data={"tilt": 1, "speed": 2}),
        PtzCall("stop"),
        PtzCall("start_patrol", 1),
        PtzCall("stop_patrol"),
        PtzCall("run_pattern", 1),
    ]
    assert {call.command for call in calls} == set(COMMANDS)
    seen = []
    for call in calls:
        answer = await client.ptz("cam1", call)
        seen.append((answer["pan"], answer["moving"], answer["patrol"], answer["pattern"]))
    return seen


EXPECTED = [
    (0.6, False, None, None),
    (0.6, False, None, None),
    (0.3, False, None, None),
    (0.3, True, None, None),
    (0.3, False, None, None),
    (0.3, False, 1, None),
    (0.3, False, None, None),
    (0.3, False, None, 1),
]


async def test_remote_client_ptz(serve: ServeFactory, session: aiohttp.ClientSession) -> None:
    served = await serve(config())
    client = RemoteClient(session, "127.0.0.1", served.port, token=served.token)
    await client.start()
    try:
        assert await commands(client, served.runtime) == EXPECTED
        with pytest.raises(RequestError) as bad:
            await client.ptz("cam1", PtzCall("call_preset", 9))
        assert (bad.value.status, bad.value.translation_key) == (404, "preset_not_found")
    finally:
        await client.close()


async def test_local_client_ptz(tmp_path: Path) -> None:
    runtime = runtime_from_data(config(), data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    await client.start()
    try:
        assert await commands(client, runtime) == EXPECTED
        with pytest.raises(NotFoundError, match="no preset 9"):
            await client.ptz("cam1", PtzCall("call_preset", 9))
        with pytest.raises(NotFoundError, match="no PTZ command 'spin'"):
            await client.ptz("cam1", PtzCall("spin"))
    finally:
        await client.close()
