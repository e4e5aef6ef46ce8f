"""The ``s3`` storage backend (issue #14's "S3-compatible object storage", the manual's cloud
storage): pictures uploaded as objects to a bucket of AWS S3 or any store that speaks its API
(MinIO, Backblaze B2, Wasabi, Garage, Ceph).

Requests are plain HTTP on aiohttp, signed with AWS Signature Version 4 (``sigv4``): ``store``
is a PUT of the object (S3 writes an object whole or not at all, so no temporary name is
needed; ``Content-MD5`` and the signed ``x-amz-content-sha256`` let the store refuse a body
damaged on the way), ``delete`` a HEAD then DELETE (S3 answers a DELETE of a missing key with
success, the contract wants ``NotFoundError``), ``check`` a HEAD of the bucket. One session per
call, as the FTP backend has one connection per upload: uploads are rare, and nothing is left
open between them. The bucket is addressed in the path (``path``: MinIO, Garage, any address)
or in the host name (``virtual``: AWS's own preference). Messages name the endpoint and bucket
and the store's own error code, never the keys.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
import voluptuous as vol
from yarl import URL

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError, NotFoundError
from camera_runtime.interfaces import StorageBackend

from .sigv4 import EMPTY_SHA256, Credentials, amz_date, authorization, uri_encode

#: Seconds to connect; the whole upload is bounded by the target's ``timeout``.
CONNECT_TIMEOUT = 20.0
#: The most characters of a store's error text put into a message.
MAX_REASON = 200

# S3's bucket naming rules: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Prefix parts are what picture names are made of; no part may be "." or "..".
_PREFIX = re.compile(r"^(?:[A-Za-z0-9._-]+/?)*$")


def _endpoint(value: Any) -> str:
    """An ``http``/``https`` URL of the store's service, without path, query or credentials."""
    text = str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise vol.Invalid("an http:// or https:// URL, such as https://s3.eu-west-1.amazonaws.com")
    if parts.username or parts.password:
        raise vol.Invalid("no credentials in the URL: give access_key_id and secret_access_key")
    if parts.path or parts.query or parts.fragment:
        raise vol.Invalid("the service's address only: no path (the bucket is its own key)")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as err:
        raise vol.Invalid(f"a URL with a valid port ({err})") from None
    return text


def _prefix(value: Any) -> str:
    text = str(value).strip("/")
    if len(text) > 512 or not _PREFIX.match(text) or {".", ".."} & set(text.split("/")):
        raise vol.Invalid("folders of A-Z a-z 0-9 . _ - separated by /, up to 512 characters")
    return text


CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("endpoint"): _endpoint,
        vol.Optional("region", default="us-east-1"): vol.All(
            str, vol.Match(_REGION, msg="a region name such as eu-west-1")
        ),
        vol.Required("bucket"): vol.All(
            str, vol.Match(_BUCKET, msg="3-63 of a-z 0-9 . - (S3's bucket naming rules)")
        ),
        vol.Required("access_key_id"): vol.All(str, vol.Length(min=1, max=128)),
        vol.Required("secret_access_key"): vol.All(str, vol.Length(min=1, max=128)),
        # Folders in the bucket below which the directory structure starts.
        vol.Optional("prefix", default=""): _prefix,
        vol.Optional("addressing", default="path"): vol.In(("path", "virtual")),
    }
)


def _virtual_host_fits(options: Mapping[str, Any]) -> Mapping[str, Any]:
    if (
        options["addressing"] == "virtual"
        and "." in options["bucket"]
        and options["endpoint"].startswith("https:")
    ):
        # bucket.with.dots.s3.example.com matches no wildcard certificate of the store.
        raise vol.Invalid(
            "a bucket name with dots cannot be addressed in the host name over https "
            "(no certificate matches it): use addressing: path",
            path=["addressing"],
        )
    return options


