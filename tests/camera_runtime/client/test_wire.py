"""The client's parsers on real bytes: MJPEG multipart parts and digest challenges."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import StreamReader
from aiohttp.base_protocol import BaseProtocol

from camera_runtime.client import digest
from camera_runtime.client.mjpeg import MjpegError, iter_jpegs


def _reader(data: bytes) -> StreamReader:
    loop = asyncio.get_running_loop()
    reader = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def _part(body: bytes, content_type: str = "image/jpeg") -> bytes:
    head = f"--frame\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body + b"\r\n"


async def _all(data: bytes) -> list[bytes]:
    return [jpeg async for jpeg in iter_jpegs(_reader(data))]


async def test_mjpeg_parts() -> None:
    one, two = b"\xff\xd8one--frame\r\n\xff\xd9", b"\xff\xd8two\xff\xd9"
    data = b"preamble\r\n" + _part(one) + _part(b"text", "text/plain") + _part(two)
    assert await _all(data) == [one, two]
    assert await _all(b"--frame\r\nContent-Type: image/jpeg\r\n") == []  # cut in the headers


async def test_mjpeg_malformed_parts() -> None:
    with pytest.raises(MjpegError, match="Content-Length"):
        await _all(b"--frame\r\nContent-Type: image/jpeg\r\n\r\nxx")
    with pytest.raises(MjpegError, match="out of bounds"):
        await _all(b"--frame\r\nContent-Length: 999999999999\r\n\r\n")
    with pytest.raises(MjpegError, match="header lines"):
        await _all(b"--frame\r\n" + b"X-A: b\r\n" * 40)
    with pytest.raises(asyncio.IncompleteReadError):
        await _all(b"--frame\r\nContent-Length: 10\r\n\r\nshort")


def test_digest_prefers_the_strongest_challenge() -> None:
    headers = [
        'Basic realm="camera_runtime"',
        'Digest realm="camera_runtime", nonce="n1", qop="auth", algorithm=MD5',
        'Digest realm="camera_runtime", nonce="n2", qop="auth", algorithm=SHA-256',
        "Digest garbage",
        'Digest realm="x", nonce="n3", qop="auth-int", algorithm=SHA-512-256',
    ]
    assert digest.choose_challenge(headers) == {
        "realm": "camera_runtime",
        "nonce": "n2",
        "qop": "auth",
        "algorithm": "SHA-256",
    }
    assert digest.choose_challenge(headers[:1]) is None
    value = digest.authorization(
        {"realm": 'a"b', "nonce": "n", "algorithm": "MD5", "opaque": "o"}, "GET", "/p", "u", "p"
    )
    assert value.startswith('Digest username="u", realm="a\\"b"') and 'opaque="o"' in value
