"""Configuration: every error reported with its key path, plugin options validated, examples valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from camera_runtime.config import load_config, validate_config
from camera_runtime.config_yaml import parse_yaml
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import SECTIONS
from camera_runtime.registry import PluginRegistry, collect_registry, create_plugin_manager
from camera_runtime.schedule import ArmingSchedule

from .fakes import FakePlugins

EXAMPLES = sorted(Path(__file__).parents[2].joinpath("examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return collect_registry(create_plugin_manager(extra_plugins=[FakePlugins()]))


def errors_of(data: Any, registry: PluginRegistry) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_config(data, registry, SECTIONS)
    return info.value.errors


def channel(**overrides: Any) -> dict[str, Any]:
    return {"id": "cam", "source": {"type": "scripted"}, **overrides}


def test_defaults_are_filled_in_from_the_schemas(registry: PluginRegistry) -> None:
    config = validate_config(
        {"channels": [channel(detectors={"bright": None})]}, registry, SECTIONS
    )
    api = config.section("api")
    assert api is not None and api["port"] == 8080 and api["host"] == "127.0.0.1"
    assert config.section("zeroconf") == {"enabled": True}
    assert config.section("mqtt") is None  # a face without defaults is off when absent
    ch = config.channel("cam")
    assert (ch.detect_width, ch.detect_fps, ch.name) == (320, 5.0, "cam")
    assert ch.source_options["width"] == 64  # the plugin's own default
    assert ch.detectors["bright"].options == {"level": 100, "fail": False}
    assert ch.detectors["bright"].arming_schedule.is_armed(0.0)


def test_plugin_option_errors_carry_their_key_path(registry: PluginRegistry) -> None:
    data = {
        "channels": [
            channel(id="a"),
            channel(id="b", detectors={"motion": {"sensitivity": 101}}),
        ]
    }
    assert "channels[1].detectors.motion.sensitivity: value must be at most 100" in errors_of(
        data, registry
    )


def test_every_error_is_reported_at_once(registry: PluginRegistry) -> None:
    data = {
        "api": {"port": 70000},
        "channels": [
            channel(id="Bad Id"),
            channel(id="two", source={"type": "scripted", "width": "wide"}),
            channel(id="three", source={"type": "nope"}),
            channel(id="four", detectors={"bright": {"level": 300, "colour": 1}}),
        ],
    }
    errors = errors_of(data, registry)
    assert errors == [
        "api.port: value must be at most 65535",
        "channels[0].id: channel id must be 1-32 lowercase letters, digits, '-' or '_'",
        "channels[1].source.width: expected int",
        "channels[2].source: no source of type 'nope' is installed (known: "
        + ", ".join(registry.kinds("source"))
        + ")",
        "channels[3].detectors.bright.level: value must be at most 255",
        "channels[3].detectors.bright.colour: unknown option",
    ]


def test_second_pass_errors_name_the_plugin_path(registry: PluginRegistry) -> None:
    data = {
        "channels": [
            channel(id="two", source={"type": "scripted", "width": "wide"}),
            channel(id="three", source={"type": "nope"}),
            channel(id="four", detectors={"bright": {"level": 300, "colour": 1}}),
        ]
    }
    errors = errors_of(data, registry)
    assert "channels[0].source.width: expected int" in errors
    assert any(
        e.startswith("channels[1].source: no source of type 'nope' is installed") for e in errors
    )
    assert "channels[2].detectors.bright.level: value must be at most 255" in errors
    assert "channels[2].detectors.bright.colour: unknown option" in errors


def test_duplicate_channel_ids_are_rejected(registry: PluginRegistry) -> None:
    assert "channels[1].id: duplicate channel id 'cam'" in errors_of(
        {"channels": [channel(), channel()]}, registry
    )


def test_arming_schedule_errors_point_at_the_day(registry: PluginRegistry) -> None:
    det = {"bright": {"arming_schedule": {"monday": ["08:00-07:00"]}}}
    errors = errors_of({"channels": [channel(detectors=det)]}, registry)
    assert errors == [
        "channels[0].detectors.bright.arming_schedule.monday: period '08:00-07:00' ends before it starts"
    ]


def test_yaml_with_python_tags_is_rejected_without_running_anything(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    text = f"channels: !!python/object/apply:os.system ['touch {canary}']\n"
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_yaml(text)
    assert not canary.exists()


def test_syntax_errors_give_the_line(registry: PluginRegistry, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("channels:\n  - id: a\n    source: {type: scripted\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_config(path, registry)


def test_a_config_that_is_not_a_mapping_is_rejected(registry: PluginRegistry) -> None:
    assert errors_of(["a", "list"], registry) == ["<top>: expected a mapping"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_are_valid(path: Path) -> None:
    registry = collect_registry(create_plugin_manager())
    config = load_config(path, registry, SECTIONS)
    assert config.channels


def test_validate_command_prints_every_error_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "channels:\n"
        "  - {id: a, source: {type: synthetic}}\n"
        "  - {id: b, source: {type: synthetic}, detectors: {motion: {sensitivity: 101}}}\n"
        "  - {id: c, source: {type: synthetic, fps: 0}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "camera_runtime", "validate", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "channels[1].detectors.motion.sensitivity: value must be at most 100" in result.stderr
    assert "channels[2].source.fps" in result.stderr


def test_validate_command_accepts_a_good_config() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "camera_runtime", "validate", str(EXAMPLES[0])],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_a_bad_channel_part_hides_none_of_its_other_errors(registry: PluginRegistry) -> None:
    """A bad id or ``detect:`` block used to hide the channel's source and detector errors,
    and only the first bad day of a schedule was reported: one run now reports them all."""
    data = {
        "channels": [
            {
                "id": "Bad Id",
                "detect": {"fps": 0},
                "source": {"type": "scripted", "width": "wide"},
                "colour": "red",
                "detectors": {
                    "bright": {
                        "level": 300,
                        "arming_schedule": {
                            "monday": ["25:00-26:00"],
                            "friday": ["10:00-09:00"],
                        },
                    },
                    "motion": {"sensitivity": 101, "enabled": "maybe"},
                },
            },
            {"name": "no id or source"},
            "not a mapping",
        ]
    }
    assert errors_of(data, registry) == [
        "channels[0].colour: unknown option",
        "channels[0].id: channel id must be 1-32 lowercase letters, digits, '-' or '_'",
        "channels[0].detect.fps: value must be at least 0.5",
        "channels[0].source.width: expected int",
        "channels[0].detectors.bright.arming_schedule.monday: 25:00 is not a time of day "
        "(00:00 to 24:00)",
        "channels[0].detectors.bright.arming_schedule.friday: period '10:00-09:00' ends before "
        "it starts",
        "channels[0].detectors.bright.level: value must be at most 255",
        "channels[0].detectors.motion.enabled: expected bool",
        "channels[0].detectors.motion.sensitivity: value must be at most 100",
        "channels[1].id: required key not provided",
        "channels[1].source: required key not provided",
        "channels[2]: expected a mapping",
    ]


def test_yaml_1_1_surprises_get_clear_errors(registry: PluginRegistry) -> None:
    """``0100`` is octal 64 to YAML 1.1 and ``yes``/``on`` are booleans: a number with a leading
    zero is always refused (it would pass silently as 64), and a word read as a boolean where
    a name or a number is meant gets an error that says so. As a switch, ``on`` is fine."""
    text = """
