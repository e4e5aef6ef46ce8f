"""AWS Signature Version 4 for the ``s3`` storage backend: the ``Authorization`` header of one
HTTP request, computed from the access key pair (AWS's "Signature Version 4 signing process").

Small and fully specified, so signed here on the standard library rather than with boto3 (a
large dependency for four requests). Every S3-compatible store (AWS, MinIO, Backblaze B2,
Wasabi, Garage) checks this same signature. The tests compare it with AWS's published examples.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
#: The payload hash of an empty body (a GET, HEAD or DELETE).
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key pair and where it signs: ``region`` and ``service`` (``s3``)."""

    access_key_id: str
    secret_access_key: str
    region: str
    service: str = "s3"


def amz_date(now: datetime) -> str:
    """The ``x-amz-date`` form of a time: ``20150830T123600Z`` (UTC)."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def uri_encode(text: str, *, keep_slash: bool) -> str:
    """SigV4's URI encoding: every byte but ``A-Z a-z 0-9 - . _ ~`` as ``%XX`` (and ``/`` kept
    in paths)."""
    return quote(text, safe="/~" if keep_slash else "~")


def canonical_query(query: Mapping[str, str]) -> str:
    """Parameters sorted by name, each name and value encoded, joined by ``&``."""
    pairs = sorted(
        (uri_encode(k, keep_slash=False), uri_encode(v, keep_slash=False)) for k, v in query.items()
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
) -> tuple[str, str]:
    """The canonical request and its signed-headers list. ``path`` is already encoded as it
    goes on the wire (S3 signs it as sent, without encoding it twice); every header given is
    signed."""
    lowered = sorted(
        (name.lower().strip(), " ".join(value.split())) for name, value in headers.items()
    )
    signed = ";".join(name for name, _ in lowered)
    lines = "".join(f"{name}:{value}\n" for name, value in lowered)
    request = "\n".join(
        [method.upper(), path or "/", canonical_query(query), lines, signed, payload_sha256]
    )
    return request, signed


def signing_key(credentials: Credentials, date: str) -> bytes:
    """The key for one day, region and service: an HMAC chain from the secret."""

    def step(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    key = step(f"AWS4{credentials.secret_access_key}".encode(), date)
    for part in (credentials.region, credentials.service, "aws4_request"):
        key = step(key, part)
    return key


def authorization(
    credentials: Credentials,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
) -> str:
    """The ``Authorization`` header value. ``headers`` must hold ``host`` and ``x-amz-date``
    (the time signed) and whatever else is to be signed (``x-amz-content-sha256`` for S3)."""
    when = next(v for k, v in headers.items() if k.lower() == "x-amz-date")
    date = when[:8]
    scope = f"{date}/{credentials.region}/{credentials.service}/aws4_request"
    request, signed = canonical_request(method, path, query, headers, payload_sha256)
    digest = hashlib.sha256(request.encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{when}\n{scope}\n{digest}"
    signature = hmac.new(
        signing_key(credentials, date), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )


__all__ = [
    "EMPTY_SHA256",
    "Credentials",
    "amz_date",
    "authorization",
    "canonical_request",
    "uri_encode",
]
