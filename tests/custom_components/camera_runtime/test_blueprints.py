"""The linkage blueprints in ``blueprints/automation/camera_runtime/`` in a real Home Assistant:
each loads and validates through the blueprint integration, and an automation made from each
runs on a real runtime's events (the motion scene's, every 3 s) and does its linkage action on a
real runtime (a capture stored, a clip recorded, a channel disarmed, a privacy mask switched, an
ePTZ window sent to a preset, a patrol started, a pattern run) or on real entities of other integrations (template locks, switches, buttons and selects, manual
alarm panels)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
from tests.polling import eventually
from tests.runtime_server import Served, ServeFactory

from .conftest import recording_channel, remote_entry, set_up_entry, wait_for_state
from .test_ptz import SOURCE

ROOT = Path(__file__).parents[3]
BLUEPRINTS = ROOT / "blueprints" / "automation" / DOMAIN
RAW_URL = "https://raw.githubusercontent.com/camera-runtime/camera_runtime/main/"
IMPORT = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
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
    hass: HomeAssistant,
    serve: ServeFactory,
    h264_file: Path,
    blueprints: Path,
    other_integrations: None,
) -> Served:
    """A runtime with the motion scene (``cam1``, the source) and a recording channel with a
    privacy mask, off (``cam2``, the linked camera), set up in Home Assistant beside the
    other integrations' resources."""
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


def test_every_blueprint_has_its_import_link_in_the_docs() -> None:
    """``docs/blueprints.md`` opens each file's raw URL with my.home-assistant.io's import."""
    docs = (ROOT / "docs" / "blueprints.md").read_text(encoding="utf-8")
    for path in BLUEPRINTS.glob("*.yaml"):
        raw = f"{RAW_URL}blueprints/automation/{DOMAIN}/{path.name}"
        assert f"{IMPORT}{quote(raw, safe='')})" in docs, path.name


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
    await eventually(lambda: any(captures.glob("*.cam2.jpg")))
    await eventually(
        lambda: any(c.reason == "clip" for c in linked.runtime.recordings.clips("cam2"))
    )
    assert not any(captures.glob("*.cam1.jpg"))  # the source is not a linked camera


@pytest.mark.parametrize(
    ("file", "warning"),
    [
        ("camera_event_camera_actions.yaml", "the linked cameras include the source camera"),
        ("device_event_camera_actions.yaml", "event.front_door_events belongs to a linked camera"),
    ],
)
async def test_the_source_is_never_a_linked_camera(
    hass: HomeAssistant,
    linked: Served,
    caplog: pytest.LogCaptureFixture,
    file: str,
    warning: str,
) -> None:
    """A rule linking the source camera (or one of its entities) to itself stops with a
    warning at each event, before any action."""
    front, back = channel_device(hass, linked, "cam1"), channel_device(hass, linked, "cam2")
    assert await async_setup_component(hass, "system_log", {})
    source: dict[str, Any] = (
        {"sources": ["event.front_door_events"]}  # the front door's own event entity
        if file.startswith("device_event")
        else {"source_camera": front}
    )
    rule = {**source, "linked_cameras": [front, back], "camera_actions": ["disarm"]}
    await use_blueprints(hass, {"front_to_front": (file, rule)})
    caplog.set_level(logging.WARNING)
    triggered = async_capture_events(hass, EVENT_AUTOMATION_TRIGGERED)
    await wait_for_state(hass, "automation.front_to_front", lambda s: bool(triggered))
    await hass.async_block_till_done()
    assert f"automation.front_to_front: {warning}" in caplog.text
    assert linked.runtime.channel("cam1").armed and linked.runtime.channel("cam2").armed


