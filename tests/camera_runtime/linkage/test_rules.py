"""The document's constraints on linkage rules, each refused with its key path and message,
and the rule whose source has notifications off: kept, inactive, and saying so."""

from __future__ import annotations

from typing import Any

import pytest

from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data

from .conftest import StartRuntime, config

BELL = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}


def _link(resource: str, action: str) -> dict[str, str]:
    return {"resource": resource, "action": action}


def _errors(linkage: dict[str, Any], *channels: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        runtime_from_data(config(linkage, *channels))
    return caught.value.errors


def test_the_source_and_the_linked_resource_differ() -> None:
    rule = {"id": "r", "source": "cam1", "event": "motion", "actions": [_link("cam1", "record")]}
    assert _errors({"rules": [rule]}) == [
        "linkage.rules[0].actions[0].resource: the source and the linked resource cannot be "
        "the same device ('cam1')"
    ]


def test_no_two_identical_rules() -> None:
    one = {"id": "a", "source": "cam1", "event": "motion", "actions": [_link("cam2", "record")]}
    two = {**one, "id": "b"}
    assert _errors({"rules": [one, two]}) == [
        "linkage.rules[1]: the same rule as linkage.rules[0] (same source, triggering event, "
        "linked resources and linkage actions)"
    ]
    # Another event from the same source is another rule.
    runtime_from_data(config({"rules": [one, {**two, "event": "video_loss"}]}))


def test_at_most_four_camera_actions_for_one_source() -> None:
    rules = [
        {"id": "a", "source": "bell", "event": "doorbell_ring",
         "actions": [_link("cam1", "capture_picture"), _link("cam1", "record")]},
        {"id": "b", "source": "bell", "event": "doorbell_ring",
         "actions": [_link("cam2", "capture_picture"), _link("cam2", "record")]},
    ]  # fmt: skip
    runtime_from_data(config({"resources": [BELL], "rules": rules}))  # four: allowed
    rules.append(
        {"id": "c", "source": "bell", "event": "doorbell_ring", "actions": [_link("cam3", "arm")]}
    )
    assert _errors({"resources": [BELL], "rules": rules}, "cam1", "cam2", "cam3") == [
        "linkage.rules: source 'bell' has 5 linkage actions on camera channels (at most 4 for "
        "one source): linkage.rules[0], linkage.rules[1], linkage.rules[2]"
    ]


def test_at_most_ten_linked_resources_in_a_rule() -> None:
    doors = [
        {"id": f"door{i}", "type": "door_station", "http": {"url": "http://127.0.0.1:9/"}}
        for i in range(11)
    ]
    rule = {"id": "r", "source": "bell", "event": "doorbell_ring",
            "actions": [_link(d["id"], "open_door") for d in doors]}  # fmt: skip
    assert _errors({"resources": [BELL, *doors], "rules": [rule]}) == [
        "linkage.rules[0].actions: at most 10 linked resources in a rule, got 11"
    ]
    rule["actions"] = rule["actions"][:10]
    runtime_from_data(config({"resources": [BELL, *doors], "rules": [rule]}))


def test_unknown_sources_resources_and_actions_are_named() -> None:
    rule = {"id": "r", "source": "nobody", "event": "motion",
            "actions": [_link("cam2", "fly"), _link("ghost", "record")]}  # fmt: skip
    assert _errors({"rules": [rule], "resources": [{"id": "x", "type": "teleporter"}]}) == [
        "linkage.resources[0].type: no linked resource type 'teleporter'",
        "linkage.rules[0].source: no channel or resource 'nobody'",
        "linkage.rules[0].actions[0].action: 'fly' is not an action of a channel: "
        "capture_picture, record, call_preset, call_patrol, call_pattern, arm, disarm, "
        "enable_privacy_mask, disable_privacy_mask",
        "linkage.rules[0].actions[1].resource: no channel or resource 'ghost'",
    ]


def test_a_resource_id_cannot_be_a_channel_id() -> None:
    assert _errors({"resources": [{**BELL, "id": "cam1"}]}, "cam1") == [
        "linkage.resources[0].id: 'cam1' is already a channel"
    ]


async def test_a_source_with_notifications_off_keeps_its_rule_inactive(
    start_runtime: StartRuntime,
) -> None:
    quiet = {**BELL, "id": "quiet", "notifications": False}
    rules = [
        {"id": "bell", "source": "quiet", "event": "doorbell_ring",
         "actions": [_link("cam1", "capture_picture")]},
        {"id": "cam", "source": "cam1", "event": "motion",
         "actions": [_link("cam2", "capture_picture")]},
    ]  # fmt: skip
    runtime, watch = await start_runtime(config({"resources": [quiet], "rules": rules}))
    listed = {r["id"]: r for r in runtime.linkage.rules()}
    assert listed["bell"]["active"] is False
    assert "notifications off" in listed["bell"]["inactive_reason"]
    assert listed["cam"]["active"] is True
    await runtime.set_armed("cam1", False)  # a disarmed channel: its notifications are off
    assert runtime.linkage.rules()[1]["active"] is False
    # The inactive rule does not fire: the doorbell's event goes out, no linkage follows.
    await runtime.linkage.receive("quiet", {"event": "doorbell_ring"})
    await watch.wait(
        lambda us: any(u.event.type == "doorbell_ring" and u.phase.value == "end" for u in us)
    )
    assert not any(u.event.type == "linkage_fired" for u in watch.updates)
    assert runtime.linkage.status()["fired"] == 0


async def test_a_rule_on_an_event_its_source_does_not_raise_says_so(
    start_runtime: StartRuntime,
) -> None:
    rule = {"id": "r", "source": "cam1", "event": "line_crossing",
            "actions": [_link("cam2", "capture_picture")]}  # fmt: skip
    runtime, _ = await start_runtime(config({"rules": [rule]}))
    (listed,) = runtime.linkage.rules()
    assert listed["active"] is False
    assert listed["inactive_reason"] == "the source 'cam1' raises no 'line_crossing' event"


async def test_a_channel_a_rule_uses_is_not_removed_under_it(start_runtime: StartRuntime) -> None:
    rule = {"id": "r", "source": "cam1", "event": "motion",
            "actions": [_link("cam2", "capture_picture")]}  # fmt: skip
    runtime, _ = await start_runtime(config({"rules": [rule]}))
    with pytest.raises(ConfigError) as caught:
        await runtime.remove_channel("cam2")
    assert caught.value.errors == [
        "linkage.rules[0].actions[0].resource: no channel or resource 'cam2'"
    ]
    assert "cam2" in runtime.channel_ids()
    await runtime.linkage.delete_rule("r")
    await runtime.remove_channel("cam2")
    assert runtime.channel_ids() == ["cam1"]
