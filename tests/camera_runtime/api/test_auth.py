"""Authentication over real HTTP: activation (A8), every route closed without credentials (A1),
digest per RFC 7616 (A10) incl. curl interop, basic rules and URL credentials (A3)."""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from camera_runtime.api import ApiServer
from camera_runtime.api.auth import HTTP_AUTH, Policy, route_policy
from camera_runtime.security.credentials import PASSWORD_RULE

from .conftest import ServerFactory
from .helpers import (
    PASSWORD,
    challenges,
    client,
    digest_authorization,
    digest_get,
)

SAMPLE_VALUES = {
    "channel_id": "cam1",
    "kind": "motion",
    "key": "arming",
    "event_id": "x",
    "token_id": "x",
    "capture_id": "x",
    "segment_id": "1",
    "target_id": "nas_ftp",
    "device_id": "yard",
    "rule_id": "r1",
    "resource": "door1",
    "action": "open_door",
    "username": "admin",
    "path": "app.js",
    "role": "main",
    "number": "1",
}


def _state_file(path: Path) -> tuple[int, str]:
    return path.stat().st_mode & 0o777, path.read_text()


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_VALUES[m.group(1)], path)


def all_routes(server: ApiServer) -> list[tuple[str, str, Policy | None]]:
    assert server.app is not None
    return [
        (route.method, route.resource.canonical, route_policy(server.app, route))
        for route in server.app.router.routes()
        if route.resource is not None
    ]


# ---------------------------------------------------------------- activation (A8)


