"""Capabilities: what a plugin declares, the ranges and choices read from its schema, the
checks every face's value goes through, and what a channel offers."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import pytest
import voluptuous as vol

from camera_runtime import capabilities
from camera_runtime.capabilities import (
    Control,
    ControlKind,
    EventTypeInfo,
    option_at,
    options_with,
)
from camera_runtime.channel import Channel
from camera_runtime.config import validate_config
from camera_runtime.exceptions import ConfigError, PluginError
from camera_runtime.interfaces import Detector
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime_plugins.detectors.motion import MOTION_SCHEMA, MotionDetector
from tests.tamper import TAMPER_SCHEMA, TamperDetector, TamperPlugin


def test_a_number_takes_its_range_and_step_from_the_schema() -> None:
    # The motion schema nests its keys in vol.All(vol.Schema({...}), check): still found.
    sensitivity = capabilities.number("s", "S", "sensitivity", MOTION_SCHEMA)
    assert (sensitivity.minimum, sensitivity.maximum, sensitivity.step) == (0, 100, 1)
    assert sensitivity.whole and sensitivity.config
    # hold_time takes fractions (a float range): a fine step, and fractions pass.
    hold = capabilities.number("h", "H", "hold_time", MOTION_SCHEMA)
    assert (hold.minimum, hold.maximum, hold.step) == (0, 600, 0.1) and not hold.whole
    assert hold.parse(2.5) == 2.5 and hold.parse(3) == 3.0
    with pytest.raises(ConfigError, match="expected a number from 0 to 600"):
        hold.parse(601)
    with pytest.raises(PluginError, match="no range"):
        capabilities.number("m", "M", "mode", MOTION_SCHEMA)


def test_a_select_takes_its_choices_from_the_schema() -> None:
    method = capabilities.select("m", "M", "method", TAMPER_SCHEMA)
    assert method.choices == ("cover", "defocus", "turn") and method.kind is ControlKind.SELECT
    assert capabilities.option_choices(MOTION_SCHEMA, "mode") == ("normal", "expert")
    with pytest.raises(PluginError, match="no choices"):
        capabilities.select("s", "S", "sensitivity", TAMPER_SCHEMA)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("switch", True, True),
        ("switch", False, False),
        ("number", 55, 55),
        ("number", 55.0, 55),  # Home Assistant sends floats
        ("number", 0, 0),
        ("number", 100, 100),
        ("select", "defocus", "defocus"),
    ],
)
def test_good_values_pass_in_the_owner_type(kind: str, value: Any, expected: Any) -> None:
    control = {
        "switch": capabilities.switch("x", "X"),
        "number": capabilities.number("x", "X", "sensitivity", TAMPER_SCHEMA),
        "select": capabilities.select("x", "X", "method", TAMPER_SCHEMA),
    }[kind]
    parsed = control.parse(value)
    assert parsed == expected and type(parsed) is type(expected)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("switch", "ON", "x: expected true or false"),
        ("switch", 1, "x: expected true or false"),
        ("number", 101, "x: expected a whole number from 0 to 100"),
        ("number", -1, "x: expected a whole number from 0 to 100"),
        ("number", 50.5, "x: expected a whole number from 0 to 100"),
        ("number", "50", "x: expected a whole number from 0 to 100"),
        ("number", True, "x: expected a whole number from 0 to 100"),
        ("number", float("nan"), "x: expected a whole number from 0 to 100"),
        ("select", "melt", "x: expected one of cover, defocus, turn"),
        ("select", 1, "x: expected one of cover, defocus, turn"),
        ("button", None, "x is a button: press it, it holds no value"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(kind: str, value: Any, message: str) -> None:
    control = {
        "switch": capabilities.switch("x", "X"),
        "number": capabilities.number("x", "X", "sensitivity", TAMPER_SCHEMA),
        "select": capabilities.select("x", "X", "method", TAMPER_SCHEMA),
        "button": capabilities.button("x", "X", "capture"),
    }[kind]
    with pytest.raises(ConfigError) as info:
        control.parse(value)
    assert info.value.errors == [message]


@pytest.mark.parametrize("key", ["Motion", "1st", "a b", "a/b", "", "x" * 49, "a-b"])
def test_keys_become_topic_levels_and_ids_so_they_are_checked(key: str) -> None:
    with pytest.raises(PluginError, match="must be 1-48 lowercase"):
        capabilities.switch(key, "X")
    with pytest.raises(PluginError, match="must be 1-48 lowercase"):
        EventTypeInfo(key, "X")


def test_declarations_fill_their_translation_keys() -> None:
    assert EventTypeInfo("tamper", "Tamper").translation_key == "tamper"
    assert capabilities.switch("arming", "Arming", sets="armed").translation_key == "arming"
    with pytest.raises(PluginError, match="needs a minimum"):
        Control(key="n", kind=ControlKind.NUMBER, label="N", sets="n")


def test_a_detector_gets_an_on_off_switch_and_declares_the_rest() -> None:
    assert [c.key for c in TamperDetector.controls(TAMPER_SCHEMA({}))] == [
        "tamper_detection",
        "tamper_sensitivity",
        "tamper_method",
    ]
    normal = MotionDetector.controls(MOTION_SCHEMA({}))
    expert = MotionDetector.controls(MOTION_SCHEMA({"mode": "expert"}))
    assert [c.key for c in normal] == ["motion_detection", "motion_sensitivity"]
    assert [c.key for c in expert] == ["motion_detection"]  # two sensitivities, by the options


class _Silent(Detector):
    kind: ClassVar[str] = "silent"

    def process(self, image: Any, timestamp: float) -> list[Any]:
        return []


class _SilentPlugin:
    from camera_runtime import hookimpl

    @hookimpl
    def register_detectors(self, register: Any) -> None:
        register(_Silent)


def test_a_detector_without_event_types_is_refused_at_registration() -> None:
    pm = create_plugin_manager(extra_plugins=[_SilentPlugin()], load_entry_points=False)
    with pytest.raises(PluginError, match="declares no `EVENT_TYPES`"):
        collect_registry(pm)


class _Clashing(TamperDetector):
    """Declares controls whose keys are taken: an event type's name and a core entity's."""

    kind: ClassVar[str] = "clash"

    @classmethod
    def controls(cls, options: Any) -> tuple[Control, ...]:
        return (capabilities.switch("tamper", "T"), capabilities.switch("fps", "F"))


class _ClashPlugin(TamperPlugin):
    from camera_runtime import hookimpl

    @hookimpl
    def register_detectors(self, register: Any) -> None:
        register(TamperDetector)
        register(_Clashing)


def test_a_channel_offers_the_core_s_and_its_detectors_declarations(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "synthetic", "width": 64, "height": 48},
                "detectors": {"tamper": {"sensitivity": 40}, "clash": {}},
            }
        ]
    }
    registry = collect_registry(create_plugin_manager(extra_plugins=[_ClashPlugin()]))
    channel = Channel(validate_config(data, registry).channels[0], registry, lambda update: None)
    with caplog.at_level(logging.WARNING):
        status = channel.status()
    assert [t["name"] for t in status["event_types"]] == ["tamper", "video_loss"]
    assert [t["detector"] for t in status["event_types"]] == ["tamper", None]
    assert status["event_types"][1]["exception"] is True
    controls = {c["key"]: c for c in status["controls"]}
    assert list(controls) == [
        "arming",
        "capture",
        "display_info",
        "tamper_detection",
        "tamper_sensitivity",
        "tamper_method",
    ]
    assert controls["arming"] | {} == {
        **controls["arming"],
        "kind": "switch",
        "detector": None,
        "sets": "armed",
        "value": True,
    }
    # The manual's "display info on stream" (4.2): a settings switch, off by default.
    assert (controls["display_info"]["kind"], controls["display_info"]["value"]) == (
        "switch",
        False,
    )
    assert controls["display_info"]["config"] is True
    assert controls["tamper_sensitivity"]["value"] == 40
    assert (controls["tamper_sensitivity"]["min"], controls["tamper_sensitivity"]["max"]) == (
        0,
        100,
    )
    assert controls["tamper_method"]["options"] == ["cover", "defocus", "turn"]
    assert controls["capture"]["kind"] == "button" and controls["capture"]["value"] is None
    assert "control 'tamper' of detector clash left out" in caplog.text
    assert "control 'fps' of detector clash left out" in caplog.text
    channel.status()  # warned once per key, not on every status
    assert caplog.text.count("left out") == 2


def test_schema_bounds_need_both_ends() -> None:
    schema = vol.Schema({vol.Optional("n", default=1): vol.All(int, vol.Range(min=1))})
    assert capabilities.option_range(schema, "n") is None
    assert capabilities.option_range(schema, "missing") is None


def test_a_control_may_set_a_key_inside_an_option() -> None:
    options = {"threshold": 2, "rules": [{"name": "a", "enabled": True}, {"name": "b"}]}
    assert option_at(options, "threshold") == 2
    assert option_at(options, "rules.0.enabled") is True
    assert option_at(options, "rules.1.enabled") is None
    assert option_at(options, "rules.5.enabled") is None
    assert options_with(options, "threshold", 3) == {"threshold": 3}
    changed = options_with(options, "rules.1.enabled", False)
    assert changed == {"rules": [{"name": "a", "enabled": True}, {"name": "b", "enabled": False}]}
    assert options["rules"][1] == {"name": "b"}  # a copy: the current options stay as they are
    with pytest.raises(ConfigError, match=r"rules\.7: no such option"):
        options_with(options, "rules.7.enabled", False)
