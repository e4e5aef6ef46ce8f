"""Test helpers for the API: an RFC 7616 digest client computed from first principles, and
waiting on conditions without sleeping as synchronisation."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp

from camera_runtime.api import ApiServer
from camera_runtime.api.errors import CONTENT_SECURITY_POLICY

PASSWORD = "Str0ng-Passw0rd!"
OTHER_PASSWORD = "An0ther-Secret?"

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data),
}
_PARAM = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)')


def h(algorithm: str, text: str) -> str:
    return str(_HASHES[algorithm](text.encode()).hexdigest())


def parse_challenge(value: str) -> dict[str, str]:
    assert value.startswith("Digest "), value
    return {k.lower(): v.strip('"') for k, v in _PARAM.findall(value[len("Digest ") :])}


def challenges(response: aiohttp.ClientResponse) -> dict[str, dict[str, str]]:
    """Digest challenges of a 401, by algorithm."""
    out = {}
    for value in response.headers.getall("WWW-Authenticate", []):
        if value.startswith("Digest "):
            params = parse_challenge(value)
            out[params["algorithm"]] = params
    return out


def digest_authorization(
    challenge: dict[str, str],
    method: str,
    uri: str,
    *,
    username: str = "admin",
    password: str = PASSWORD,
    nc: int = 1,
    cnonce: str | None = None,
    algorithm: str | None = None,
    realm: str | None = None,
) -> str:
    """The ``Authorization`` value RFC 7616 3.4 prescribes (qop=auth)."""
    alg = algorithm or challenge["algorithm"]
    realm = realm or challenge["realm"]
    cnonce = cnonce or secrets.token_hex(8)
    ha1 = h(alg, f"{username}:{realm}:{password}")
    ha2 = h(alg, f"{method}:{uri}")
    ncv = f"{nc:08x}"
    response = h(alg, f"{ha1}:{challenge['nonce']}:{ncv}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{challenge["nonce"]}", '
        f'uri="{uri}", algorithm={alg}, qop=auth, nc={ncv}, cnonce="{cnonce}", '
        f'response="{response}"'
    )


async def digest_get(
    session: aiohttp.ClientSession,
    path: str,
    *,
    algorithm: str = "SHA-256",
    password: str = PASSWORD,
    method: str = "GET",
    **kwargs: Any,
) -> aiohttp.ClientResponse:
    """Challenge, then authenticate one request with ``algorithm``."""
    async with session.request(method, path, **kwargs) as first:
        assert first.status == 401, await first.text()
        challenge = challenges(first)[algorithm]
    auth = digest_authorization(challenge, method, path, password=password)
    headers = {**kwargs.pop("headers", {}), "Authorization": auth}
    return await session.request(method, path, headers=headers, **kwargs)


async def receive_until(ws: aiohttp.ClientWebSocketResponse, want: Any) -> dict[str, Any]:
    """The first JSON message of ``ws`` for which ``want(message)`` holds (10 s at most)."""
    async with asyncio.timeout(10):
        while True:
            message = json.loads(await ws.receive_str())
            if want(message):
                return message  # type: ignore[no-any-return]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def runtime_config(**api: Any) -> dict[str, Any]:
    return {
        "api": api,
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam1",
                "name": "Front door",
                "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 25},
                "detectors": {"motion": {}},
            },
            {
                "id": "garage",
                "enabled": False,
                "source": {
                    "type": "rtsp",
                    "url": "rtsp://viewer:hunter2@192.0.2.10/stream1",
                    "username": "viewer",
                    "password": "hunter2",
                },
            },
        ],
    }


def client(
    server: ApiServer, *, local: str | None = None, auth: str | None = None, **kwargs: Any
) -> aiohttp.ClientSession:
    """A session on the server's URL; ``local`` binds it to another loopback address (a
    second client IP), ``auth="basic"`` sends admin's password preemptively."""
    headers = dict(kwargs.pop("headers", {}))
    if auth == "basic":
        token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    tls = kwargs.pop("connector_ssl", True)
    connector = aiohttp.TCPConnector(
        local_addr=(local, 0) if local else None, force_close=True, ssl=tls
    )
    return aiohttp.ClientSession(
        server.url,
        connector=connector,
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers=headers,
        **kwargs,
    )


SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def assert_security_headers(r: aiohttp.ClientResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert r.headers.get(name) == value, name
