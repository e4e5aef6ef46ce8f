"""Image stages through both clients: the remote one (HTTP) and the local one (in-process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from camera_runtime.client import RemoteClient
from camera_runtime.client.errors import RequestError
from camera_runtime.client.local import LocalClient
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from tests.runtime_server import ServeFactory

SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]


def _config() -> dict[str, Any]:
    return {
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam1",
                "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 10},
                "image": {"privacy_mask": {"areas": [SQUARE]}, "mirror": {"mode": "off"}},
            }
        ],
    }


async def test_remote_client_changes_a_stage(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    served = await serve(_config())
    client = RemoteClient(session, "127.0.0.1", served.port, token=served.token)
    status = await client.set_stage("cam1", "mirror", options={"mode": "center"})
    assert status["image"]["mirror"] == {"enabled": True, "options": {"mode": "center"}}
    status = await client.set_stage("cam1", "privacy_mask", enabled=False)
    assert status["image"]["privacy_mask"]["enabled"] is False
    with pytest.raises(RequestError) as bad:
        await client.set_stage("cam1", "mirror", options={"mode": "sideways"})
    assert (bad.value.status, bad.value.translation_key) == (422, "invalid_config")
    assert served.runtime.channel("cam1").stages["mirror"].options["mode"] == "center"


async def test_local_client_changes_a_stage(tmp_path: Path) -> None:
    runtime = runtime_from_data(_config(), data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    await client.start()
    try:
        status = await client.set_stage("cam1", "privacy_mask", options={"color": "grey"})
        assert status["image"]["privacy_mask"]["options"]["color"] == "grey"
        with pytest.raises(ConfigError):
            await client.set_stage("cam1", "privacy_mask", options={"areas": []})
    finally:
        await client.close()
