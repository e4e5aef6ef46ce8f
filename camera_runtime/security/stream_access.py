"""Stream URLs: a signed, read-only grant to watch one stream of one channel, carried in the URL.

For the clients that cannot send an ``Authorization`` header: Home Assistant's ``stream`` and
go2rtc take a URL only, and so do VLC and a browser's ``<video>``. It is not a credential
(test plan A3: no password or API token ever comes from a URL): it opens nothing but
``GET`` of the stream it names, and it is signed with a key derived from its user's password
record, so a password change revokes every URL that user was given. A URL given to an API
token lives as long as that token (deleting the token revokes it); one given to a password or
a session expires (``SESSION_URL_LIFETIME``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from ..exceptions import AuthError

#: How long a stream URL given to a password or session caller stays valid (s).
SESSION_URL_LIFETIME = 24 * 3600.0
_CONTEXT = b"camera_runtime stream url v1\0"


@dataclass(frozen=True, slots=True)
class StreamGrant:
    """What a stream URL allows: ``role`` of ``channel``, as ``user`` (via ``token_id``, if an
    API token asked for it), until ``expires`` (wall-clock seconds; ``None``: the token's life)."""

    channel: str
    role: str
    user: str
    token_id: str | None
    expires: float | None


def derive_key(password_record: dict[str, object]) -> bytes:
    """The signing key of one user's URLs: changes whenever the password does."""
    material = json.dumps(password_record, sort_keys=True).encode()
    return hashlib.sha256(_CONTEXT + material).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(grant: StreamGrant, key: bytes) -> str:
    payload = json.dumps(
        [grant.channel, grant.role, grant.user, grant.token_id, grant.expires],
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def read(value: str) -> StreamGrant:
    """The grant a value claims (unverified: ``verify`` checks its signature)."""
    try:
        payload_text, _, _ = value.partition(".")
        channel, role, user, token_id, expires = json.loads(_unb64(payload_text))
        if not all(isinstance(v, str) for v in (channel, role, user)):
            raise ValueError
        if token_id is not None and not isinstance(token_id, str):
            raise ValueError
        if expires is not None and not isinstance(expires, int | float):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise AuthError("malformed stream access") from None
    return StreamGrant(channel, role, user, token_id, expires)


def verify(value: str, key: bytes, *, channel: str, role: str, now: float) -> StreamGrant:
    """The grant, if ``value`` is signed with ``key``, names this stream and is still valid;
    otherwise ``AuthError``, the same for every reason but expiry."""
    grant = read(value)
    payload_text, _, mac_text = value.partition(".")
    try:
        mac = _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise AuthError("malformed stream access") from None
    expected = hmac.new(key, _unb64(payload_text), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected) or (grant.channel, grant.role) != (channel, role):
        raise AuthError("invalid stream access")
    if grant.expires is not None and now > grant.expires:
        raise AuthError("the stream URL has expired; ask for a new one")
    return grant


__all__ = ["SESSION_URL_LIFETIME", "StreamGrant", "derive_key", "read", "sign", "verify"]
