"""The resource routes over real HTTP: device, channels, arming and detector commands, event
queries, config (redacted) and validation, the OpenAPI document and plugin routes."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from camera_runtime import hookimpl
from camera_runtime.api import ApiServer, routes
from camera_runtime.model import Event, EventPhase, EventUpdate

from .conftest import ServerFactory
from .helpers import PASSWORD, assert_security_headers, client

# ---------------------------------------------------------------- device and channels


async def test_health_is_public(anon: aiohttp.ClientSession) -> None:
    async with anon.get("/api/health") as r:
        body = await r.json()
        assert body == {"status": "ok", "activated": False, "version": body["version"]}
        assert_security_headers(r)


async def test_device_information(activated: ApiServer, admin: aiohttp.ClientSession) -> None:
    async with admin.get("/api/device") as r:
        info = await r.json()
    for key in ("device_name", "device_no", "model", "serial_no", "firmware_version"):
        assert key in info
    assert info["device_id"] == activated.runtime.device_id
    assert info["channels"] == 2
    # every channel in the runtime's process: no workers, and none of their readings
    assert info["workers"] is None
    assert not {s["key"] for s in info["sensors"]} & {"worker_processes", "worker_restarts"}


async def test_channels_list_and_one(admin: aiohttp.ClientSession) -> None:
    async with admin.get("/api/channels") as r:
        listed = await r.json()
    assert [c["id"] for c in listed] == ["cam1", "garage"]
    async with admin.get("/api/channels/garage") as r:
        one = await r.json()
    assert one["state"] == "stopped"
    assert one["source"] == "rtsp"
    async with admin.get("/api/channels/nope") as r:
        assert r.status == 404
        assert (await r.json())["error"] == "channel_not_found"


async def test_arming_and_detector_switches(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    channel = activated.runtime.channels["cam1"]
    async with admin.put("/api/channels/cam1/arming", json={"armed": False}) as r:
        assert r.status == 200
        assert (await r.json())["armed"] is False
    assert channel.armed is False
    async with admin.put("/api/channels/cam1/detectors/motion", json={"enabled": False}) as r:
        motion = (await r.json())["detectors"]["motion"]
        assert (motion["enabled"], motion["error"], motion["options"]["sensitivity"]) == (
            False,
            "",
            50,
        )
    assert channel.detectors["motion"].enabled is False


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/channels/cam1/arming", b"{", 400),
        ("/api/channels/cam1/arming", b"[]", 400),
        ("/api/channels/cam1/arming", b'{"armed": "false"}', 400),
        ("/api/channels/cam1/arming", b'{"armed": 0}', 400),
        ("/api/channels/cam1/arming", b"{}", 400),
        ("/api/channels/cam1/arming", b'{"armed": false, "extra": 1}', 400),
        ("/api/channels/cam1/arming", b"\xff\xfe", 400),
        ("/api/channels/nope/arming", b'{"armed": false}', 404),
        ("/api/channels/cam1/detectors/line_crossing", b'{"enabled": true}', 404),
        ("/api/channels/cam1/detectors/motion", b'{"enabled": null}', 400),
        ("/api/channels/cam1/detectors/motion", b"{}", 400),
        ("/api/channels/cam1/detectors/motion", b'{"options": []}', 400),
        ("/api/channels/cam1/detectors/motion", b'{"options": {"sensitivity": 101}}', 422),
        ("/api/channels/cam1/detectors/motion", b'{"options": {"no_such": 1}}', 422),
        ("/api/channels/cam1/detectors/motion", b'{"enabled": false, "options": {"mode": 3}}', 422),
    ],
)
async def test_bad_commands_are_json_4xx_and_change_nothing(
    activated: ApiServer, admin: aiohttp.ClientSession, path: str, body: bytes, status: int
) -> None:
    headers = {"Content-Type": "application/json"}
    async with admin.put(path, data=body, headers=headers) as r:
        assert r.status == status
        payload = await r.json()
        assert payload["error"] and payload["message"]
    channel = activated.runtime.channels["cam1"]
    assert channel.armed is True
    assert channel.detectors["motion"].enabled is True
    assert channel.detectors["motion"].options["sensitivity"] == 50
    assert not (activated.runtime.data_dir / "overrides.json").exists()


# ---------------------------------------------------------------- events


async def _publish(server: ApiServer, *events: Event) -> None:
    for event in events:
        server.runtime.bus.publish(EventUpdate(EventPhase.NEW, event))
    await server.runtime.history.flush()


async def test_events_query_filters_and_order(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    base = 1_000_000_000.0  # 2001-09-09T01:46:40Z, far from the live camera's own events
    await _publish(
        activated,
        Event("cam1", "motion", base + 10, id="e1"),
        Event("garage", "motion", base + 20, id="e2"),
        Event("cam1", "video_loss", base + 30, id="e3"),
        Event("cam1", "motion", base + 40, id="e4"),
        Event("garage", "video_loss", base + 50, id="e5", end=base + 55),
    )
    window = f"since={base}&until={base + 100}"

    async def ids(query: str) -> list[str]:
        async with admin.get(f"/api/events?{query}") as r:
            assert r.status == 200, await r.text()
            return [e["id"] for e in (await r.json())["events"]]

    assert await ids(window) == ["e5", "e4", "e3", "e2", "e1"]
    assert await ids(f"{window}&active=true") == ["e4", "e3", "e2", "e1"]
    assert await ids(f"{window}&active=0") == ["e5"]
    assert await ids(f"{window}&channel=cam1") == ["e4", "e3", "e1"]
    assert await ids(f"{window}&type=motion&active=1") == ["e4", "e2", "e1"]
    assert await ids(f"{window}&channel=cam1&type=motion&limit=1") == ["e4"]
    assert await ids(f"since={base + 15}&until={base + 35}") == ["e3", "e2"]
    assert await ids("since=2001-09-09T01:46:55Z&until=2001-09-09T01:47:15%2B00:00") == [
        "e3",
        "e2",
    ]
    async with admin.get("/api/events/e3") as r:
        assert (await r.json())["type"] == "video_loss"
    async with admin.get("/api/events/missing") as r:
        assert r.status == 404


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("since=yesterday", "since"),
        ("until=nan", "until"),
        ("since=1e999", "since"),
        ("until=2024-13-45", "until"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("limit=1_0", "limit"),  # digits only: not what Python's int() takes
        ("since=%3Cscript%3E", "since"),
        ("active=yes", "active"),
    ],
)
async def test_bad_event_query_names_the_parameter(
    admin: aiohttp.ClientSession, query: str, parameter: str
) -> None:
    async with admin.get(f"/api/events?{query}") as r:
        assert r.status == 400
        body = await r.json()
        assert body["parameter"] == parameter
        assert repr(parameter) in body["message"]


# ---------------------------------------------------------------- config


async def test_config_is_redacted(admin: aiohttp.ClientSession) -> None:
    async with admin.get("/api/config") as r:
        text = await r.text()
    assert "hunter2" not in text
    config = json.loads(text)
    garage = config["channels"][1]["source"]
    assert garage["password"] == routes.REDACTED
    assert garage["url"] == f"rtsp://{routes.REDACTED}@192.0.2.10/stream1"
    assert garage["username"] == "viewer"
    assert config["api"]["web_authentication"] == "digest/basic"


def test_redact_rules() -> None:
    data = {
        "smtp": {"password": "p", "user": "u", "api_key": "k", "access_token": "t", "passive": 1},
        "targets": ["ftp://me:pw@host/x", "http://host/x"],
        "client_secret": "s",
        "empty_password": "",
    }
    assert routes.redact(data) == {
        "smtp": {
            "password": routes.REDACTED,
            "user": "u",
            "api_key": routes.REDACTED,
            "access_token": routes.REDACTED,
            "passive": 1,
        },
        "targets": [f"ftp://{routes.REDACTED}@host/x", "http://host/x"],
        "client_secret": routes.REDACTED,
        "empty_password": "",
    }


async def test_config_validate(activated: ApiServer, admin: aiohttp.ClientSession) -> None:
    async def validate(body: bytes | str) -> tuple[int, dict[str, Any]]:
        async with admin.post("/api/config/validate", data=body) as r:
            return r.status, await r.json()

    assert await validate("channels: []\n") == (200, {"valid": True})
    assert await validate(json.dumps({"device": {"name": "x"}})) == (200, {"valid": True})
    status, body = await validate(
        "channels:\n  - id: Bad Id\n    source: {type: synthetic, fps: 500}\n"
    )
    assert status == 422
    assert body["valid"] is False
    assert any(line.startswith("channels[0].id:") for line in body["errors"])
    status, body = await validate("channels: [\n")
    assert status == 422 and "line" in body["errors"][0]
    canary = Path(activated.runtime.data_dir, "canary")
    status, body = await validate(f'!!python/object/apply:os.system ["touch {canary}"]\n')
    assert status == 422
    assert not canary.exists()  # noqa: ASYNC240
    bomb = (
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "channels: *i\n"
    )
    started = time.monotonic()
    status, body = await validate(bomb)
    assert status == 422
    assert time.monotonic() - started < 5
    status, body = await validate(b"channels: []\n\xff")
    assert status == 400


# ---------------------------------------------------------------- OpenAPI


async def test_openapi_lists_every_route_and_only_those(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.get("/api/openapi.json") as r:
        spec = await r.json()
    assert spec["openapi"].startswith("3.1")
    assert activated.app is not None
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in activated.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented
    schemas = spec["components"]["schemas"]
    refs = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"].rsplit("/", 1)[1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    assert refs <= set(schemas)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["responses"], (method, path)
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"\{(\w+)\}", path)), (method, path)
            if op.get("security") != []:
                assert "401" in op["responses"], (method, path)
    # Responses match their declared schemas (required keys, no undeclared ones).
    for path, name in (("/api/health", "Health"), ("/api/device", "Device")):
        async with admin.get(path) as r:
            conforms(await r.json(), schemas[name])
    async with admin.get("/api/channels") as r:
        for item in await r.json():
            conforms(item, schemas["Channel"])


def conforms(value: dict[str, Any], schema: dict[str, Any]) -> None:
    assert set(schema["required"]) <= set(value), (schema["required"], value)
    if schema.get("additionalProperties") is False:
        assert set(value) <= set(schema["properties"]), value


class HelloPlugin:
    @hookimpl
    def extend_api(self, app: web.Application, runtime: Any) -> None:
        async def hello(request: web.Request) -> web.Response:
            """Say hello (a plugin route)."""
            return web.json_response({"hello": True})

        app.router.add_get("/api/plugin/hello", hello)


async def test_plugin_routes_need_admin_and_are_documented(make_server: ServerFactory) -> None:
    server = await make_server(extra_plugins=(HelloPlugin(),))
    await server.security.activate(PASSWORD)
    async with client(server) as anon, anon.get("/api/plugin/hello") as r:
        assert r.status == 401
    async with client(server, auth="basic") as admin:
        async with admin.get("/api/plugin/hello") as r:
            assert await r.json() == {"hello": True}
        async with admin.get("/api/openapi.json") as r:
            op = (await r.json())["paths"]["/api/plugin/hello"]["get"]
        assert op["summary"] == "Say hello (a plugin route)."
        assert op["x-level"] == "administrator"
