"""Browser sessions (cookie flags, idle timeout, logout, password change: A6), cross-origin
refusal (A7), the illegal login lock per client address (A4) and API tokens, over real HTTP."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from camera_runtime.api import ApiServer
from camera_runtime.exceptions import AuthError
from camera_runtime.security import Security

from .conftest import ServerFactory
from .helpers import (
    OTHER_PASSWORD,
    PASSWORD,
    FakeClock,
    challenges,
    client,
    digest_authorization,
    digest_get,
)

LOGIN = {"username": "admin", "password": PASSWORD}


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()}


def _same_origin(server: ApiServer) -> dict[str, str]:
    return {"Origin": server.url}


async def _login(
    session: aiohttp.ClientSession, password: str = PASSWORD
) -> aiohttp.ClientResponse:
    return await session.post("/api/login", json={"username": "admin", "password": password})


# ---------------------------------------------------------------- sessions


async def test_login_sets_a_strict_httponly_cookie_that_authenticates(activated: ApiServer) -> None:
    async with client(activated) as session:
        async with await _login(session) as r:
            assert r.status == 200
            assert await r.json() == {
                "username": "admin",
                "level": "administrator",
                "auth": "session",
            }
            raw = r.headers.getall("Set-Cookie")
        cookie = SimpleCookie(raw[0])["camera_runtime_session"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert not cookie["secure"]  # plain HTTP here; HTTPS sets Secure
        assert cookie["path"] == "/"
        assert len(cookie.value) >= 32
        async with session.get("/api/session") as r:
            assert (await r.json())["auth"] == "session"
        async with session.get("/api/channels") as r:
            assert r.status == 200


async def test_wrong_login_is_a_401_without_browser_challenge(activated: ApiServer) -> None:
    async with client(activated) as session:
        async with await _login(session, "Wr0ng-Passw0rd") as r:
            assert r.status == 401
            assert "WWW-Authenticate" not in r.headers
            assert "Set-Cookie" not in r.headers
        async with session.post("/api/login", json={"username": "root", "password": PASSWORD}) as r:
            assert r.status == 401


async def test_logout_ends_the_session(activated: ApiServer) -> None:
    async with client(activated) as session:
        (await _login(session)).release()
        stolen = session.cookie_jar.filter_cookies(URL(activated.url))[
            "camera_runtime_session"
        ].value
        async with session.post("/api/logout", headers=_same_origin(activated)) as r:
            assert r.status == 200
        async with client(activated) as other:
            cookies = {"camera_runtime_session": stolen}
            async with other.get("/api/channels", cookies=cookies) as r:
                assert r.status == 401


async def test_session_idle_timeout_uses_the_configured_minutes(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    clock = FakeClock()
    security = Security(tmp_path / "sec.json", session_timeout=15 * 60, clock=clock)
    server = await make_server(security=security)
    await security.activate(PASSWORD)
    async with client(server) as session:
        (await _login(session)).release()
        clock.advance(14 * 60)
        async with session.get("/api/channels") as r:
            assert r.status == 200  # and this refreshed the idle timer
        clock.advance(14 * 60)
        async with session.get("/api/channels") as r:
            assert r.status == 200
        clock.advance(15 * 60 + 1)
        async with session.get("/api/channels") as r:
            assert r.status == 401
            assert (await r.json())["message"].startswith("the session has ended")


async def test_password_change_needs_the_old_one_and_ends_sessions(activated: ApiServer) -> None:
    origin = _same_origin(activated)
    async with client(activated) as browser, client(activated) as other_browser:
        (await _login(browser)).release()
        (await _login(other_browser)).release()
        url = "/api/users/admin/password"
        wrong = {"old_password": "Wr0ng-Passw0rd", "new_password": OTHER_PASSWORD}
        async with browser.put(url, json=wrong, headers=origin) as r:
            assert r.status == 403
            refused = await r.json()
        assert refused["error"] == "wrong_password"
        left = refused["attempts_left"]
        assert refused["message"] == (
            f"the old password is wrong; {left} attempt(s) left before this address is locked "
            "for 30 minute(s)"
        )
        weak = {"old_password": PASSWORD, "new_password": "weakweak"}
        async with browser.put(url, json=weak, headers=origin) as r:
            assert r.status == 400
            assert "at least" in (await r.json())["message"]
        async with browser.put(url, json={"new_password": OTHER_PASSWORD}, headers=origin) as r:
            assert r.status == 400  # old_password is required
        good = {"old_password": PASSWORD, "new_password": OTHER_PASSWORD}
        async with browser.put(url, json=good, headers=origin) as r:
            assert r.status == 200
        for session in (browser, other_browser):
            async with session.get("/api/channels") as r:
                assert r.status == 401
    async with client(activated) as anon:
        async with anon.get("/api/device", headers=_basic(PASSWORD)) as r:
            assert r.status == 401
        async with anon.get("/api/device", headers=_basic(OTHER_PASSWORD)) as r:
            assert r.status == 200
        async with await digest_get(anon, "/api/device", password=OTHER_PASSWORD) as r:
            assert r.status == 200
    async with (
        client(activated) as anon,
        anon.put("/api/users/root/password", json=good, headers=_basic(OTHER_PASSWORD)) as r,
    ):
        assert r.status == 404


def _tls_contexts(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (server context, client context trusting it)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client_ctx = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client_ctx


async def test_https_session_cookie_is_secure(make_server: ServerFactory, tmp_path: Path) -> None:
    server_ctx, client_ctx = _tls_contexts(tmp_path)
    server = await make_server(ssl_context=server_ctx)
    assert server.url.startswith("https://")
    await server.security.activate(PASSWORD)
    async with client(server, connector_ssl=client_ctx) as session:
        async with await _login(session) as r:
            assert r.status == 200
            cookie = SimpleCookie(r.headers["Set-Cookie"])["camera_runtime_session"]
        assert cookie["secure"] is True and cookie["httponly"] is True
        async with session.get("/api/session") as r:
            assert (await r.json())["auth"] == "session"


# ---------------------------------------------------------------- cross-origin (A7)


async def test_cookie_state_change_needs_a_same_origin_header(activated: ApiServer) -> None:
    body = {"armed": False}
    async with client(activated) as session:
        (await _login(session)).release()
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Origin": activated.url.replace("127.0.0.1", "localhost")},
            {"Referer": "http://evil.example/page"},
            {},  # neither header: refused too
        ):
            async with session.put("/api/channels/cam1/arming", json=body, headers=headers) as r:
                assert r.status == 403, headers
                assert (await r.json())["error"] == "cross_origin"
        assert activated.runtime.channels["cam1"].armed is True
        async with session.put(
            "/api/channels/cam1/arming", json=body, headers=_same_origin(activated)
        ) as r:
            assert r.status == 200
        assert activated.runtime.channels["cam1"].armed is False
        referer = {"Referer": f"{activated.url}/index.html"}
        async with session.put(
            "/api/channels/cam1/arming", json={"armed": True}, headers=referer
        ) as r:
            assert r.status == 200
        # Reads need no origin; a cross-site WebSocket riding on the cookie does.
        async with session.get("/api/channels") as r:
            assert r.status == 200
        async with session.get(
            "/api/events/ws",
            headers={
                "Origin": "http://evil.example",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
        ) as r:
            assert r.status == 403


async def test_cross_origin_login_is_refused(activated: ApiServer) -> None:
    async with client(activated) as session:
        headers = {"Origin": "http://evil.example"}
        async with session.post("/api/login", json=LOGIN, headers=headers) as r:
            assert r.status == 403


async def test_header_auth_needs_no_origin(activated: ApiServer) -> None:
    """Digest/basic/token callers are programs: no ambient credential, so no CSRF check."""
    session = client(activated, auth="basic")
    async with session, session.put("/api/channels/cam1/arming", json={"armed": False}) as r:
        assert r.status == 200


# ---------------------------------------------------------------- illegal login lock (A4)


async def test_lock_after_failures_per_address_with_other_address_unaffected(
    activated: ApiServer,
) -> None:
    attempts = activated.runtime.config.security["illegal_login_lock"]["attempts"]
    async with client(activated, local="127.0.0.2") as a, client(activated) as b:
        # N-1 failures, then success: still fine, and the count starts over.
        for _ in range(attempts - 1):
            async with await _login(a, "Wr0ng-Passw0rd") as r:
                assert r.status == 401
        async with await _login(a) as r:
            assert r.status == 200
        # N failures lock A out, whatever the method and however right the password.
        for _ in range(attempts):
            async with a.get("/api/device", headers=_basic("Wr0ng-Passw0rd")) as r:
                assert r.status == 401
        async with await _login(a) as r:
            assert r.status == 403
            body = await r.json()
            assert body["error"] == "login_locked"
            assert 0 < int(r.headers["Retry-After"]) <= 30 * 60
        async with a.get("/api/device", headers=_basic(PASSWORD)) as r:
            assert r.status == 403
        async with client(activated, local="127.0.0.2") as fresh:
            async with fresh.get("/api/device") as first:
                challenge = challenges(first)["SHA-256"]
            auth = digest_authorization(challenge, "GET", "/api/device")
            async with fresh.get("/api/device", headers={"Authorization": auth}) as r:
                assert r.status == 403
        # A session opened before the lock is not a login: it keeps working.
        async with a.get("/api/channels") as r:
            assert r.status == 200
        # Claiming another address in X-Forwarded-For changes nothing (untrusted header).
        headers = {**_basic(PASSWORD), "X-Forwarded-For": "127.0.0.1"}
        async with a.get("/api/device", headers=headers) as r:
            assert r.status == 403
        # B, from 127.0.0.1, is not affected, even when it names A in X-Forwarded-For.
        async with await _login(b) as r:
            assert r.status == 200
        headers = {**_basic(PASSWORD), "X-Forwarded-For": "127.0.0.2"}
        async with b.get("/api/device", headers=headers) as r:
            assert r.status == 200


async def test_lock_lasts_the_configured_duration_on_the_monotonic_clock(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    clock = FakeClock()
    wall = FakeClock(1_700_000_000.0)
    security = Security(
        tmp_path / "sec.json", lock_attempts=3, lock_duration=60.0, clock=clock, wall_clock=wall
    )
    server = await make_server(security=security)
    await security.activate(PASSWORD)
    async with client(server) as session:
        for _ in range(3):
            (await _login(session, "Wr0ng-Passw0rd")).release()
        async with await _login(session) as r:
            assert r.status == 403
        wall.advance(3600)  # the wall clock jumping ahead frees nothing
        clock.advance(59)
        async with await _login(session) as r:
            assert r.status == 403
        clock.advance(2)
        async with await _login(session) as r:
            assert r.status == 200


async def test_lock_survives_a_restart(tmp_path: Path) -> None:
    clock, wall = FakeClock(), FakeClock(1_700_000_000.0)
    path = tmp_path / "security.json"
    first = Security(path, lock_attempts=3, lock_duration=600.0, clock=clock, wall_clock=wall)
    first.load()
    await first.activate(PASSWORD)
    for _ in range(3):
        with pytest.raises(AuthError):
            await first.verify_password("admin", "Wr0ng-Passw0rd", "192.0.2.9")
    wall.advance(100)
    second = Security(
        path, lock_attempts=3, lock_duration=600.0, clock=FakeClock(5.0), wall_clock=wall
    )
    second.load()
    assert 499 <= second.lock.remaining("192.0.2.9") <= 500
    assert second.lock.remaining("192.0.2.10") == 0
    first.close()


# ---------------------------------------------------------------- API tokens


async def test_token_create_use_list_delete(
    activated: ApiServer, admin: aiohttp.ClientSession
) -> None:
    async with admin.post("/api/tokens", json={"name": "home assistant"}) as r:
        assert r.status == 201
        created = await r.json()
    secret = created["token"]
    assert set(created) == {"id", "name", "user", "created", "token"}
    state = await _read(Path(activated.runtime.data_dir, "security.json"))
    assert secret not in state
    async with client(activated, headers={"Authorization": f"Bearer {secret}"}) as program:
        async with program.get("/api/channels") as r:
            assert r.status == 200
        async with admin.get("/api/tokens") as r:
            listed = (await r.json())["tokens"]
        assert [t["name"] for t in listed] == ["home assistant"]
        assert all("token" not in t and "hash" not in t for t in listed)
        async with admin.delete(f"/api/tokens/{created['id']}") as r:
            assert r.status == 204
        async with program.get("/api/channels") as r:
            assert r.status == 401
        async with admin.delete(f"/api/tokens/{created['id']}") as r:
            assert r.status == 404
    async with admin.post("/api/tokens", json={"name": ""}) as r:
        assert r.status == 400
    async with admin.post("/api/tokens", json={"name": 5}) as r:
        assert r.status == 400


async def _read(path: Path) -> str:
    return path.read_text()  # noqa: ASYNC240 - a tiny file in a test
