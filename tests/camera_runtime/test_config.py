"""Configuration: every error reported with its key path, plugin options validated, examples valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from camera_runtime.config import load_config, parse_yaml, validate_config
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import SECTIONS
from camera_runtime.registry import PluginRegistry, collect_registry, create_plugin_manager

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
