"""The linkage blueprints in ``blueprints/automation/camera_runtime/`` in a real Home Assistant:
each loads and validates through the blueprint integration, and an automation made from each
runs on a real runtime's events (the motion scene's, every 3 s) and does its linkage action on a
real runtime (a capture stored, a clip recorded, a channel disarmed, a privacy mask switched) or
on real entities of other integrations (template locks, switches, buttons and selects, manual
alarm panels)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components import automation
from homeassistant.components.automation import EVENT_AUTOMATION_TRIGGERED
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import Blueprint
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.camera_runtime.const import DOMAIN
from tests.camera_runtime.client.helpers import motion_config
from tests.runtime_server import Served, ServeFactory

from .conftest import recording_channel, remote_entry, set_up_entry, wait_for_state, wait_until

ROOT = Path(__file__).parents[3]
BLUEPRINTS = ROOT / "blueprints" / "automation" / DOMAIN
RAW_URL = "https://raw.githubusercontent.com/camera-runtime/camera_runtime/main/"
SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]
MASK = "switch.back_door_privacy_mask"


@pytest.fixture
def blueprints(config_dir: Path) -> Path:
    """The blueprints where Home Assistant keeps imported ones: ``blueprints/automation/``."""
    folder = config_dir / "blueprints" / "automation" / DOMAIN
    shutil.copytree(BLUEPRINTS, folder)
    return folder


@pytest.fixture
async def linked(
    hass: HomeAssistant, serve: ServeFactory, h264_file: Path, blueprints: Path
) -> Served:
    """A runtime with the motion scene (``cam1``, the source) and a recording channel with a
    privacy mask, off (``cam2``, the linked camera), set up in Home Assistant."""
    back = recording_channel(h264_file, "cam2", "Back door")
    back["image"] = {"privacy_mask": {"enabled": False, "areas": [SQUARE]}}
    config = motion_config()
    config["channels"].append(back)
    served = await serve(config)
    await set_up_entry(hass, remote_entry(served))
    return served


def channel_device(hass: HomeAssistant, served: Served, channel: str) -> str:
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, f"{served.runtime.device_id}_{channel}")}
    )
    assert device is not None
    return device.id


async def use_blueprints(
    hass: HomeAssistant, rules: Mapping[str, tuple[str, dict[str, Any]]]
) -> None:
    """Automations ``automation.<name>`` from ``(blueprint file, inputs)``; each must be valid
    (an invalid one would be set up unavailable)."""
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "id": name,
                    "alias": name,
                    "use_blueprint": {"path": f"{DOMAIN}/{file}", "input": inputs},
                }
                for name, (file, inputs) in rules.items()
            ]
        },
    )
    await hass.async_block_till_done()
    for name in rules:
        state = hass.states.get(f"automation.{name}")
        assert state is not None and state.state == "on", name


async def test_every_blueprint_loads_and_validates(hass: HomeAssistant, blueprints: Path) -> None:
    """Through the automation's blueprint registry (the same path as an import): every file is
    a valid automation blueprint for this Home Assistant, with its own raw URL as source, and
    its inputs filtered to this integration or to the right domains."""
    assert await async_setup_component(hass, automation.DOMAIN, {})
    found = await async_get_blueprints(hass).async_get_blueprints()
    files = sorted(p.name for p in BLUEPRINTS.glob("*.yaml"))
    assert sorted(Path(path).name for path in found) == files
    for path, blueprint in found.items():
        assert isinstance(blueprint, Blueprint), (path, blueprint)
        assert blueprint.validate() is None, path
        assert blueprint.domain == automation.DOMAIN
        assert blueprint.metadata["source_url"] == f"{RAW_URL}blueprints/automation/{path}"
        for name, spec in blueprint.inputs.items():
            selector = spec["selector"]
            for kind in ("device", "entity"):
                if kind in selector:
                    filters = selector[kind]["filter"]
                    assert all(
                        f.get("integration") == DOMAIN or f.get("domain") for f in filters
                    ), (
                        path,
                        name,
                    )


async def test_camera_event_camera_actions(hass: HomeAssistant, linked: Served) -> None:
    """Motion on the front door: the back door captures a picture, records a clip from before
    the event, is disarmed and gets its privacy mask."""
    back = linked.runtime.channel("cam2")
    await use_blueprints(
        hass,
        {
            "front_to_back": (
                "camera_event_camera_actions.yaml",
                {
                    "source_camera": channel_device(hass, linked, "cam1"),
                    "event_types": ["motion"],
                    "linked_cameras": [channel_device(hass, linked, "cam2")],
                    "camera_actions": ["capture", "record", "disarm", "privacy_mask_on"],
                    "pre_record": 1,
                    "clip_length": 1,
                },
            )
        },
    )
    await wait_for_state(hass, MASK, lambda s: s == "on")
    await wait_for_state(hass, "switch.back_door_arming", lambda s: s == "off")
    assert back.armed is False and back.stages["privacy_mask"].enabled is True
    captures = linked.data_dir / "captures"
    await wait_until(lambda: any(captures.glob("*.cam2.jpg")))
    await wait_until(
        lambda: any(c.reason == "clip" for c in linked.runtime.recordings.clips("cam2"))
    )
    assert not any(captures.glob("*.cam1.jpg"))  # the source is not a linked camera


async def test_the_source_is_never_a_linked_camera(
    hass: HomeAssistant, linked: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A rule linking the source camera to itself stops with an error at each event, before
    any action."""
    front = channel_device(hass, linked, "cam1")
    assert await async_setup_component(hass, "system_log", {})
    await use_blueprints(
        hass,
        {
            "front_to_front": (
                "camera_event_camera_actions.yaml",
                {
                    "source_camera": front,
                    "linked_cameras": [front, channel_device(hass, linked, "cam2")],
                    "camera_actions": ["disarm"],
                },
            )
        },
    )
    caplog.set_level(logging.WARNING)
    triggered = async_capture_events(hass, EVENT_AUTOMATION_TRIGGERED)
    await wait_for_state(hass, "automation.front_to_front", lambda s: bool(triggered))
    await hass.async_block_till_done()
    warning = "automation.front_to_front: the linked cameras include the source camera"
    assert warning in caplog.text
    assert linked.runtime.channel("cam1").armed and linked.runtime.channel("cam2").armed