@pytest.fixture
async def other_integrations(hass: HomeAssistant) -> None:
    """Resources outside the runtime, as other integrations make them: template switches
    (optimistic), buttons (each press turns an input boolean on), locks (optimistic: the gate
    starts locked, the back gate unlocked) and a select, and manual alarm panels (the house's
    needs a code, the shed starts armed away). Set up before the runtime's entry: a platform
    set up already (switch, select, template) would not read its YAML: the template
    integration's own config comes first, its platforms' after, all before the runtime's."""
    pressed = {"strobe_pressed": {}, "station_pressed": {}}
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": pressed})

    def press(flag: str) -> dict[str, Any]:
        return {"action": "input_boolean.turn_on", "target": {"entity_id": f"input_boolean.{flag}"}}

    template = {
        "button": [
            {"name": "Strobe", "press": press("strobe_pressed")},
            {"name": "Station door", "press": press("station_pressed")},
        ],
        "select": [
            {
                "name": "Zone 3 arming",
                "state": "{{ 'Disarmed' }}",
                "options": "{{ ['Armed', 'Disarmed'] }}",
                "select_option": [],
                "optimistic": True,
            }
        ],
    }
    assert await async_setup_component(hass, "template", {"template": [template]})
    switches = {
        name: {"turn_on": [], "turn_off": []} for name in ("siren", "relay", "zone_1", "zone_2")
    }
    assert await async_setup_component(
        hass, "switch", {"switch": [{"platform": "template", "switches": switches}]}
    )
    locks = [
        {
            "platform": "template",
            "name": name,
            "value_template": f"{{{{ '{initial}' }}}}",
            "optimistic": True,
            "lock": [],
            "unlock": [],
            "open": [],
        }
        for name, initial in (
            ("Gate", "locked"),
            ("Back gate", "unlocked"),
            ("Side gate", "locked"),
            ("Station", "locked"),
        )
    ]
    assert await async_setup_component(hass, "lock", {"lock": locks})

    panel = {"platform": "manual", "arming_time": 0, "delay_time": 0, "trigger_time": 60}
    panels = [
        {**panel, "name": "House", "code": "1234", "code_arm_required": True},
        {**panel, "name": "Garage", "code_arm_required": False},
        {**panel, "name": "Shed", "code_arm_required": False},
    ]
    assert await async_setup_component(hass, "alarm_control_panel", {"alarm_control_panel": panels})
    await hass.async_block_till_done()
    made = ["switch.siren", "button.station_door", "select.zone_3_arming", "lock.station"]
    assert all(hass.states.get(entity_id) for entity_id in made)
    await hass.services.async_call(
        "alarm_control_panel",
        "alarm_arm_away",
        {"entity_id": "alarm_control_panel.shed"},
        blocking=True,
    )
    assert hass.states.get("alarm_control_panel.shed").state == "armed_away"


Rules = Mapping[str, tuple[dict[str, Any], str, str]]


async def on_motion(hass: HomeAssistant, served: Served, file: str, rules: Rules) -> None:
    """Automations from ``file``, each with its own inputs beside the source they share (motion
    on the front door); then each rule's entity must reach its state."""
    source = {"source_camera": channel_device(hass, served, "cam1"), "event_types": ["motion"]}
    await use_blueprints(
        hass, {name: (file, {**source, **inputs}) for name, (inputs, _, _) in rules.items()}
    )
    for _, entity_id, state in rules.values():
        await wait_for_state(hass, entity_id, lambda s, state=state: s == state)


async def test_camera_event_alarm_output(hass: HomeAssistant, linked: Served) -> None:
    """A switch is turned on (and cleared after its delay), a button pressed."""
    await on_motion(
        hass,
        linked,
        "camera_event_alarm_output.yaml",
        {
            "siren": ({"alarm_output": "switch.siren"}, "switch.siren", "on"),
            "relay": ({"alarm_output": "switch.relay", "clear_after": 1}, "switch.relay", "on"),
            "strobe": ({"alarm_output": "button.strobe"}, "input_boolean.strobe_pressed", "on"),
        },
    )
    await wait_for_state(hass, "switch.relay", lambda s: s == "off")  # cleared after 1 s
    assert hass.states.get("switch.siren").state == "on"  # no delay: stays on


