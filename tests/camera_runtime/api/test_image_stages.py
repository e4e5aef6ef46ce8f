"""Image stages in a real runtime, through the HTTP API: a privacy mask covers the picture the
detectors see and the snapshot, its switch and options are changed at run time (kept across
restarts), and a quarter turn reaches the status and the detectors.

The detector here (``seer``) is defined in this test only: it keeps each picture it is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import ClassVar

import cv2
import numpy as np
import pytest
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.api import ApiServer
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.interfaces import Detector
from camera_runtime.model import Event, EventPhase, Plane
from tests.camera_runtime.fakes import OneEventDetector
from tests.polling import eventually

from .conftest import ServerFactory
from .helpers import PASSWORD, client

#: Pictures each channel's ``seer`` detector was given, in order (appended on the worker).
SEEN: dict[str, list[Plane]] = {}

LEFT_HALF = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
RIGHT_HALF = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
BLACK = 16  # luma of the default fill colour


class SeerDetector(OneEventDetector):
    kind: ClassVar[str] = "seer"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (EventTypeInfo("seen", "Seen"),)
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema({})

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        SEEN.setdefault(self.context.channel_id, []).append(image)
        return []


class SeerPlugin:
    @hookimpl
    def register_detectors(self, register: Callable[[type[Detector]], None]) -> None:
        register(SeerDetector)


def _channel(channel_id: str, image: dict[str, object]) -> dict[str, object]:
    return {
        "id": channel_id,
        "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 25},
        "detect": {"fps": 25},
        "detectors": {"seer": {}},
        "image": image,
    }


@pytest.fixture
async def masked(make_server: ServerFactory) -> ApiServer:
    SEEN.clear()
    data = {
        "zeroconf": {"enabled": False},
        "channels": [
            _channel("cam1", {"privacy_mask": {"areas": [LEFT_HALF]}}),
            _channel("turned", {"rotate": {"angle": 90}}),
        ],
    }
    server = await make_server(data=data, extra_plugins=(SeerPlugin(),))
    await server.security.activate(PASSWORD)
    return server


def _masked_left(image: Plane) -> bool:
    return bool((image[:, : image.shape[1] // 2] == BLACK).all())


async def _next_seen(channel: str, after: int, want: Callable[[Plane], bool]) -> int:
    """The index of the first picture after ``after`` for which ``want`` holds."""
    found: list[int] = []

    def check() -> bool:
        seen = SEEN.get(channel, [])
        found[:] = [i for i in range(after, len(seen)) if want(seen[i])][:1]
        return bool(found)

    await eventually(check)
    return found[0]


async def test_the_mask_covers_what_detectors_and_snapshots_see(masked: ApiServer) -> None:
    await eventually(lambda: len(SEEN.get("cam1", [])) >= 3)
    for image in SEEN["cam1"][:3]:
        assert image.shape == (120, 160)
        assert _masked_left(image)  # every masked pixel exactly the fill colour
        assert (image[:, 80:] != BLACK).mean() > 0.9  # the rest is the scene

    async with client(masked, auth="basic") as admin:
        async with admin.get("/api/channels/cam1/snapshot.jpg") as r:
            assert r.status == 200
            jpeg = await r.read()
        picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).astype(int)
        assert picture.shape == (120, 160, 3)
        left, right = picture[:, :80], picture[:, 80:]
        # Black within JPEG's tolerance: a little ringing from the edge, nothing of the scene.
        assert left.mean() < 1.0 and left.max() <= 32
        assert right.mean() > 30

        async with admin.get("/api/channels/cam1") as r:
            status = await r.json()
        (control,) = [c for c in status["controls"] if c["image_stage"] == "privacy_mask"]
        assert (control["key"], control["kind"], control["value"], control["detector"]) == (
            "privacy_mask",
            "switch",
            True,
            None,
        )

        async with admin.put(
            "/api/channels/cam1/controls/privacy_mask", json={"value": False}
        ) as r:
            assert r.status == 200
            assert (await r.json())["image"]["privacy_mask"]["enabled"] is False
        start = len(SEEN["cam1"])
        await _next_seen("cam1", start, lambda image: not _masked_left(image))

        async with admin.put("/api/channels/cam1/controls/privacy_mask", json={"value": True}) as r:
            assert r.status == 200
        start = len(SEEN["cam1"])
        first = await _next_seen("cam1", start, _masked_left)
        await eventually(lambda: len(SEEN["cam1"]) >= first + 5)
        # Once on, the mask is never bypassed: every later picture is masked.
        assert all(_masked_left(image) for image in SEEN["cam1"][first:])

    stored = json.loads((masked.runtime.data_dir / "overrides.json").read_text())
    assert stored["channels"]["cam1"]["image"] == {"privacy_mask": {"enabled": True}}


async def test_the_mask_s_options_change_at_run_time_with_validation(masked: ApiServer) -> None:
    bow_tie = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    async with client(masked, auth="basic") as admin:
        async with admin.put(
            "/api/channels/cam1/image/privacy_mask",
            json={"options": {"areas": [RIGHT_HALF, bow_tie]}},
        ) as r:
            assert r.status == 422
            body = await r.json()
        assert body["error"] == "invalid_config"
        assert body["errors"] == [
            "channels.cam1.image.privacy_mask.areas[1]: the polygon crosses itself "
            "(edges 1 and 3): draw its corners in order around the area"
        ]
        channel = masked.runtime.channels["cam1"]
        assert channel.stages["privacy_mask"].options["areas"] == [LEFT_HALF]  # nothing changed

        async with admin.put(
            "/api/channels/cam1/image/privacy_mask",
            json={"options": {"areas": [RIGHT_HALF], "color": "white"}},
        ) as r:
            assert r.status == 200
            options = (await r.json())["image"]["privacy_mask"]["options"]
        assert options == {"areas": [RIGHT_HALF], "color": "white"}
        start = len(SEEN.get("cam1", []))
        index = await _next_seen("cam1", start, lambda image: bool((image[:, 80:] == 235).all()))
        assert not _masked_left(SEEN["cam1"][index])

        async with admin.put("/api/channels/cam1/image/rotate", json={"enabled": True}) as r:
            assert r.status == 404
            assert (await r.json())["error"] == "image_stage_not_found"
        async with admin.put("/api/channels/cam1/image/privacy_mask", json={}) as r:
            assert r.status == 400


async def test_a_quarter_turn_reaches_the_status_and_the_detectors(masked: ApiServer) -> None:
    await eventually(lambda: len(SEEN.get("turned", [])) >= 1)
    assert SEEN["turned"][0].shape == (160, 120)  # 160 x 120 turned: 120 wide, 160 high
    async with client(masked, auth="basic") as admin:
        async with admin.get("/api/channels/turned") as r:
            status = await r.json()
        assert (status["width"], status["height"]) == (120, 160)
        async with admin.get("/api/channels/turned/snapshot.jpg") as r:
            jpeg = await r.read()
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (160, 120, 3)
        # Turned back at run time: the detectors restart at the source's size.
        async with admin.put("/api/channels/turned/image/rotate", json={"enabled": False}) as r:
            assert (await r.json())["width"] == 160
        start = len(SEEN["turned"])
        await _next_seen("turned", start, lambda image: image.shape == (120, 160))
