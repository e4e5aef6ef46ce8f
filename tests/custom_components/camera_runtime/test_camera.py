"""The camera's pictures at the size Home Assistant asks for, made by the runtime (remote over
its API and embedded in Home Assistant's process), decoded to check their size."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.components.camera import (
    CameraEntityFeature,
    async_get_image,
    async_get_stream_source,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.camera_runtime.camera import scaled_size
from custom_components.camera_runtime.const import (
    CONF_CONFIG_PATH,
    CONF_MODE,
    DOMAIN,
    MODE_EMBEDDED,
)
from tests.camera_runtime.client.helpers import decode, motion_config
from tests.plugins.sources.helpers import make_h264
from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

CAMERA = "camera.front_door"


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (None, None, None),
        (64, 48, (64, 48)),
        (64, None, (64, 48)),
        (None, 30, (40, 30)),
        (100, 30, (100, 75)),  # another shape: covered, the aspect ratio kept
        (64, 50, (67, 50)),
        (160, 120, None),  # not smaller: the full picture (the live view's cached JPEG)
        (1920, 1080, None),
    ],
)
def test_scaled_size(
    width: int | None, height: int | None, expected: tuple[int, int] | None
) -> None:
    assert scaled_size({"width": 160, "height": 120}, width, height) == expected


def test_scaled_size_of_an_unknown_picture() -> None:
    assert scaled_size({"width": None, "height": None}, 64, 48) is None
    assert scaled_size({}, 64, 48) is None


async def _image_shape(hass: HomeAssistant, width: int, height: int) -> tuple[int, ...]:
    image = await async_get_image(hass, CAMERA, width=width, height=height)
    assert image.content_type == "image/jpeg"
    return tuple(decode(image.content).shape)


async def test_remote_pictures_at_the_size_asked(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """The synthetic camera is 160x120. 64x48 is no scaling factor Home Assistant's own JPEG
    scaling has (it would pick 80x60, when libturbojpeg is there at all): the runtime did it."""
    await wait_for_state(hass, "sensor.front_door_channel_state", lambda s: s == "online")
    assert await _image_shape(hass, 64, 48) == (48, 64, 3)
    assert await _image_shape(hass, 100, 30) == (75, 100, 3)
    assert await _image_shape(hass, 640, 480) == (120, 160, 3)  # never made larger
    full = await async_get_image(hass, CAMERA)
    assert decode(full.content).shape == (120, 160, 3)


async def test_a_size_the_runtime_refuses_falls_back_to_the_full_picture(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """The status said a larger picture than the runtime now has (a new source): the refused
    size is not an error, the full picture is shown."""
    await wait_for_state(hass, "sensor.front_door_channel_state", lambda s: s == "online")
    status = loaded.runtime_data.client.channels["cam1"]
    status["width"], status["height"] = 320, 240
    assert await _image_shape(hass, 200, 150) == (120, 160, 3)


async def set_up_embedded(
    hass: HomeAssistant, config_dir: Path, config: dict[str, Any] | None = None
) -> None:
    """An embedded entry running ``config`` (the motion scene by default)."""
    (config_dir / "camera_runtime.yaml").write_text(yaml.safe_dump(config or motion_config()))
    await set_up_entry(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            unique_id="embedded:camera_runtime.yaml",
            data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "camera_runtime.yaml"},
        ),
    )


async def test_embedded_pictures_at_the_size_asked(hass: HomeAssistant, config_dir: Path) -> None:
    await set_up_embedded(hass, config_dir)
    await wait_for_state(hass, "sensor.front_door_channel_state", lambda s: s == "online")
    assert await _image_shape(hass, 64, 48) == (48, 64, 3)
    assert await _image_shape(hass, 640, 480) == (120, 160, 3)


# ---------------------------------------------------------------- the stream


async def test_home_assistant_streams_the_remote_main_stream(
    hass: HomeAssistant, serve: ServeFactory, tmp_path: Path
) -> None:
    """The camera offers STREAM for an H.264 channel; Home Assistant's own ``stream``
    integration (PyAV) plays the URL the runtime signed and makes HLS segments of it."""
    clip = make_h264(tmp_path / "yard.ts")
    data = {
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "yard",
                "name": "Yard",
                "source": {"type": "file", "path": str(clip), "loop": True},
            }
        ],
    }
    served = await serve(data)
    await set_up_entry(hass, remote_entry(served))
    camera_id = "camera.yard"
    await wait_for_state(hass, "sensor.yard_channel_state", lambda s: s == "online")
    state = hass.states.get(camera_id)
    assert state is not None
    assert state.attributes["supported_features"] & CameraEntityFeature.STREAM

    source = await async_get_stream_source(hass, camera_id)
    assert source is not None and "/api/channels/yard/streams/main.ts?access=" in source

    passthrough = served.runtime.channels["yard"].served.passthrough["main"]
    segment = await hls_segment(hass, camera_id, lambda: passthrough.clients == 1)
    assert segment.duration >= 1.0


async def hls_segment(
    hass: HomeAssistant, camera_id: str, playing: Callable[[], bool] = lambda: True
) -> Any:
    """The first complete HLS segment Home Assistant's own ``stream`` integration (PyAV) makes
    of the camera's stream source (``playing()`` must hold meanwhile); the stream is stopped
    again."""
    assert await async_setup_component(hass, "stream", {})
    camera = hass.data["camera"].get_entity(camera_id)
    stream = await camera.async_create_stream()
    assert stream is not None
    hls = stream.add_provider("hls")
    await stream.start()
    try:
        async with asyncio.timeout(60):
            # A segment is complete once the next keyframe (1 s later) starts another.
            while not hls.get_segments() or not hls.get_segments()[0].complete:
                await hls.recv()
        segment = hls.get_segments()[0]
        assert segment.init.startswith(b"\x00\x00\x00\x18ftyp")  # fMP4 made by HA
        # Whole GOPs (1 s) of a 2 s clip that loops: the runtime continues one timeline
        # across the loops, so Home Assistant sees no jump back in time.
        assert segment.duration == pytest.approx(round(segment.duration), abs=0.05)
        assert playing()
        return segment
    finally:
        await stream.remove_provider(hls)  # cancels its idle timer, then stops the worker
        await stream.stop()


async def test_home_assistant_streams_an_embedded_main_stream(
    hass: HomeAssistant,
    config_dir: Path,
    tmp_path: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Embedded, Home Assistant's own HTTP server serves the channel's stream at a path it
    signs for that path alone; its ``stream`` integration plays it. The path without the
    signature, or signed for another path, is refused."""
    clip = make_h264(tmp_path / "yard.ts")
    config = motion_config()
    config["channels"] = [
        {"id": "yard", "name": "Yard", "source": {"type": "file", "path": str(clip), "loop": True}}
    ]
    await set_up_embedded(hass, config_dir, config)
    assert await async_setup_component(hass, "stream", {})  # its views, before the app runs
    client = await hass_client_no_auth()  # Home Assistant's HTTP app on a port of 127.0.0.1
    base = str(client.make_url("/")).rstrip("/")
    hass.config.internal_url = base
    camera_id = "camera.yard"
    await wait_for_state(hass, "sensor.yard_channel_state", lambda s: s == "online")
    state = hass.states.get(camera_id)
    assert state is not None
    assert state.attributes["supported_features"] & CameraEntityFeature.STREAM

    source = await async_get_stream_source(hass, camera_id)
    assert source is not None and source.startswith(f"{base}/api/camera_runtime/")
    url = URL(source)
    assert url.path.endswith("/yard/main.ts") and "authSig" in url.query
    async with client.get(url.path) as response:  # no signature
        assert response.status == 401
    other = url.path.replace("/main.ts", "/sub.ts")
    async with client.get(other, params=url.query) as response:  # signed for another path
        assert response.status == 401

    entry = hass.config_entries.async_entries(DOMAIN)[0]
    runtime = entry.runtime_data.client.runtime
    passthrough = runtime.channels["yard"].served.passthrough["main"]
    await hls_segment(hass, camera_id, lambda: passthrough.clients == 1)
