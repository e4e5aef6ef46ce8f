"""Topic levels made from names, the ``mqtt:`` config block, and the outbox on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from camera_runtime.config import validate_config
from camera_runtime.exceptions import ConfigError
from camera_runtime.mqtt import MQTT_SECTION
from camera_runtime.mqtt.commands import (
    CommandError,
    parse_number,
    parse_on_off,
    parse_press,
    safe_payload,
)
from camera_runtime.mqtt.outbox import Outbox
from camera_runtime.mqtt.topics import Topics, segment
from camera_runtime.registry import collect_registry, create_plugin_manager


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("cam1", "cam1"),
        ("a/b", "a_b"),
        ("+", "_"),
        ("#", "_"),
        ("../etc", "___etc"),
        ("x\r\ny", "x__y"),
        ("nul\x00", "nul_"),
        ("", "_"),
        ("é", "_"),
    ],
)
def test_names_become_one_safe_level(name: str, level: str) -> None:
    assert segment(name) == level


def test_topics_never_gain_levels_or_wildcards() -> None:
    topics = Topics("camera_runtime", "dev", "homeassistant")
    for evil in ("a/b", "+", "#", "../x", "a\r\nb"):
        for topic in (
            topics.events(evil),
            topics.state(evil, evil),
            topics.event_state(evil, evil),
        ):
            assert "+" not in topic and "#" not in topic and ".." not in topic
            assert "\r" not in topic and "\n" not in topic
        assert topics.events(evil).count("/") == 3
    assert topics.event_state("c", "status") == "camera_runtime/dev/c/event_status"
    assert topics.parse_command("camera_runtime/dev/c/arming/set") == ("c", "arming")
    assert topics.parse_command("camera_runtime/dev/c/x/arming/set") is None
    assert topics.parse_command("other/dev/c/arming/set") is None


def errors(data: dict) -> list[str]:
    registry = collect_registry(create_plugin_manager())
    with pytest.raises(ConfigError) as info:
        validate_config(data, registry, [MQTT_SECTION])
    return info.value.errors


@pytest.mark.parametrize("prefix", ["a/#", "a/+/b", "/a", "a/", "a//b", "a\x00b", "a\nb", ""])
def test_bad_topic_prefixes_are_config_errors(prefix: str) -> None:
    assert errors({"mqtt": {"host": "h", "topic_prefix": prefix}})[0].startswith(
        "mqtt.topic_prefix"
    )
    assert errors({"mqtt": {"host": "h", "discovery_prefix": prefix}})[0].startswith(
        "mqtt.discovery_prefix"
    )


def test_mqtt_block_defaults_and_errors() -> None:
    registry = collect_registry(create_plugin_manager())
    config = validate_config({"mqtt": {"host": "broker"}}, registry, [MQTT_SECTION])
    assert config.section("mqtt") == {
        "host": "broker",
        "port": 1883,
        "keepalive": 60,
        "topic_prefix": "camera_runtime",
        "discovery": True,
        "discovery_prefix": "homeassistant",
        "snapshot_on_event": True,
        "outbox_max": 100_000,
    }
    assert validate_config({}, registry, [MQTT_SECTION]).section("mqtt") is None
    # The core knows no face: without the section, an mqtt block is an unknown option.
    with pytest.raises(ConfigError) as info:
        validate_config({"mqtt": {"host": "broker"}}, registry)
    assert info.value.errors == ["mqtt: unknown option"]
    assert errors({"mqtt": {"port": 1883}}) == ["mqtt.host: required key not provided"]
    assert errors({"mqtt": {"host": "h", "password": "x"}}) == [
        "mqtt.password: password needs a username"
    ]
    assert errors({"mqtt": {"host": "h", "qos": 2}}) == ["mqtt.qos: unknown option"]
    assert errors({"mqtt": {"host": "h", "port": 70000}})[0].startswith("mqtt.port")


def test_command_parsers() -> None:
    assert parse_on_off(b"ON") is True and parse_on_off(b"OFF") is False
    assert parse_number(b"0") == 0 and parse_number(b"100") == 100
    assert parse_number(b"55.0") == 55 and isinstance(parse_number(b"55.0"), int)
    assert parse_number(b"-2.5") == -2.5
    for bad in (b"on", b"1", b"", b"ON OFF", b"ON\n", b" OFF"):  # exact, as HA sends them
        with pytest.raises(CommandError):
            parse_on_off(bad)
    with pytest.raises(CommandError):
        parse_press(b"PRESS\n")
    parse_press(b"PRESS")
    # Numbers are plain decimals; the control checks the range and the step.
    for bad in (b"1e2", b"0x10", b" ", b"nan", b"inf", b"1" * 40, b"70\n", b" 70"):
        with pytest.raises(CommandError):
            parse_number(bad)
    assert safe_payload(b"a\r\nb\x00") == "a\ufffd\ufffdb\ufffd"
    assert safe_payload(b"x" * 100).endswith("...")


async def test_outbox_keeps_order_and_sequence_across_reopen(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", 1000, lambda: None)
    for n in range(5):
        outbox.add("t", {"n": n})  # queued before open: written once it is open
    await outbox.open()
    await outbox.flush()
    rows = await outbox.fetch(0, 10)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        outbox.ack(row.seq)
    await outbox.close()
    reopened = Outbox(tmp_path / "o.sqlite3", 1000, lambda: None)
    await reopened.open()
    assert reopened.count == 0
    reopened.add("t", {"n": 5})
    await reopened.flush()
    assert [r.seq for r in await reopened.fetch(0, 10)] == [6]  # never reused
    await reopened.close()


async def test_a_full_outbox_drops_the_oldest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", 100, lambda: None)
    await outbox.open()
    for n in range(130):
        outbox.add("t", {"n": n})
    await outbox.flush()
    rows = await outbox.fetch(0, 1000)
    assert len(rows) == 100 and outbox.count == 100
    assert rows[0].seq == 31 and rows[-1].seq == 130
    assert outbox.dropped == 30
    assert "MQTT outbox full" in caplog.text
    await outbox.close()


def test_command_line_options_fill_the_mqtt_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from camera_runtime.cli import MQTT_PASSWORD_ENV, _parser, mqtt_overrides

    args = _parser().parse_args(
        ["demo", "--mqtt-host", "10.0.0.2", "--mqtt-port", "1884", "--mqtt-username", "cam"]
    )
    monkeypatch.setenv(MQTT_PASSWORD_ENV, "s3cret")
    data = {"mqtt": {"host": "old", "topic_prefix": "x"}}
    assert mqtt_overrides(args, data)["mqtt"] == {
        "host": "10.0.0.2", "port": 1884, "username": "cam", "password": "s3cret", "topic_prefix": "x"
    }  # fmt: skip
    assert data["mqtt"]["host"] == "old"  # the user's data is not changed
    plain = _parser().parse_args(["demo"])
    assert mqtt_overrides(plain, {"channels": []}) == {"channels": []}
    assert "--mqtt-password" not in _parser().format_help()
