"""The request-schema mismatches schemathesis found between /api/openapi.json and the server
(issue #11, item 9), each pinned by a direct request so a regression shows without a fuzzer."""

from __future__ import annotations

import re

import aiohttp

from camera_runtime.api import ApiServer

from .helpers import client


async def _spec(admin: aiohttp.ClientSession) -> dict[str, object]:
    async with admin.get("/api/openapi.json") as r:
        return await r.json()  # type: ignore[no-any-return]


async def test_a_malformed_activation_is_400_in_any_state(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.post("/api/activate", json={"password": "", "extra": 1}) as r:
        assert r.status == 400  # not 409: the body is wrong whatever the state
    async with admin.post("/api/activate", json={"password": "An0ther-Secret?"}) as r:
        assert r.status == 409


async def test_a_dead_session_is_401_before_the_origin_check(activated: ApiServer) -> None:
    async with (
        client(activated) as session,
        session.post(
            "/api/tokens", json={"name": "x"}, cookies={"camera_runtime_session": "forged"}
        ) as r,
    ):
        assert r.status == 401


async def test_a_config_document_must_be_a_mapping(admin: aiohttp.ClientSession) -> None:
    for body, content_type in (
        (b"null", "application/json"),
        (b"[]", "application/json"),
        (b"", "application/yaml"),
        (b"'text'\n", "application/yaml"),
    ):
        async with admin.post(
            "/api/config/validate", data=body, headers={"Content-Type": content_type}
        ) as r:
            assert r.status == 422, body
            assert (await r.json())["valid"] is False


async def test_token_names_follow_the_documented_pattern(admin: aiohttp.ClientSession) -> None:
    spec = await _spec(admin)
    pattern = spec["components"]["schemas"]["TokenName"]["properties"]["name"]["pattern"]  # type: ignore[index]
    for name, ok in (
        ("home assistant", True),
        ("\U000152df unassigned", True),  # was refused as "not printable" though documented
        ("  padded  ", True),
        ("   ", False),
        ("tab\there", False),
        ("nel\x85", False),
    ):
        assert bool(re.search(pattern, name)) is ok, name
        async with admin.post("/api/tokens", json={"name": name}) as r:
            assert (r.status == 201) is ok, (name, r.status)


async def test_path_parameters_are_documented_with_their_form(
    admin: aiohttp.ClientSession,
) -> None:
    spec = await _spec(admin)
    params = {
        p["name"]: p["schema"]
        for ops in spec["paths"].values()  # type: ignore[attr-defined]
        for op in ops.values()
        for p in op.get("parameters", [])
        if p["in"] == "path"
    }
    assert all("pattern" in schema for schema in params.values()), params
    for operation in spec["paths"]["/api/device"].values():  # type: ignore[index]
        assert {"400", "414", "431"} <= set(operation["responses"])