async def test_camera_event_alarm_panel(hass: HomeAssistant, linked: Served) -> None:
    """Stay arm (with the panel's code), away arm, disarm."""
    house, garage, shed = (f"alarm_control_panel.{name}" for name in ("house", "garage", "shed"))
    await on_motion(
        hass,
        linked,
        "camera_event_alarm_panel.yaml",
        {
            "house": (
                {"alarm_panel": house, "panel_action": "arm_home", "code": "1234"},
                house,
                "armed_home",
            ),
            "garage": ({"alarm_panel": garage, "panel_action": "arm_away"}, garage, "armed_away"),
            "shed": ({"alarm_panel": shed, "panel_action": "disarm"}, shed, "disarmed"),
        },
    )


async def test_camera_event_door(hass: HomeAssistant, linked: Served) -> None:
    """Open door, remain open, remain closed."""
    await on_motion(
        hass,
        linked,
        "camera_event_door.yaml",
        {
            "open": ({"door": "lock.gate", "door_action": "open"}, "lock.gate", "open"),
            "remain_open": (
                {"door": "lock.side_gate", "door_action": "unlock"},
                "lock.side_gate",
                "unlocked",
            ),
            "remain_closed": (
                {"door": "lock.back_gate", "door_action": "lock"},
                "lock.back_gate",
                "locked",
            ),
        },
    )


async def test_camera_event_door_station(hass: HomeAssistant, linked: Served) -> None:
    """The door station's lock is opened, its "open door" button pressed."""
    await on_motion(
        hass,
        linked,
        "camera_event_door_station.yaml",
        {
            "station_lock": ({"door_station": "lock.station"}, "lock.station", "open"),
            "station_button": (
                {"door_station": "button.station_door"},
                "input_boolean.station_pressed",
                "on",
            ),
        },
    )


async def test_camera_event_alarm_input(hass: HomeAssistant, linked: Served) -> None:
    """Alarm inputs armed through a switch and a select; one disarmed through its switch."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.zone_1"}, blocking=True
    )
    zone_3 = "select.zone_3_arming"
    await on_motion(
        hass,
        linked,
        "camera_event_alarm_input.yaml",
        {
            "zone_1": (
                {"alarm_input": "switch.zone_1", "arming": "disarm"},
                "switch.zone_1",
                "off",
            ),
            "zone_2": ({"alarm_input": "switch.zone_2", "arming": "arm"}, "switch.zone_2", "on"),
            "zone_3": ({"alarm_input": zone_3, "arming": "arm"}, zone_3, "Armed"),
        },
    )


async def test_device_event_camera_actions(hass: HomeAssistant, linked: Served) -> None:
    """The reverse direction: an event entity's motion event switches the back door's privacy
    mask on and records a clip; a binary sensor turning on disarms it; a gate lock opening
    makes it capture a picture."""
    back = [channel_device(hass, linked, "cam2")]
    file = "device_event_camera_actions.yaml"
    await use_blueprints(
        hass,
        {
            "doorbell": (
                file,
                {
                    "sources": ["event.front_door_events"],
                    "event_types": ["motion"],
                    "linked_cameras": back,
                    "camera_actions": ["privacy_mask_on", "record"],
                    "pre_record": 1,
                    "clip_length": 1,
                },
            ),
            "zone": (
                file,
                {
                    "sources": ["binary_sensor.front_door_motion"],
                    "linked_cameras": back,
                    "camera_actions": ["disarm"],
                },
            ),
            "door": (
                file,
                {"sources": ["lock.gate"], "linked_cameras": back, "camera_actions": ["capture"]},
            ),
        },
    )
    await wait_for_state(hass, MASK, lambda s: s == "on")
    await wait_for_state(hass, "switch.back_door_arming", lambda s: s == "off")
    await eventually(
        lambda: any(c.reason == "clip" for c in linked.runtime.recordings.clips("cam2"))
    )
    captures = linked.data_dir / "captures"
    assert not any(captures.glob("*.cam2.jpg"))  # the gate is still locked
    await hass.services.async_call("lock", "open", {"entity_id": "lock.gate"}, blocking=True)
    await eventually(lambda: any(captures.glob("*.cam2.jpg")))


#: The ePTZ cameras' places: where preset 3 is, and where pattern 2 starts.
PRESET_3 = {"pan": 0.3, "tilt": 0.4, "zoom": 2.0}
PATTERN_START = {"pan": 0.7, "tilt": 0.6, "zoom": 4.0}
EPTZ = {"cam2": "Gate", "cam3": "Yard", "cam4": "Shed"}


@pytest.fixture
async def eptz_linked(hass: HomeAssistant, serve: ServeFactory, blueprints: Path) -> Served:
    """The motion scene (``cam1``, the source) and three ePTZ cameras (``cam2``-``cam4``),
    each with preset 3, patrol 1 (presets 3 and 4) and pattern 2 (starting at
    ``PATTERN_START``) saved, and its window at the picture's centre, zoom 1."""
    config = motion_config()
    config["channels"] += [
        {"id": cam, "name": name, "source": SOURCE, "ptz": {"enabled": True}}
        for cam, name in EPTZ.items()
    ]
    served = await serve(config)
    runtime = served.runtime
    for cam in EPTZ:
        await runtime.ptz_absolute(cam, PRESET_3)
        await runtime.save_preset(cam, 3, "Gate")
        await runtime.ptz_absolute(cam, PATTERN_START)
        await runtime.save_preset(cam, 4, "Yard")
        await runtime.set_patrol(cam, 1, [{"preset": 3}, {"preset": 4}])
        await runtime.start_pattern_recording(cam)
        await runtime.save_pattern(cam, 2)
        await runtime.ptz_absolute(cam, {"pan": 0.5, "tilt": 0.5, "zoom": 1})
    await set_up_entry(hass, remote_entry(served))
    return served


