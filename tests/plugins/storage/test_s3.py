"""The ``s3`` storage backend against a real S3-compatible server on 127.0.0.1 (moto's server
mode, which checks every request's SigV4 signature)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import voluptuous as vol
from aiohttp import web

from camera_runtime.exceptions import CameraRuntimeError, NotFoundError
from camera_runtime_plugins.storage.s3 import S3Backend
from tests.ports import free_port
from tests.s3_server import BUCKET, S3Server, moto_port, s3_server

__all__ = ["moto_port", "s3_server"]  # the fixtures, used by name

JPEG = b"\xff\xd8jpeg\xff\xd9"


def backend(server: S3Server, **options: Any) -> S3Backend:
    own = {k: v for k, v in server.target(**options).items() if k not in ("id", "type")}
    return S3Backend(S3Backend.CONFIG_SCHEMA(own))


class _Loopback(aiohttp.abc.AbstractResolver):
    """Resolves every ``*.localhost`` name to 127.0.0.1, as a DNS wildcard does for
    ``bucket.s3.example.com``; the system resolver here knows no such names."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        assert host.endswith(".localhost"), host
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


async def test_a_picture_lands_whole_under_its_key(s3_server: S3Server) -> None:
    store = backend(s3_server, prefix="cams/")
    await store.check()
    stored = await store.store("Home/01/pic one.jpg", JPEG, "image/jpeg")
    assert stored == "cams/Home/01/pic one.jpg"  # a space travels encoded, signed once
    assert s3_server.objects() == {stored: JPEG}
    await store.store("Home/01/pic one.jpg", b"again", "image/jpeg")  # the same name again
    assert s3_server.objects() == {stored: b"again"}
    await store.delete(stored)
    assert s3_server.objects() == {}
    with pytest.raises(NotFoundError, match=r"has no cams/Home/01/pic one\.jpg"):
        await store.delete(stored)


async def test_virtual_host_addressing_puts_the_bucket_in_the_host_name(
    s3_server: S3Server,
) -> None:
    options = backend(s3_server).options
    store = S3Backend(
        S3Backend.CONFIG_SCHEMA(
            {**options, "endpoint": f"http://localhost:{s3_server.port}", "addressing": "virtual"}
        ),
        resolver=_Loopback(),
    )
    assert str(store._url("a/b.jpg")) == f"http://{BUCKET}.localhost:{s3_server.port}/a/b.jpg"
    await store.check()
    stored = await store.store("a/b.jpg", JPEG, "image/jpeg")
    assert s3_server.objects() == {"a/b.jpg": JPEG}
    await store.delete(stored)
    assert s3_server.objects() == {}


async def test_a_wrong_secret_is_refused_without_the_secret(s3_server: S3Server) -> None:
    secret = "Wr0ng-s3cret/key+value"
    store = backend(s3_server, secret_access_key=secret)
    with pytest.raises(CameraRuntimeError, match="SignatureDoesNotMatch") as caught:
        await store.store("a.jpg", JPEG, "image/jpeg")
    assert "check secret_access_key" in caught.value.message
    for hidden in (secret, s3_server.access_key_id):
        assert hidden not in caught.value.message
    assert s3_server.objects() == {}


async def test_an_unknown_access_key_is_refused(s3_server: S3Server) -> None:
    store = backend(s3_server, access_key_id="AKIAUNKNOWNKEY000000")
    with pytest.raises(CameraRuntimeError, match="refused access to the bucket") as caught:
        await store.check()
    assert "AKIAUNKNOWNKEY000000" not in caught.value.message
    assert s3_server.secret_access_key not in caught.value.message


async def test_a_missing_bucket_says_so(s3_server: S3Server) -> None:
    store = backend(s3_server, bucket="no-such-bucket")
    with pytest.raises(CameraRuntimeError, match="NoSuchBucket"):
        await store.check()
    with pytest.raises(CameraRuntimeError, match=r"refused the upload of a\.jpg: NoSuchBucket"):
        await store.store("a.jpg", JPEG, "image/jpeg")


