"""Log lines cannot be forged (issue #11, item 3): nothing a request carries reaches a log line
with its control characters, in any logger, and no credential reaches a log at all."""

from __future__ import annotations

import asyncio
import base64
import logging
import re

import aiohttp
import pytest

from camera_runtime.api import ApiServer

from .helpers import PASSWORD, challenges, client, digest_authorization

FORGED = "FAKE camera_runtime.security.audit: admin password set by the host"
#: Any control character, DEL, C1 or Unicode line separator left in a message.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


async def _raw(server: ApiServer, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read(65536)
    finally:
        writer.close()


def _assert_no_forged_line(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    for record in caplog.records:
        message = record.getMessage()
        assert not _CONTROL.search(message), (record.name, message)
        for line in formatter.format(record).splitlines():
            assert not line.startswith("FAKE"), (record.name, line)
        assert PASSWORD not in message


async def test_request_values_never_start_a_log_line(
    activated: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    forged = FORGED.replace(" ", "%20")
    # The path: decoded by the server, so %0a becomes a line feed in request.path.
    for target in (f"/x%0a{forged}", f"/api/device%0d%0a{forged}", f"/static/%0a{forged}"):
        answer = await _raw(
            activated, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        assert answer.startswith(b"HTTP/1.1 40"), answer[:40]
    # A method no route has, with escapes in the path.
    await _raw(activated, f"BREW /%0a{forged} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    # User names with CR/LF: basic and the login form, each a failed login (audited); each
    # from its own address, so the illegal login lock does not end the test early.
    for n, user in enumerate((f"ad\r\n{FORGED}", f"\n{FORGED}\n", f"x\u2028{FORGED}")):
        async with client(activated, local=f"127.0.0.{10 + n}") as session:
            basic = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
            async with session.get("/api/device", headers={"Authorization": f"Basic {basic}"}) as r:
                assert r.status == 401
            async with session.post(
                "/api/login", json={"username": user, "password": "Wr0ng-Passw0rd"}
            ) as r:
                assert r.status == 401
    # A header cannot carry CR/LF; other control characters get through to the digest check.
    for n, user in enumerate((f"x\x85{FORGED}", f"x\u2028{FORGED}", f"x\x9b2K{FORGED}")):
        async with client(activated, local=f"127.0.0.{20 + n}") as session:
            async with session.get("/api/device") as first:
                challenge = challenges(first)["SHA-256"]
            digest = digest_authorization(challenge, "GET", "/api/device", username=user)
            async with session.get("/api/device", headers={"Authorization": digest}) as r:
                assert r.status == 401
    _assert_no_forged_line(caplog)
    access = [r.getMessage() for r in caplog.records if r.name == "camera_runtime.api.access"]
    assert any("/x\\nFAKE" in line for line in access), access


async def test_access_log_has_no_query_string(
    activated: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        aiohttp.ClientSession(activated.url) as session,
        session.get("/api/health?user=admin&pwd=" + PASSWORD) as r,
    ):
        assert r.status == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "camera_runtime.api.access"]
    assert any('"GET /api/health"' in line for line in lines), lines
    assert not any(PASSWORD in line or "pwd" in line for line in lines)
