"""Target cropping through both clients: the remote one (HTTP) and the local one (in-process)
make the same changes, answer the same status and refuse the same input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from camera_runtime.client import RemoteClient
from camera_runtime.client.base import RuntimeClient
from camera_runtime.client.errors import RequestError
from camera_runtime.client.local import LocalClient
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from tests.runtime_server import ServeFactory

from .test_stages import _config

MOVE: dict[str, Any] = {"enabled": True, "resolution": "64x48", "x": 0.5, "y": 0.25}
BAD: dict[str, Any] = {"x": 1.5}
BAD_ERRORS = ["channels.cam1.target_cropping.x: value must be at most 1"]


async def _crop(client: RuntimeClient) -> list[dict[str, Any]]:
    """What a host sees: the answers to a move and a resize, and the mirror afterwards."""
    moved = await client.set_target_cropping("cam1", MOVE)
    resized = await client.set_target_cropping("cam1", {"resolution": "96x64"})
    return [
        moved["target_cropping"],
        resized["target_cropping"],
        client.channels["cam1"]["target_cropping"],
    ]


EXPECTED = [
    {"enabled": True, "stream_type": "third", "resolution": "64x48", "x": 0.5, "y": 0.25},
    {"enabled": True, "stream_type": "third", "resolution": "96x64", "x": 0.5, "y": 0.25},
    {"enabled": True, "stream_type": "third", "resolution": "96x64", "x": 0.5, "y": 0.25},
]


async def test_remote_client_changes_the_target_cropping(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    served = await serve(_config())
    client = RemoteClient(session, "127.0.0.1", served.port, token=served.token)
    await client.start()
    try:
        assert await _crop(client) == EXPECTED
        with pytest.raises(RequestError) as bad:
            await client.set_target_cropping("cam1", BAD)
        assert (bad.value.status, bad.value.translation_key) == (422, "invalid_config")
        assert served.runtime.channels["cam1"].target_cropping["x"] == 0.5
        assert served.runtime.channels["cam1"].target_cropping["resolution"] == (96, 64)
    finally:
        await client.close()


async def test_local_client_changes_the_target_cropping(tmp_path: Path) -> None:
    runtime = runtime_from_data(_config(), data_dir=tmp_path / "data")
    client = LocalClient(runtime)
    await client.start()
    try:
        assert await _crop(client) == EXPECTED
        with pytest.raises(ConfigError) as bad:
            await client.set_target_cropping("cam1", BAD)
        assert bad.value.errors == BAD_ERRORS
        assert runtime.channels["cam1"].target_cropping["x"] == 0.5
    finally:
        await client.close()