class S3Backend(StorageBackend):
    """Uploads to one bucket of an S3-compatible object store.

    ``resolver`` is the host's name resolver (aiohttp's by default), injected so that a test
    can give ``bucket.localhost`` an address.
    """

    kind: ClassVar[str] = "s3"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(vol.All(CONFIG_SCHEMA, _virtual_host_fits))

    def __init__(
        self, options: Mapping[str, Any], *, resolver: aiohttp.abc.AbstractResolver | None = None
    ) -> None:
        super().__init__(options)
        self._resolver = resolver
        self._credentials = Credentials(
            options["access_key_id"], options["secret_access_key"], options["region"]
        )

    def _where(self) -> str:
        return f"S3 bucket {self.options['bucket']} at {self.options['endpoint']}"

    def _url(self, key: str) -> URL:
        """The bucket's (``key`` empty) or an object's URL, its path encoded once for both
        the wire and the signature."""
        endpoint = URL(self.options["endpoint"])
        path = uri_encode(key, keep_slash=True)
        if self.options["addressing"] == "virtual":
            host = f"{self.options['bucket']}.{endpoint.host}"
            return endpoint.with_host(host).with_path(f"/{path}", encoded=True)
        bucket = self.options["bucket"]
        return endpoint.with_path(f"/{bucket}/{path}" if key else f"/{bucket}", encoded=True)

    def _key(self, name: str) -> str:
        return "/".join(p for p in [self.options["prefix"], name] if p)

    async def _request(
        self,
        method: str,
        key: str,
        body: bytes | Path = b"",
        headers: Mapping[str, str] | None = None,
        payload_sha256: str = "",
    ) -> tuple[int, bytes]:
        """Send one signed request; the status and body, or the failure to reach the store
        in words. A ``Path`` body is sent as the file is read (``payload_sha256`` its hash)."""
        url = self._url(key)
        if not payload_sha256:
            assert isinstance(body, bytes)
            payload_sha256 = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        signed = {
            "host": url.raw_authority,
            "x-amz-date": amz_date(datetime.now(UTC)),
            "x-amz-content-sha256": payload_sha256,
            **(headers or {}),
        }
        signed["authorization"] = authorization(
            self._credentials, method, url.raw_path, {}, signed, payload_sha256
        )
        timeout = aiohttp.ClientTimeout(sock_connect=CONNECT_TIMEOUT)
        connector = aiohttp.TCPConnector(resolver=self._resolver) if self._resolver else None
        try:
            if isinstance(body, Path):
                source = await asyncio.to_thread(body.open, "rb")
            try:
                async with (
                    aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
                    session.request(
                        method,
                        url,
                        data=source if isinstance(body, Path) else (body or None),
                        headers=signed,
                        allow_redirects=False,
                    ) as response,
                ):
                    return response.status, await response.read()
            finally:
                if isinstance(body, Path):
                    source.close()
        except aiohttp.ClientSSLError as err:
            raise CameraRuntimeError(f"{self._where()}: TLS failed ({_reason(err)})") from None
        except aiohttp.ClientConnectorError as err:
            raise CameraRuntimeError(
                f"{self._where()} cannot be reached: {err.os_error.strerror or _reason(err)}"
            ) from None
        except (aiohttp.ClientError, OSError) as err:
            raise CameraRuntimeError(f"{self._where()} failed: {_reason(err)}") from None

    def _refused(self, status: int, body: bytes, what: str) -> CameraRuntimeError:
        """The store's answer to a failed request, in words: its error code and message
        (never the request it echoes back, which names the access key)."""
        code, message = _s3_error(body)
        if not code:
            code = {
                301: "PermanentRedirect",
                400: "BadRequest",
                403: "AccessDenied",
                404: "NoSuchBucket",
            }.get(status, f"HTTP {status}")
        hint = {
            "AccessDenied": "check the key's permissions",
            "InvalidAccessKeyId": "check access_key_id",
            "SignatureDoesNotMatch": "check secret_access_key and region",
            "NoSuchBucket": "create the bucket, or check bucket",
            "PermanentRedirect": "the bucket is in another region, or needs addressing: virtual",
            "AuthorizationHeaderMalformed": "check region",
        }.get(code, "")
        detail = "; ".join(p for p in [message, hint] if p)
        return CameraRuntimeError(
            f"{self._where()} refused {what}: {code}" + (f" ({detail})" if detail else "")
        )

    async def store(self, name: str, data: bytes, content_type: str) -> str:
        key = self._key(name)
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        status, body = await self._request(
            "PUT", key, data, {"content-md5": md5, "content-type": content_type}
        )
        if status != 200:
            raise self._refused(status, body, f"the upload of {key}")
        return key

    async def store_file(self, name: str, path: Path, content_type: str) -> str:
        """The file sent as it is read: its hashes are taken first, in blocks."""
        key = self._key(name)
        sha256, md5, size = await asyncio.to_thread(_file_hashes, path)
        headers = {
            "content-md5": md5,
            "content-type": content_type,
            "content-length": str(size),
        }
        status, body = await self._request("PUT", key, path, headers, sha256)
        if status != 200:
            raise self._refused(status, body, f"the upload of {key}")
        return key

    async def delete(self, item_id: str) -> None:
        if not item_id or ".." in item_id.split("/"):
            raise NotFoundError(f"{self._where()} has no {item_id!r}")
        status, body = await self._request("HEAD", item_id)
        if status == 404:
            raise NotFoundError(f"{self._where()} has no {item_id}")
        if status != 200:
            raise self._refused(status, body, f"looking up {item_id}")
        status, body = await self._request("DELETE", item_id)
        if status not in (200, 204):
            raise self._refused(status, body, f"the removal of {item_id}")

    async def check(self) -> None:
        status, body = await self._request("HEAD", "")
        if status != 200:
            raise self._refused(status, body, "access to the bucket")


def _file_hashes(path: Path) -> tuple[str, str, int]:
    """SHA-256 (hex), MD5 (base64) and size of a file, read in blocks."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            sha256.update(block)
            md5.update(block)
            size += len(block)
    return sha256.hexdigest(), base64.b64encode(md5.digest()).decode(), size


def _s3_error(body: bytes) -> tuple[str, str]:
    """``Code`` and ``Message`` of an S3 error document; empty when the body is none."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "", ""
    code = (root.findtext("Code") or "").strip()
    message = (root.findtext("Message") or "").strip()
    return code[:64], message[:MAX_REASON]


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return text[:MAX_REASON] if text else type(err).__name__


@hookimpl
def register_storage_backends(register: Callable[[type[StorageBackend]], None]) -> None:
    """Make ``s3`` available as an upload target's ``type``."""
    register(S3Backend)
