"""The illegal login lock over HTTP under concurrency (issue #11, item 1) and what its answers
say (issue #10, item 12): a burst of wrong passwords from one address, sent at once, gets at
most ``attempts`` of them checked, for the login form, basic and digest alike."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from camera_runtime.api import ApiServer
from camera_runtime.api.auth import HTTP_AUTH
from camera_runtime.api.digest import Outcome, Result
from camera_runtime.host import runtime_from_data
from camera_runtime.model import DEVICE, EventPhase, EventUpdate
from camera_runtime.security import store as store_module

from .helpers import PASSWORD, challenges, client, digest_authorization

BURST = 40


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()}


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the store ran scrypt on."""
    tried: list[str] = []
    real = store_module.check_password

    def counting(record: Mapping[str, Any], password: str) -> bool:
        tried.append(password)
        return real(record, password)

    monkeypatch.setattr(store_module, "check_password", counting)
    return tried


async def _burst(session: aiohttp.ClientSession, requests: list[Any]) -> list[int]:
    async def one(request: Any) -> int:
        async with request as r:
            body = await r.json()
            if r.status == 401:
                assert "attempts_left" in body, body
            if r.status == 403:
                assert body["error"] == "login_locked"
                assert int(r.headers["Retry-After"]) > 0
            return r.status

    return list(await asyncio.gather(*(one(r) for r in requests)))


async def _assert_held(
    server: ApiServer, local: str, statuses: list[int], checked: list[str]
) -> None:
    """``attempts`` passwords checked and refused, the rest of the burst locked out, and the
    right password refused afterwards while the lock holds."""
    attempts = server.runtime.config.security["illegal_login_lock"]["attempts"]
    assert len(checked) == attempts
    assert statuses.count(401) == attempts
    assert statuses.count(403) == BURST - attempts
    async with (
        client(server, local=local) as session,
        session.post("/api/login", json={"username": "admin", "password": PASSWORD}) as r,
    ):
        assert r.status == 403, "the right password must be refused while locked"


async def test_login_burst_checks_at_most_the_allowed_passwords(
    activated: ApiServer, checked: list[str]
) -> None:
    async with client(activated, local="127.0.0.5") as session:
        statuses = await _burst(
            session,
            [
                session.post("/api/login", json={"username": "admin", "password": f"Wr0ng-{i}!"})
                for i in range(BURST)
            ],
        )
    await _assert_held(activated, "127.0.0.5", statuses, checked)


async def test_basic_burst_checks_at_most_the_allowed_passwords(
    activated: ApiServer, checked: list[str]
) -> None:
    async with client(activated, local="127.0.0.6") as session:
        statuses = await _burst(
            session,
            [session.get("/api/device", headers=_basic(f"Wr0ng-{i}!")) for i in range(BURST)],
        )
    await _assert_held(activated, "127.0.0.6", statuses, checked)


async def test_digest_burst_checks_at_most_the_allowed_passwords(activated: ApiServer) -> None:
    digest = activated.app[HTTP_AUTH].digest  # type: ignore[index]
    failed: list[str] = []
    real = digest.verify

    def counting(value: str, method: str, uri: str) -> Result:
        result = real(value, method, uri)
        if result.outcome is Outcome.FAILED:
            failed.append(result.username)
        return result

    digest.verify = counting  # type: ignore[method-assign]
    async with client(activated, local="127.0.0.7") as session:
        async with session.get("/api/device") as first:
            challenge = challenges(first)["SHA-256"]
        headers = [
            {
                "Authorization": digest_authorization(
                    challenge, "GET", "/api/device", password=f"Wr0ng-{i}!", nc=i + 1
                )
            }
            for i in range(BURST)
        ]
        statuses = await _burst(session, [session.get("/api/device", headers=h) for h in headers])
    await _assert_held(activated, "127.0.0.7", statuses, failed)


async def test_answers_say_how_many_attempts_are_left(activated: ApiServer) -> None:
    attempts = activated.runtime.config.security["illegal_login_lock"]["attempts"]
    lefts = []
    async with client(activated, local="127.0.0.8") as session:
        for i in range(attempts):
            if i % 2:
                request = session.get("/api/device", headers=_basic("Wr0ng-Passw0rd"))
            else:
                request = session.post(
                    "/api/login", json={"username": "admin", "password": "Wr0ng-Passw0rd"}
                )
            async with request as r:
                assert r.status == 401
                body = await r.json()
                lefts.append(body["attempts_left"])
                assert f"{body['attempts_left']} attempt(s) left" in body["message"] or (
                    body["attempts_left"] == 0 and "now locked" in body["message"]
                )
        async with session.post(
            "/api/login", json={"username": "admin", "password": PASSWORD}
        ) as r:
            assert r.status == 403
            body = await r.json()
            assert "camera-runtime security unlock" in body["message"]
    assert lefts == list(range(attempts - 1, -1, -1))


async def test_each_checked_failure_raises_the_illegal_login_exception(
    activated: ApiServer,
) -> None:
    """The manual's "illegal login" exception: one event per password actually checked (the
    locked address is refused unchecked), saying who tried what and when the lock closed."""
    runtime = activated.runtime
    attempts = runtime.config.security["illegal_login_lock"]["attempts"]
    updates: list[EventUpdate] = []
    unsubscribe = runtime.subscribe_events(updates.append)
    statuses = []
    try:
        async with client(activated, local="127.0.0.9") as session:
            for _ in range(attempts + 2):
                login = {"username": "mallory", "password": "x"}
                async with session.post("/api/login", json=login) as r:
                    statuses.append(r.status)
    finally:
        unsubscribe()
    assert statuses == [401] * attempts + [403, 403]
    logins = [u for u in updates if u.event.type == "illegal_login"]
    assert [u.phase for u in logins] == [EventPhase.NEW, EventPhase.END] * attempts
    events = [u.event for u in logins if u.phase is EventPhase.END]
    assert {e.channel for e in events} == {DEVICE}
    assert all(e.data["client"] == "127.0.0.9" and e.data["user"] == "mallory" for e in events)
    assert [e.data["locked"] for e in events] == [False] * (attempts - 1) + [True]
    assert [e.data["attempts_left"] for e in events] == list(range(attempts - 1, -1, -1))


def test_the_api_declares_the_illegal_login_exception(tmp_path: Path) -> None:
    """A host that serves the API declares the event with the device's own exceptions, so MQTT
    and Home Assistant offer it; a runtime without a login (embedded) does not."""
    runtime = runtime_from_data({"channels": []}, data_dir=tmp_path)
    before = [t["name"] for t in runtime.device_info()["event_types"]]
    assert before[0] == "storage_error" and "illegal_login" not in before
    runtime.add_service(ApiServer(runtime, "127.0.0.1", 0))
    declared = {t["name"]: t for t in runtime.device_info()["event_types"]}
    assert set(declared) == {*before, "illegal_login"}
    assert declared["illegal_login"]["exception"] is True