def window_at(served: Served, channel: str, place: Mapping[str, float]) -> bool:
    status = served.runtime.ptz_status(channel)
    return all(status[key] == pytest.approx(value) for key, value in place.items())


@pytest.mark.parametrize(
    "file", ["camera_event_camera_actions.yaml", "device_event_camera_actions.yaml"]
)
async def test_eptz_linkage_actions(
    hass: HomeAssistant, eptz_linked: Served, caplog: pytest.LogCaptureFixture, file: str
) -> None:
    """Motion on the front door (its device's events, or its event entity's): the gate camera
    calls preset 3, the yard camera starts patrol 1, the shed camera runs pattern 2 (its window
    jumps to where the pattern starts); each rule acts on its own linked camera only. A preset
    the linked camera has not saved fails the run with the runtime's reason."""
    source: dict[str, Any] = (
        {"sources": ["event.front_door_events"]}
        if file.startswith("device_event")
        else {"source_camera": channel_device(hass, eptz_linked, "cam1")}
    )
    rows = {
        "gate_preset": ("cam2", {"camera_actions": ["call_preset"], "preset": 3}),
        "yard_patrol": ("cam3", {"camera_actions": ["call_patrol"], "patrol": 1}),
        "shed_pattern": ("cam4", {"camera_actions": ["call_pattern"], "pattern": 2}),
        "shed_unsaved": ("cam4", {"camera_actions": ["call_preset"], "preset": 9}),
    }
    await use_blueprints(
        hass,
        {
            name: (
                file,
                {
                    **source,
                    "event_types": ["motion"],
                    "linked_cameras": [channel_device(hass, eptz_linked, cam)],
                    **inputs,
                },
            )
            for name, (cam, inputs) in rows.items()
        },
    )
    runtime = eptz_linked.runtime
    await eventually(lambda: window_at(eptz_linked, "cam2", PRESET_3))
    await eventually(lambda: runtime.ptz_status("cam3")["patrol"] == 1)
    await eventually(lambda: window_at(eptz_linked, "cam4", PATTERN_START))
    assert runtime.ptz_status("cam2")["patrol"] is None
    assert runtime.ptz_status("cam4")["patrol"] is None
    await eventually(lambda: "channel 'cam4' has no preset 9" in caplog.text)