async def test_a_server_that_is_not_there_cannot_be_reached(s3_server: S3Server) -> None:
    store = backend(s3_server, endpoint=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(CameraRuntimeError, match="cannot be reached"):
        await store.check()


#: What ``misbehaving`` was sent: method, raw path, headers, body.
received: list[tuple[str, str, dict[str, str], bytes]] = []


@contextlib.asynccontextmanager
async def misbehaving(
    answer: web.Response, tls: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Something on 127.0.0.1 that is no S3 store: every request gets ``answer`` (and is kept
    in ``received``); yields the endpoint URL."""
    received.clear()

    async def handle(request: web.Request) -> web.StreamResponse:
        received.append(
            (request.method, request.raw_path, dict(request.headers), await request.read())
        )
        return answer

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_the_body_travels_with_its_md5_and_signed_sha256(s3_server: S3Server) -> None:
    """moto checks signatures but not the body's digests: what is sent is checked here,
    against digests computed from the body that arrived."""
    async with misbehaving(web.Response(status=200)) as endpoint:
        picture = bytes(range(256)) * 40
        await backend(s3_server, endpoint=endpoint, prefix="cams").store(
            "a b.jpg", picture, "image/jpeg"
        )
    ((method, path, headers, body),) = received
    assert (method, path, body) == ("PUT", "/pictures/cams/a%20b.jpg", picture)
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert headers["Content-Type"] == "image/jpeg"
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert signed == ["content-md5", "content-type", "host", "x-amz-content-sha256", "x-amz-date"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (web.Response(status=500, text="<html>oops</html>"), r"refused the upload of a\.jpg: HTTP 500"),
        (web.Response(status=502, body=b"<Error><Code>SlowDown</Code><Message>Reduce your rate"), r"HTTP 502"),
        (web.Response(status=301, headers={"Location": "http://elsewhere/"}), r"PermanentRedirect \(the bucket is in another region"),
        (web.Response(status=403, body=b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"), r"AccessDenied \(Access Denied; check the key's permissions\)"),
    ],
)  # fmt: skip
async def test_a_store_that_misbehaves_is_refused_in_words(
    s3_server: S3Server, answer: web.Response, message: str
) -> None:
    async with misbehaving(answer) as endpoint:
        store = backend(s3_server, endpoint=endpoint)
        with pytest.raises(CameraRuntimeError, match=message) as caught:
            await store.store("a.jpg", JPEG, "image/jpeg")
    assert s3_server.secret_access_key not in caught.value.message


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate for 127.0.0.1 that no CA signed."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    return tls


async def test_a_store_whose_certificate_is_not_trusted_is_refused(
    s3_server: S3Server, self_signed: ssl.SSLContext
) -> None:
    async with misbehaving(web.Response(status=200), self_signed) as endpoint:
        with pytest.raises(CameraRuntimeError, match="TLS failed"):
            await backend(s3_server, endpoint=endpoint).check()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "ftp://s3.example.com"}, "http:// or https://"),
        ({"endpoint": "https://key:secret@s3.example.com"}, "no credentials in the URL"),
        ({"endpoint": "https://s3.example.com/pictures"}, "no path"),
        ({"bucket": "Pictures"}, "bucket naming"),
        ({"bucket": "a"}, "bucket naming"),
        ({"prefix": "cams/../etc"}, "folders of"),
        ({"addressing": "sideways"}, "addressing"),
        (
            {"bucket": "my.pictures", "addressing": "virtual", "endpoint": "https://s3.example"},
            "use addressing: path",
        ),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    base = {
        "endpoint": "https://s3.example.com",
        "bucket": "pictures",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "secret",
    }
    with pytest.raises(vol.Invalid, match=message) as caught:
        S3Backend.CONFIG_SCHEMA({**base, **options})
    assert "secret" not in str(caught.value).replace("secret_access_key", "")


def test_the_defaults() -> None:
    options = S3Backend.CONFIG_SCHEMA(
        {
            "endpoint": "https://s3.eu-west-1.amazonaws.com/",
            "bucket": "pictures",
            "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "secret",
        }
    )
    assert options["region"] == "us-east-1"
    assert options["prefix"] == "" and options["addressing"] == "path"
    assert options["endpoint"] == "https://s3.eu-west-1.amazonaws.com"


async def test_a_file_is_sent_as_it_is_read(s3_server: S3Server, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    store = backend(s3_server, prefix="cams")
    stored = await store.store_file("Home/01/clip.mp4", clip, "video/mp4")
    assert stored == "cams/Home/01/clip.mp4"
    assert s3_server.objects() == {stored: clip.read_bytes()}  # its MD5 and SHA-256 checked
