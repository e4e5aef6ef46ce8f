"""Capabilities through the HTTP API: a detector defined only in a test (``tests/tamper.py``)
gets its event type and its controls in the channel's status, its controls are set through
the one controls route, checked like the schema, and its events reach the history."""

from __future__ import annotations

from typing import Any

import pytest

from camera_runtime.api import ApiServer
from tests.polling import eventually
from tests.tamper import TamperPlugin, tamper_channel

from .conftest import ServerFactory
from .helpers import PASSWORD, client, receive_until


@pytest.fixture
async def tampered(make_server: ServerFactory) -> ApiServer:
    data = {"zeroconf": {"enabled": False}, "channels": [tamper_channel()]}
    server = await make_server(data=data, extra_plugins=(TamperPlugin(),))
    await server.security.activate(PASSWORD)
    return server


def controls(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in status["controls"]}


async def test_the_status_declares_the_plugin_s_event_type_and_controls(
    tampered: ApiServer,
) -> None:
    async with client(tampered, auth="basic") as admin, admin.get("/api/channels/cam1") as r:
        status = await r.json()
    assert status["event_types"][0] == {
        "name": "tamper",
        "label": "Tamper",
        "device_class": "tamper",
        "translation_key": "tamper",
        "exception": False,
        "detector": "tamper",
        "rules": [],  # a detector of one rule declares none
    }
    declared = controls(status)
    assert declared["tamper_detection"] | {"value": None} == {
        "key": "tamper_detection",
        "kind": "switch",
        "label": "Tamper detection",
        "translation_key": "tamper_detection",
        "config": True,
        "detector": "tamper",
        "image_stage": None,
        "sets": "enabled",
        "value": None,
    }
    assert declared["tamper_detection"]["value"] is True
    number = declared["tamper_sensitivity"]
    assert (number["kind"], number["min"], number["max"], number["step"]) == ("number", 0, 100, 1)
    assert number["value"] == 0 and number["sets"] == "sensitivity"
    select = declared["tamper_method"]
    assert (select["options"], select["value"]) == (["cover", "defocus", "turn"], "cover")


async def test_controls_are_set_checked_and_the_event_follows(tampered: ApiServer) -> None:
    runtime: Any = tampered.runtime

    def tamper(phase: str) -> Any:
        return lambda m: (
            m["type"] == "event" and m["phase"] == phase and m["event"]["type"] == "tamper"
        )

    async with client(tampered, auth="basic") as admin, admin.ws_connect("/api/events/ws") as ws:
        # At sensitivity 100 every picture counts as tampered: the event starts...
        async with admin.put(
            "/api/channels/cam1/controls/tamper_sensitivity", json={"value": 100}
        ) as r:
            assert r.status == 200
        started = await receive_until(ws, tamper("new"))
        async with admin.put(
            "/api/channels/cam1/controls/tamper_sensitivity", json={"value": 0}
        ) as r:
            assert r.status == 200
            assert controls(await r.json())["tamper_sensitivity"]["value"] == 0
        assert runtime.channels["cam1"].detectors["tamper"].options["sensitivity"] == 0
        ended = await receive_until(ws, tamper("end"))  # ... and ends at sensitivity 0
        assert ended["event"]["id"] == started["event"]["id"]
        async with admin.get("/api/events?type=tamper") as r:
            assert [e["id"] for e in (await r.json())["events"]] == [started["event"]["id"]]

        async with admin.put(
            "/api/channels/cam1/controls/tamper_method", json={"value": "defocus"}
        ) as r:
            assert r.status == 200
        async with admin.put(
            "/api/channels/cam1/controls/tamper_detection", json={"value": False}
        ) as r:
            assert controls(await r.json())["tamper_detection"]["value"] is False
        detector = runtime.channels["cam1"].detectors["tamper"]
        assert (detector.enabled, detector.options["method"]) == (False, "defocus")


@pytest.mark.parametrize(
    ("key", "body", "status", "message"),
    [
        ("tamper_sensitivity", {"value": 101}, 422, "expected a whole number from 0 to 100"),
        ("tamper_sensitivity", {"value": 50.5}, 422, "expected a whole number from 0 to 100"),
        ("tamper_sensitivity", {"value": "high"}, 422, "expected a whole number from 0 to 100"),
        ("tamper_method", {"value": "melt"}, 422, "expected one of cover, defocus, turn"),
        ("tamper_detection", {"value": "yes"}, 422, "expected true or false"),
        ("capture", {"value": True}, 422, "capture is a button"),
        ("no_such", {"value": 1}, 404, "has no control 'no_such'"),
        ("tamper_sensitivity", {}, 400, "give the control's new 'value'"),
        ("tamper_sensitivity", {"value": 1, "extra": 2}, 400, "extra"),
    ],
)
async def test_bad_control_values_are_refused_and_change_nothing(
    tampered: ApiServer, key: str, body: dict[str, Any], status: int, message: str
) -> None:
    runtime: Any = tampered.runtime
    before = dict(runtime.channels["cam1"].detectors["tamper"].options)
    async with client(tampered, auth="basic") as admin:
        async with admin.put(f"/api/channels/cam1/controls/{key}", json=body) as r:
            assert r.status == status
            answer = await r.json()
        assert message in answer["message"] + " ".join(answer.get("errors", []))
        # Pressing a switch is refused too; pressing the capture button works.
        async with admin.post("/api/channels/cam1/controls/tamper_detection") as r:
            assert r.status == 422
    assert runtime.channels["cam1"].detectors["tamper"].options == before
    assert runtime.channels["cam1"].detectors["tamper"].enabled is True


async def test_a_declared_button_is_pressed(tampered: ApiServer) -> None:
    runtime: Any = tampered.runtime
    await eventually(lambda: runtime.has_picture("cam1"))
    async with client(tampered, auth="basic") as admin:
        async with admin.post("/api/channels/cam1/controls/capture") as r:
            assert r.status == 200
            capture = await r.json()
        async with admin.get(capture["url"]) as r:
            assert r.status == 200 and (await r.read())[:2] == b"\xff\xd8"
