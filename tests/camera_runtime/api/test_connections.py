"""Connection limits (issue #11, items 2 and 5; test plan D2, D3): slow and huge request heads
are answered and closed, idle connections closed, strangers capped per address, and every
low-level error is the API's JSON with its headers, echoing and logging nothing of the request.

Small and deterministic: a few raw sockets on 127.0.0.1 against short configured limits. The
load figures (500 slowloris sockets, 200 x 960 KB of headers) are in bench/slow_headers.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator

import pytest

from camera_runtime.api import ApiServer
from camera_runtime.api.connections import Limits

from .conftest import ServerFactory
from .helpers import PASSWORD, SECURITY_HEADERS, client, receive_until

# The idle timeout a little longer than the header deadline: aiohttp 3.12 and later also start
# it when a connection opens, and the header deadline must answer (408) first.
LIMITS = Limits(header_timeout=0.5, idle_timeout=0.8, max_unauthenticated=3, linger=0.2)
BASIC = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()


@pytest.fixture
async def guarded(make_server: ServerFactory) -> ApiServer:
    server = await make_server(limits=LIMITS)
    await server.security.activate(PASSWORD)
    return server


class Raw:
    """One raw TCP connection to the server, from ``local`` (a loopback address)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, within: float = 5.0) -> tuple[int, dict[str, str], bytes]:
        """The next response: status, headers (lower-case names), body."""
        async with asyncio.timeout(within):
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)
            }
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return int(lines[0].split()[1]), headers, body

    async def closed(self, within: float = 5.0) -> bool:
        """Whether the server closes the connection (EOF or reset) within ``within`` s."""
        try:
            async with asyncio.timeout(within):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        return True


@contextlib.asynccontextmanager
async def raw(server: ApiServer, local: str = "127.0.0.1") -> AsyncIterator[Raw]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(local, 0))
    try:
        yield Raw(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def assert_api_error(status: int, headers: dict[str, str], body: bytes, want: int) -> None:
    assert status == want
    assert headers["content-type"].startswith("application/json")
    assert set(json.loads(body)) == {"error", "message"}
    assert headers["server"] == "camera-runtime"
    assert "aiohttp" not in json.dumps(headers) and b"aiohttp" not in body
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value, name


# ---------------------------------------------------------------- slow heads and idle sockets


async def test_a_slow_request_head_is_answered_408_and_closed(guarded: ApiServer) -> None:
    async with raw(guarded) as slow:
        started = time.monotonic()
        await slow.send(b"GET /api/health HTTP/1.1\r\n")
        answer = asyncio.create_task(slow.response())
        with contextlib.suppress(ConnectionError):
            while not answer.done():  # one byte every 0.1 s: a slowloris at 100x speed
                await slow.send(b"X")
                await asyncio.wait({answer}, timeout=0.1)
        status, headers, body = await answer
        assert_api_error(status, headers, body, 408)
        assert json.loads(body)["error"] == "request_timeout"
        assert await slow.closed()
        assert time.monotonic() - started < 3


async def test_a_silent_connection_is_closed_after_the_header_timeout(
    guarded: ApiServer,
) -> None:
    async with raw(guarded) as silent:
        assert await silent.closed(within=3)


async def test_an_idle_keep_alive_connection_is_closed(guarded: ApiServer) -> None:
    async with raw(guarded) as idle:
        await idle.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, _ = await idle.response()
        assert status == 200
        # A second request on the same connection works, then idleness closes it.
        await idle.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await idle.response())[0] == 200
        assert await idle.closed(within=3)


