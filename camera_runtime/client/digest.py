"""Client side of HTTP digest authentication (RFC 7616, ``qop=auth``) for password logins.

aiohttp 3.11 (the version Home Assistant ships) has no digest client, and a runtime accepts
basic authentication only from loopback or over HTTPS, so a host on another machine that logs
in with a password needs this. Programs then switch to an API token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

#: Strongest first; the runtime offers what ``api.web_digest_algorithm`` allows.
PREFERENCE = ("SHA-256", "SHA-512-256", "MD5")
DIGEST_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data),
}
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|{_TOKEN})\s*(?:,|$)', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def parse_params(value: str) -> dict[str, str] | None:
    """``k=v, k2="quoted"`` -> dict (keys lower case); ``None`` when malformed. (The server's
    parser lives in ``camera_runtime.api``, which a client must not need to import.)"""
    params: dict[str, str] = {}
    pos = 0
    while pos < len(value):
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            return None
        raw = match.group(2)
        params[match.group(1).lower()] = (
            _UNESCAPE.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
        )
        pos = match.end()
    return params


def _hex(algorithm: str, text: str) -> str:
    return str(DIGEST_HASHES[algorithm](text.encode("utf-8")).hexdigest())


def choose_challenge(headers: Iterable[str]) -> dict[str, str] | None:
    """The parameters of the strongest digest challenge we support, or ``None``."""
    offered: dict[str, dict[str, str]] = {}
    for header in headers:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            continue
        params = parse_params(rest)
        if params is None or "nonce" not in params or "realm" not in params:
            continue
        if "auth" not in params.get("qop", "auth").split(","):
            continue
        offered.setdefault(params.get("algorithm", "MD5").upper(), params)
    for algorithm in PREFERENCE:
        if algorithm in offered:
            return {**offered[algorithm], "algorithm": algorithm}
    return None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def authorization(
    challenge: dict[str, str], method: str, uri: str, username: str, password: str, nc: int = 1
) -> str:
    """The ``Authorization`` header answering ``challenge`` for ``method uri``."""
    algorithm, realm, nonce = challenge["algorithm"], challenge["realm"], challenge["nonce"]
    cnonce = secrets.token_hex(16)
    ncv = f"{nc:08x}"
    ha1 = _hex(algorithm, f"{username}:{realm}:{password}")
    ha2 = _hex(algorithm, f"{method}:{uri}")
    response = _hex(algorithm, f"{ha1}:{nonce}:{ncv}:{cnonce}:auth:{ha2}")
    parts = [
        f'username="{_quote(username)}"',
        f'realm="{_quote(realm)}"',
        f'nonce="{_quote(nonce)}"',
        f'uri="{_quote(uri)}"',
        f"algorithm={algorithm}",
        "qop=auth",
        f"nc={ncv}",
        f'cnonce="{cnonce}"',
        f'response="{response}"',
    ]
    if "opaque" in challenge:
        parts.append(f'opaque="{_quote(challenge["opaque"])}"')
    return "Digest " + ", ".join(parts)


__all__ = ["PREFERENCE", "authorization", "choose_challenge"]