async def test_fresh_device_has_no_password_and_only_activation_is_reachable(
    server: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async with anon.get("/api/health") as r:
        assert (await r.json())["activated"] is False
    for method, path, policy in all_routes(server):
        if policy is Policy.PUBLIC:
            continue
        async with anon.request(method, concrete(path)) as r:
            assert r.status == 403, (method, path)
            assert (await r.json())["error"] == "not_activated"
        # No default password: not even the classic pairs work.
        for password in ("", "admin", "12345", "password"):
            creds = base64.b64encode(f"admin:{password}".encode()).decode()
            headers = {"Authorization": f"Basic {creds}"}
            async with anon.request(method, concrete(path), headers=headers) as r:
                assert r.status == 403, (method, path, password)
    async with anon.post("/api/login", json={"username": "admin", "password": "admin"}) as r:
        assert r.status == 403


async def test_weak_passwords_are_refused_with_the_rule(
    server: ApiServer, anon: aiohttp.ClientSession
) -> None:
    for weak in ("Short1!", "alllowercase1", "ALLUPPER123", "abcDEFghiJKL", "admin-Pass123"):
        async with anon.post("/api/activate", json={"password": weak}) as r:
            assert r.status == 400, weak
            body = await r.json()
            assert body["error"] == "weak_password"
            assert "at least" in body["message"] or "user name" in body["message"]
    async with anon.post("/api/activate", json={"password": "abc"}) as r:
        assert (await r.json())["message"] == PASSWORD_RULE
    for guessable in ("Passw0rd", "P@ssw0rd1", "Qwerty123!", "Summer2024!"):  # issue #11, 6
        async with anon.post("/api/activate", json={"password": guessable}) as r:
            assert r.status == 400, guessable
            body = await r.json()
            assert body["error"] == "weak_password"
            assert "too easy to guess" in body["message"]
    assert not server.security.activated


async def test_activation_happens_once_and_persists_without_plaintext(
    server: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async with anon.post("/api/activate", json={"password": PASSWORD}) as r:
        assert r.status == 200
        assert await r.json() == {"activated": True, "username": "admin"}
    async with anon.post("/api/activate", json={"password": "Diff3rent-Pass!"}) as r:
        assert r.status == 409
    async with anon.get("/api/health") as r:
        assert (await r.json())["activated"] is True
    mode, text = _state_file(Path(server.runtime.data_dir, "security.json"))
    assert mode == 0o600
    assert PASSWORD not in text
    # The old password still works, the second one never took.
    async with client(server, auth="basic") as session, session.get("/api/device") as r:
        assert r.status == 200


async def test_concurrent_activations_only_one_wins(
    server: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async def activate(password: str) -> int:
        async with anon.post("/api/activate", json={"password": password}) as r:
            return r.status

    statuses = await asyncio.gather(*(activate(f"Unique-Secr3t-{i}!") for i in range(5)))
    assert sorted(statuses) == [200, 409, 409, 409, 409]


async def test_activation_input_errors_are_json_4xx(anon: aiohttp.ClientSession) -> None:
    headers = {"Content-Type": "application/json"}
    async with anon.post("/api/activate", data=b"{not json", headers=headers) as r:
        assert r.status == 400
        assert (await r.json())["error"] == "bad_json"
    async with anon.post("/api/activate", json={"password": 12345678}) as r:
        assert r.status == 400
    async with anon.post("/api/activate", json=["x"]) as r:
        assert r.status == 400
    async with anon.post("/api/activate", data="password=Str0ng-Passw0rd!") as r:
        assert r.status == 415


# ---------------------------------------------------------------- every route closed (A1)


async def test_every_route_declares_a_policy(activated: ApiServer) -> None:
    routes = all_routes(activated)
    undeclared = [(m, p) for m, p, policy in routes if policy is None]
    assert not undeclared, f"routes without an auth policy: {undeclared}"
    public = {(m, p) for m, p, policy in routes if policy is Policy.PUBLIC}
    assert public == {
        ("GET", "/api/health"),
        ("POST", "/api/activate"),
        ("POST", "/api/login"),
        ("GET", "/"),
        ("GET", "/static/{path}"),
    }


async def test_every_non_public_route_is_401_without_credentials(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    checked = 0
    for method, path, policy in all_routes(activated):
        if policy is Policy.PUBLIC:
            continue
        async with anon.request(method, concrete(path)) as r:
            assert r.status == 401, (method, path, r.status)
            assert r.content_type == "application/json"
            assert challenges(r), "a 401 carries digest challenges"
        checked += 1
    assert checked >= 19


async def test_credentials_in_the_url_are_ignored(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    basic = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    for query in (
        f"auth={basic}",
        "auth=YWRtaW46MTEK",
        f"user=admin&pwd={PASSWORD}",
        f"username=admin&password={PASSWORD}",
        f"token={basic}",
    ):
        async with anon.get(f"/api/device?{query}") as r:
            assert r.status == 401, query


async def test_unknown_authorization_scheme_and_garbage(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    for value in (
        "Negotiate abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"x").decode(),
        "Digest",
        "Digest ,,,",
        'Digest username="admin"',
        "Bearer",
        "Bearer nope",
    ):
        async with anon.get("/api/device", headers={"Authorization": value}) as r:
            assert r.status == 401, value
            assert r.content_type == "application/json"


# ---------------------------------------------------------------- digest (A10)


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5", "SHA-512-256"])
async def test_digest_happy_path(
    activated: ApiServer, anon: aiohttp.ClientSession, algorithm: str
) -> None:
    async with await digest_get(anon, "/api/device?x=1", algorithm=algorithm) as r:
        assert r.status == 200
        assert (await r.json())["device_id"] == activated.runtime.device_id


async def test_digest_challenges_follow_the_configured_algorithms(
    make_server: ServerFactory,
) -> None:
    for setting, offered in (
        ("MD5", ["MD5"]),
        ("SHA256", ["SHA-256", "SHA-512-256"]),
        ("MD5/SHA256", ["SHA-256", "SHA-512-256", "MD5"]),
    ):
        server = await make_server(web_digest_algorithm=setting)
        await server.security.activate(PASSWORD)
        async with client(server) as session, session.get("/api/device") as r:
            assert list(challenges(r)) == offered
            for params in challenges(r).values():
                assert params["qop"] == "auth"
                assert params["realm"] == "camera_runtime"
        if setting == "SHA256":
            # An algorithm not offered is refused even with the right password.
            async with client(server) as session:
                async with session.get("/api/device") as first:
                    challenge = challenges(first)["SHA-256"]
                auth = digest_authorization(challenge, "GET", "/api/device", algorithm="MD5")
                async with session.get("/api/device", headers={"Authorization": auth}) as r:
                    assert r.status == 401


async def test_digest_wrong_password_and_unknown_user(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async with await digest_get(anon, "/api/device", password="Wr0ng-Password!") as r:
        assert r.status == 401
        assert challenges(r)
    async with anon.get("/api/device") as first:
        challenge = challenges(first)["SHA-256"]
    auth = digest_authorization(challenge, "GET", "/api/device", username="root")
    async with anon.get("/api/device", headers={"Authorization": auth}) as r:
        assert r.status == 401


async def test_digest_replayed_nc_is_refused(
    anon: aiohttp.ClientSession, activated: ApiServer
) -> None:
    async with anon.get("/api/device") as first:
        challenge = challenges(first)["SHA-256"]
    auth0 = digest_authorization(challenge, "GET", "/api/device", nc=0, cnonce="c0")
    async with anon.get("/api/device", headers={"Authorization": auth0}) as r:
        assert r.status == 401  # nc 00000000: counting starts at 00000001
        assert "00000001" in (await r.json())["message"]
    auth1 = digest_authorization(challenge, "GET", "/api/device", nc=1, cnonce="c1")
    async with anon.get("/api/device", headers={"Authorization": auth1}) as r:
        assert r.status == 200
    async with anon.get("/api/device", headers={"Authorization": auth1}) as r:
        assert r.status == 401  # the same nc again: a replay
    auth2 = digest_authorization(challenge, "GET", "/api/device", nc=2, cnonce="c2")
    async with anon.get("/api/device", headers={"Authorization": auth2}) as r:
        assert r.status == 200  # the next nc on the same nonce is fine


async def test_digest_expired_nonce_is_stale(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async with anon.get("/api/device") as first:
        challenge = challenges(first)["SHA-256"]
    assert activated.app is not None
    activated.app[HTTP_AUTH].digest.lifetime = -1.0  # every nonce is now past its lifetime
    auth = digest_authorization(challenge, "GET", "/api/device")
    async with anon.get("/api/device", headers={"Authorization": auth}) as r:
        assert r.status == 401
        fresh = challenges(r)["SHA-256"]
        assert fresh["stale"] == "true"
        assert fresh["nonce"] != challenge["nonce"]
    # A wrong password with an old nonce is not "stale": the client must ask the user.
    auth = digest_authorization(challenge, "GET", "/api/device", password="Wr0ng-Passw0rd")
    async with anon.get("/api/device", headers={"Authorization": auth}) as r:
        assert "stale" not in challenges(r)["SHA-256"]


async def test_digest_uri_must_be_the_request_target(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async with anon.get("/api/device") as first:
        challenge = challenges(first)["SHA-256"]
    auth = digest_authorization(challenge, "GET", "/api/health")  # signed for another path
    async with anon.get("/api/device", headers={"Authorization": auth}) as r:
        assert r.status == 401
    auth = digest_authorization(challenge, "GET", "/api/device?a=1", nc=2)
    async with anon.get("/api/device?a=2", headers={"Authorization": auth}) as r:
        assert r.status == 401
    auth = digest_authorization(challenge, "POST", "/api/device", nc=3)  # another method
    async with anon.get("/api/device", headers={"Authorization": auth}) as r:
        assert r.status == 401


async def test_digest_wrong_realm_is_refused(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    async with anon.get("/api/device") as first:
        challenge = challenges(first)["SHA-256"]
    auth = digest_authorization(challenge, "GET", "/api/device", realm="other")
    async with anon.get("/api/device", headers={"Authorization": auth}) as r:
        assert r.status == 401


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("setting", "expected"), [("MD5/SHA256", "SHA-256"), ("MD5", "MD5")])
async def test_curl_digest_interop(make_server: ServerFactory, setting: str, expected: str) -> None:
    server = await make_server(web_authentication="digest", web_digest_algorithm=setting)
    await server.security.activate(PASSWORD)
    proc = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "--digest",
        "-u",
        f"admin:{PASSWORD}",
        "-v",
        "-w",
        "\n%{http_code}",
        f"{server.url}/api/device?curl=1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    body, _, status = out.decode().rpartition("\n")
    assert status == "200", err.decode()
    assert '"device_id"' in body
    assert f"algorithm={expected}" in err.decode()
    # And the wrong password fails for curl too.
    proc = await asyncio.create_subprocess_exec(
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--digest",
        "-u",
        "admin:Wr0ng-Passw0rd",
        f"{server.url}/api/device",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert out.decode() == "401"


# ---------------------------------------------------------------- basic (A3)


async def test_basic_on_loopback_is_allowed_by_default(activated: ApiServer) -> None:
    async with client(activated, auth="basic") as session, session.get("/api/device") as r:
        assert r.status == 200


async def test_basic_is_refused_when_config_says_digest(make_server: ServerFactory) -> None:
    server = await make_server(web_authentication="digest")
    await server.security.activate(PASSWORD)
    async with client(server, auth="basic") as session, session.get("/api/device") as r:
        assert r.status == 401
        assert not any(v.startswith("Basic") for v in r.headers.getall("WWW-Authenticate"))
    url = server.url.replace("http://", f"http://admin:{PASSWORD}@")
    async with aiohttp.ClientSession() as raw, raw.get(f"{url}/api/device") as r:
        assert r.status == 401  # userinfo in the URL is just basic again: refused


async def test_basic_with_an_empty_password_is_refused(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    for creds in (b"admin:", b"admin", b":", b""):
        value = "Basic " + base64.b64encode(creds).decode()
        async with anon.get("/api/device", headers={"Authorization": value}) as r:
            assert r.status == 401, creds


async def test_basic_needs_loopback_or_https(activated: ApiServer) -> None:
    """The peer address decides, never a header: checked on mocked transports."""
    assert activated.app is not None
    auth = activated.app[HTTP_AUTH]

    def request(peer: str, headers: dict[str, str] | None = None) -> aiohttp.web.Request:
        transport = _Transport(peer)
        return make_mocked_request("GET", "/api/device", headers=headers, transport=transport)

    assert auth.basic_allowed(request("127.0.0.1"))
    assert auth.basic_allowed(request("::1"))
    assert auth.basic_allowed(request("::ffff:127.0.0.1"))
    assert not auth.basic_allowed(request("192.0.2.7"))
    assert not auth.basic_allowed(request("192.0.2.7", {"X-Forwarded-For": "127.0.0.1"}))
    assert not auth.basic_allowed(request("192.0.2.7", {"X-Forwarded-Proto": "https"}))


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": (self.peer, 40000), "sslcontext": None}.get(name, default)

    def is_closing(self) -> bool:
        return False


async def test_browser_fetches_get_no_challenge(
    activated: ApiServer, anon: aiohttp.ClientSession
) -> None:
    """A script's fetch gets a bare 401 (so the UI shows its form, not the browser dialog)."""
    async with anon.get("/api/device", headers={"Sec-Fetch-Mode": "cors"}) as r:
        assert r.status == 401
        assert "WWW-Authenticate" not in r.headers
    async with anon.get("/api/device", headers={"Sec-Fetch-Mode": "navigate"}) as r:
        assert r.headers.getall("WWW-Authenticate")