async def test_a_long_request_with_a_body_is_not_cut_by_the_header_timeout(
    guarded: ApiServer,
) -> None:
    """The deadline covers the head only: a body and the handler may take longer."""
    body = json.dumps({"username": "admin", "password": PASSWORD}).encode()
    async with raw(guarded) as slow_body:
        await slow_body.send(
            b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        for i in range(0, len(body), len(body) // 3 + 1):  # 0.9 s, past the 0.5 s deadline
            await asyncio.sleep(0.3)
            await slow_body.send(body[i : i + len(body) // 3 + 1])
        status, _, _ = await slow_body.response()
        assert status == 200  # the request got through whole


# ---------------------------------------------------------------- huge heads


async def test_too_many_header_bytes_are_answered_431(guarded: ApiServer) -> None:
    """16 KiB in all (many short headers, each within the per-line limit) is the most."""
    fields = "".join(f"X-Filler-{i}: {'a' * 1000}\r\n" for i in range(40))
    async with raw(guarded) as huge:
        with contextlib.suppress(ConnectionError):
            await huge.send(f"GET /api/health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode())
        status, headers, body = await huge.response()
        assert_api_error(status, headers, body, 431)
        assert await huge.closed()
    # Just under the limit is fine.
    fields = "".join(f"X-Filler-{i}: {'a' * 1000}\r\n" for i in range(14))
    async with raw(guarded) as big:
        await big.send(f"GET /api/health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode())
        assert (await big.response())[0] == 200


async def test_a_huge_head_sent_slowly_is_cut_at_the_limit(guarded: ApiServer) -> None:
    async with raw(guarded) as huge:
        await huge.send(b"GET /api/health HTTP/1.1\r\n")
        with contextlib.suppress(ConnectionError):
            for i in range(100):  # 100 KB, in 1 KB headers: refused after ~16
                await huge.send(f"X-{i}: {'b' * 1000}\r\n".encode())
        status, headers, body = await huge.response()
        assert_api_error(status, headers, body, 431)


async def test_an_over_long_header_line_is_431_json_and_not_logged(
    guarded: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Basic " + "S3cretCredential" * 600  # ~9.6 KB: over the 8190-byte line limit
    async with raw(guarded) as long_line:
        await long_line.send(f"GET / HTTP/1.1\r\nAuthorization: {secret}\r\n\r\n".encode())
        status, headers, body = await long_line.response()
    assert_api_error(status, headers, body, 431)
    assert b"S3cret" not in body
    logged = "\n".join(logging.Formatter("%(message)s").format(record) for record in caplog.records)
    assert "S3cret" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_over_long_request_line_is_414(guarded: ApiServer) -> None:
    async with raw(guarded) as long_line:
        await long_line.send(f"GET /{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = await long_line.response()
    assert_api_error(status, headers, body, 414)


@pytest.mark.parametrize(
    ("request_bytes", "want"),
    [
        (
            b"GET / HTTP/1.1\r\nAuthorization: "
            + BASIC.encode()
            + b"\r\nX\x01Bad: <script>\r\n\r\n",
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nX-Bad: a\x1b[2Kb <img src=x>\r\nAuthorization: "
            + BASIC.encode()
            + b"\r\n\r\n",
            400,
        ),
        (b"BREW /<script>alert(1)</script> HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
        # Chunked request bodies are refused whole (see the test of pipelined requests).
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 411),
    ],
)
async def test_malformed_requests_get_json_errors_without_echo_or_credentials_in_logs(
    guarded: ApiServer, caplog: pytest.LogCaptureFixture, request_bytes: bytes, want: int
) -> None:
    caplog.set_level(logging.DEBUG)
    async with raw(guarded) as bad:
        await bad.send(request_bytes)
        status, headers, body = await bad.response()
    assert_api_error(status, headers, body, want)
    assert b"<" not in body and b"script" not in body and b"TLS" not in body
    logged = "\n".join(logging.Formatter("%(message)s").format(record) for record in caplog.records)
    for leaked in (BASIC.split()[1], "script", "TLS hello", "img src", "Bad:"):
        assert leaked not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------- pipelined requests

HEALTH = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"


async def test_pipelined_requests_are_answered_in_order(guarded: ApiServer) -> None:
    """Requests sent back to back in one write, a body among them, each get their answer."""
    body = json.dumps({"username": "admin", "password": PASSWORD}).encode()
    login = (
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    async with raw(guarded) as conn:
        await conn.send(HEALTH + login + HEALTH)
        answers = [await conn.response() for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert "set-cookie" in answers[1][1] and "set-cookie" not in answers[2][1]


async def test_a_pipelined_head_is_held_to_the_size_limit(guarded: ApiServer) -> None:
    """A huge head sent right behind a small request, in the same write, is counted like any
    other: the connection is closed and the huge request never answered."""
    fields = "".join(f"X-Filler-{i}: {'a' * 1000}\r\n" for i in range(40))
    huge = f"GET /api/health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode()
    received = b""
    async with raw(guarded) as conn:
        with contextlib.suppress(ConnectionError):
            await conn.send(HEALTH + huge)
            async with asyncio.timeout(5):
                while chunk := await conn.reader.read(65536):
                    received += chunk
    assert received.count(b"HTTP/1.1 200") <= 1, "the huge head must not be served"


async def test_a_pipelined_partial_head_gets_the_header_deadline(guarded: ApiServer) -> None:
    async with raw(guarded) as conn:
        await conn.send(HEALTH + b"GET /api/health HTTP/1.1\r\n")
        assert (await conn.response())[0] == 200
        status, headers, body = await conn.response()
        assert_api_error(status, headers, body, 408)
        assert await conn.closed()


async def test_a_chunked_request_body_is_answered_411(guarded: ApiServer) -> None:
    """Where a chunked body ends, and the next head starts, would be aiohttp's to find and
    no longer counted: a body must give its length."""
    async with raw(guarded) as conn:
        await conn.send(
            b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        status, headers, body = await conn.response()
        assert_api_error(status, headers, body, 411)
        assert json.loads(body)["error"] == "length_required"
        assert await conn.closed()


# ---------------------------------------------------------------- strangers per address


async def test_unauthenticated_connections_are_capped_per_address(guarded: ApiServer) -> None:
    async with contextlib.AsyncExitStack() as stack:
        strangers = [await stack.enter_async_context(raw(guarded)) for _ in range(3)]
        async with raw(guarded) as one_too_many:
            status, headers, body = await one_too_many.response()
            assert_api_error(status, headers, body, 503)
            assert json.loads(body)["error"] == "too_many_connections"
            assert headers["retry-after"] == "5"
            assert await one_too_many.closed()
        # Another address is not affected.
        async with raw(guarded, local="127.0.0.2") as other:
            await other.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await other.response())[0] == 200
        # A connection that signs in stops counting: a new one from the address gets in.
        await strangers[0].send(
            f"GET /api/device HTTP/1.1\r\nHost: x\r\nAuthorization: {BASIC}\r\n\r\n".encode()
        )
        assert (await strangers[0].response())[0] == 200
        async with raw(guarded) as admitted:
            await admitted.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await admitted.response())[0] == 200
    await asyncio.sleep(0.1)  # the server sees the closes
    # Closed connections give their places back.
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(3):
            conn = await stack.enter_async_context(raw(guarded))
            await conn.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await conn.response())[0] == 200


async def test_a_successful_login_counts_as_authenticated(guarded: ApiServer) -> None:
    body = json.dumps({"username": "admin", "password": PASSWORD}).encode()
    async with contextlib.AsyncExitStack() as stack:
        conns = [await stack.enter_async_context(raw(guarded)) for _ in range(3)]
        await conns[0].send(
            b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert (await conns[0].response())[0] == 200
        async with raw(guarded) as admitted:
            await admitted.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (await admitted.response())[0] == 200


async def test_websockets_and_streams_outlive_the_head_and_idle_timeouts(
    guarded: ApiServer,
) -> None:
    """The deadlines cover request heads and idle keep-alive only: a WebSocket that talks and
    a live stream that only listens stay open well past them."""
    async with client(guarded, auth="basic") as session:
        async with session.ws_connect("/api/events/ws") as ws:
            for _ in range(4):
                await asyncio.sleep(0.4)
                await ws.send_json({"type": "ping"})
                assert (await receive_until(ws, lambda m: m["type"] == "pong"))["type"] == "pong"
        async with session.get("/api/channels/cam1/live.mjpeg") as stream:
            assert stream.status == 200
            started = time.monotonic()
            while time.monotonic() - started < 1.5:
                assert await stream.content.readany()