device:
  name: yes
channels:
  - id: cam
    enabled: on
    source: {type: scripted, width: 064}
    detectors:
      motion: {sensitivity: 0100, enabled: off}
      bright: {level: on}
"""
    data = parse_yaml(text)
    assert errors_of(data, registry) == [
        "channels[0].source.width: 064 has a leading zero, which YAML reads as the octal "
        "number 52: write 64, or quote it for text",
        "channels[0].detectors.motion.sensitivity: 0100 has a leading zero, which YAML reads as "
        "the octal number 64: write 100, or quote it for text",
        "device.name: expected str (YAML reads yes as true: quote it, 'yes', to mean the word)",
        "channels[0].detectors.bright.level: expected a number, got on, which YAML reads as "
        "true and would count as 1",
    ]
    fixed = text.replace("0100", "100").replace("064", "64").replace("yes", "'yes'")
    good = parse_yaml(fixed.replace("level: on", "level: 10"))
    config = validate_config(good, registry, SECTIONS)
    assert config.device["name"] == "yes"
    assert config.channel("cam").enabled is True
    assert config.channel("cam").detectors["motion"].enabled is False
    assert config.channel("cam").detectors["motion"].options["sensitivity"] == 100


def test_record_defaults_and_errors_carry_their_key_path(registry: PluginRegistry) -> None:
    config = validate_config({"channels": [channel()]}, registry, SECTIONS)
    assert dict(config.channels[0].record) == {
        "enabled": False,
        "stream": "main",
        "record_type": "continuous",
        "events": [],
        "motion_events": [],
        "alarm_events": ["alarm_input"],
        "schedule": ArmingSchedule.always(),
        "pre_record": 5.0,
        "post_record": 5.0,
        "segment_length": 60.0,
        "expiration_days": 0.0,
    }
    assert config.dump()["channels"][0]["record"]["schedule"]["sunday"] == ["00:00-24:00"]
    bad = {"record_type": "motion|alarm", "pre_record": 99, "schedule": {"mon": []}}
    errors = errors_of({"channels": [channel(record=bad)]}, registry)
    assert sorted(errors) == [
        "channels[0].record.pre_record: value must be at most 30",
        "channels[0].record.record_type: value must be one of ['alarm', 'continuous', "
        "'event', 'motion', 'motion_and_alarm', 'motion_or_alarm']",
        "channels[0].record.schedule: unknown day(s) mon; use monday, tuesday, wednesday, "
        "thursday, friday, saturday, sunday",
    ]
    errors = errors_of({"channels": [channel(record={"stream": "sub"})]}, registry)
    assert errors == ["channels[0].record.stream: the channel has no substream"]


def test_workers_default_off_and_errors_carry_their_key_path(registry: PluginRegistry) -> None:
    config = validate_config({"channels": [channel()]}, registry, SECTIONS)
    assert config.workers == {"channels_per_process": 0}
    for bad, error in (
        (-1, "workers.channels_per_process: value must be at least 0"),
        (65, "workers.channels_per_process: value must be at most 64"),
        ("many", "workers.channels_per_process: expected int"),
    ):
        data = {"workers": {"channels_per_process": bad}, "channels": [channel()]}
        assert errors_of(data, registry) == [error]
    assert errors_of({"workers": {"per_process": 4}}, registry) == [
        "workers.per_process: unknown option"
    ]
