"""Password primitives: the manual's strength rule, scrypt records, digest secrets, user levels.

Pure functions without state, shared by the credential store (``store.py``) and any protocol
that checks passwords (HTTP today, RTSP and ONVIF later).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from ..exceptions import CameraRuntimeError

ADMIN = "admin"
#: Part of every stored digest secret (HA1): changing it would lock every digest client out.
REALM = "camera_runtime"
MIN_PASSWORD, MAX_PASSWORD = 8, 128
PASSWORD_RULE = (
    f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long and contain at least "
    "three of: upper case letters, lower case letters, digits, special characters"
)
#: scrypt cost: about 50 ms and 16 MiB per hash on the reference machine.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_MAXMEM = 64 << 20
#: Digest algorithms a stored HA1 exists for (RFC 7616 names).
DIGEST_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data),
}


class Level(StrEnum):
    """User levels of manual 9.16.1, lowest first."""

    USER = "user"
    OPERATOR = "operator"
    ADMINISTRATOR = "administrator"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class WeakPasswordError(CameraRuntimeError):
    """A new password breaks the strength rule; the message states the rule."""

    translation_key_default = "weak_password"


def password_problem(password: str, username: str = ADMIN) -> str | None:
    """What is wrong with ``password`` under the manual's rule (chapter 2: at least 8
    characters, at least three of four classes), or ``None`` when it is fine."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return PASSWORD_RULE
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "the password must not contain control characters"
    classes = (
        any(c.isupper() for c in password),
        any(c.islower() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    if sum(classes) < 3:
        return PASSWORD_RULE
    if username and username.lower() in password.lower():
        return "the password must not contain the user name"
    return None


def _encode(password: str) -> bytes:
    # Lone surrogates (from JSON "\udc80") must hash, not raise.
    return password.encode("utf-8", errors="surrogatepass")


def hash_password(password: str) -> dict[str, Any]:
    """A salted scrypt record, carrying its parameters so they can change later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_encode(password), salt=salt, dklen=32, maxmem=_MAXMEM, **SCRYPT)
    return {
        "scheme": "scrypt",
        **SCRYPT,
        "salt": base64.b64encode(salt).decode(),
        "hash": base64.b64encode(digest).decode(),
    }


def dummy_record() -> dict[str, Any]:
    """A record no password matches, with the real parameters (same cost to check)."""
    return {
        "scheme": "scrypt",
        **SCRYPT,
        "salt": base64.b64encode(secrets.token_bytes(16)).decode(),
        "hash": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def check_password(record: Mapping[str, Any], password: str) -> bool:
    """Constant-time check of ``password`` against a ``hash_password`` record (slow, ~50 ms)."""
    try:
        salt = base64.b64decode(record["salt"], validate=True)
        expected = base64.b64decode(record["hash"], validate=True)
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
    except (KeyError, TypeError, ValueError):
        return False
    actual = hashlib.scrypt(_encode(password), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=_MAXMEM)
    return hmac.compare_digest(actual, expected)


def digest_ha1(algorithm: str, username: str, password: str, realm: str = REALM) -> str:
    """RFC 7616 ``H(username:realm:password)``: what digest auth needs instead of the password."""
    return str(DIGEST_HASHES[algorithm](_encode(f"{username}:{realm}:{password}")).hexdigest())


__all__ = [
    "ADMIN",
    "DIGEST_HASHES",
    "PASSWORD_RULE",
    "REALM",
    "Level",
    "WeakPasswordError",
    "check_password",
    "digest_ha1",
    "dummy_record",
    "hash_password",
    "password_problem",
]
