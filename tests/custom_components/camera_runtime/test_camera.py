"""The camera's pictures at the size Home Assistant asks for, made by the runtime (remote over
its API and embedded in Home Assistant's process), decoded to check their size."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from homeassistant.components.camera import async_get_image
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_runtime.camera import scaled_size
from custom_components.camera_runtime.const import (
    CONF_CONFIG_PATH,
    CONF_MODE,
    DOMAIN,
    MODE_EMBEDDED,
)
from tests.camera_runtime.client.helpers import decode, motion_config

from .conftest import set_up_entry, wait_for_state

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


async def test_embedded_pictures_at_the_size_asked(hass: HomeAssistant, config_dir: Path) -> None:
    (config_dir / "camera_runtime.yaml").write_text(yaml.safe_dump(motion_config()))
    await set_up_entry(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            unique_id="embedded:camera_runtime.yaml",
            data={CONF_MODE: MODE_EMBEDDED, CONF_CONFIG_PATH: "camera_runtime.yaml"},
        ),
    )
    await wait_for_state(hass, "sensor.front_door_channel_state", lambda s: s == "online")
    assert await _image_shape(hass, 64, 48) == (48, 64, 3)
    assert await _image_shape(hass, 640, 480) == (120, 160, 3)
