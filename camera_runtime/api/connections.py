"""Connection limits of the API server: what a client gets before it has authenticated.

aiohttp reads request headers without a deadline and without a total size limit (only per
line), and answers malformed requests with a plain-text page that echoes the input and names
its version. A client without credentials could hold hundreds of sockets open one byte at a
time, or park a megabyte of headers on each (issue #11, items 2 and 5). Here:

- the request line and headers must arrive within ``header_timeout`` (408, then closed);
- they may total ``max_header_size`` bytes, one header ``max_field_size`` and the request line
  ``max_line_size`` (431 and 414, then closed): nothing more is buffered. That holds for a
  request sent right behind another on the same connection too: the bytes are handed to
  aiohttp one head or one body at a time, so every head is counted and timed. A request body
  must say its length (``Content-Length``): one sent chunked is answered 411, for its end, and
  so the next head's start, would be aiohttp's to find;
- a keep-alive connection idle for ``idle_timeout`` is closed;
- an address has at most ``max_unauthenticated`` connections open that have not carried an
  authenticated request (or a successful login); more are answered 503 and closed at once;
- every such answer, and every answer to a malformed request, is the API's JSON error with the
  security headers, no server version, nothing of the request echoed, and nothing of the
  request in the log but its status and address.

``GuardedRequestHandler`` is aiohttp's ``RequestHandler`` with these checks; ``GuardedSite``
serves it (``ApiServer`` uses both).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server
from yarl import URL

from ..logsafe import escape
from .errors import SECURITY_HEADERS, SERVER_NAME, json_error

_LOGGER = logging.getLogger(__name__)
_END_OF_HEAD = b"\r\n\r\n"
#: Headers of every answer given here, like the app's own (``errors.add_security_headers``).
_ERROR_HEADERS = {"Server": SERVER_NAME, "Cache-Control": "no-store", **SECURITY_HEADERS}
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)
#: aiohttp's WebSocket flag: ``_upgrade`` up to 3.11, ``_upgraded`` from 3.12.
_UPGRADED = "_upgraded" if hasattr(RequestHandler, "_upgraded") else "_upgrade"


@dataclass(frozen=True)
class Limits:
    """What a connection may do before it is answered and closed (seconds and bytes)."""

    header_timeout: float = 10.0
    idle_timeout: float = 30.0
    max_header_size: int = 16 * 1024
    max_line_size: int = 8190
    max_field_size: int = 8190
    max_headers: int = 100
    max_unauthenticated: int = 64
    #: After an error answer, read and drop what the client still sends for this long (so it
    #: sees the answer instead of a reset), then close.
    linger: float = 1.0

    def handler_kwargs(self) -> dict[str, Any]:
        """The matching options of aiohttp's ``RequestHandler``."""
        return {
            "keepalive_timeout": self.idle_timeout,
            "max_line_size": self.max_line_size,
            "max_field_size": self.max_field_size,
            "max_headers": self.max_headers,
            "lingering_time": self.linger,
        }


def _address(transport: asyncio.BaseTransport) -> str:
    """The peer's IP address, v4-mapped IPv6 as IPv4 (one client, one count)."""
    peer = transport.get_extra_info("peername")
    host = str(peer[0]) if isinstance(peer, tuple) and peer else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@dataclass
class ConnectionGuard:
    """One server's count of unauthenticated connections per client address."""

    limits: Limits = field(default_factory=Limits)
    unauthenticated: dict[str, int] = field(default_factory=dict)

    def admit(self, address: str) -> bool:
        count = self.unauthenticated.get(address, 0)
        if count >= self.limits.max_unauthenticated:
            return False
        self.unauthenticated[address] = count + 1
        return True

    def release(self, address: str) -> None:
        count = self.unauthenticated.get(address, 0) - 1
        if count > 0:
            self.unauthenticated[address] = count
        else:
            self.unauthenticated.pop(address, None)


def canned_error(
    status: int, code: str, message: str, extra: dict[str, str] | None = None
) -> bytes:
    """A complete HTTP/1.1 error answer (JSON, security headers, ``Connection: close``) for the
    cases where no request exists yet to answer through aiohttp."""
    body = json.dumps({"error": code, "message": message}).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
        "Connection": "close",
        **_ERROR_HEADERS,
        **(extra or {}),
    }
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + body


class GuardedRequestHandler(RequestHandler):
    """aiohttp's request handler with a header deadline, a total header size, a cap on
    unauthenticated connections per address, and JSON answers to malformed requests."""

    def __init__(self, manager: Server, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._limits = guard.limits
        self._peer = ""
        self._counted = False  # among the address's unauthenticated connections
        self._refused = False  # answered by the guard: what the client sends is dropped
        self._in_head = True  # waiting for (the rest of) a request line and headers
        self._head = bytearray()  # the head so far (at most ``max_header_size`` bytes)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._parsed = 0
        self._body_left = 0  # bytes of the newest request's body still to come

    # ------------------------------------------------------------ connection life

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._peer = _address(transport)
        if not self._guard.admit(self._peer):
            _LOGGER.info(
                "refused a connection from %s: %d connections of it are not signed in",
                escape(self._peer),
                self._limits.max_unauthenticated,
            )
            self._refuse(
                transport,
                503,
                "too_many_connections",
                "too many connections from this address have not signed in; close some",
                {"Retry-After": "5"},
            )
            return
        self._counted = True
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_deadline()
        if self._counted:
            self._counted = False
            self._guard.release(self._peer)
        super().connection_lost(exc)

    def mark_authenticated(self) -> None:
        """A request on this connection authenticated: it no longer counts against the cap."""
        if self._counted:
            self._counted = False
            self._guard.release(self._peer)

    # ------------------------------------------------------------ reading

    def data_received(self, data: bytes) -> None:
        # One head or one body at a time: bytes that follow a head in the same read (the next
        # request, pipelined) are counted as the next head, never slipped in with this one.
        while data and not self._refused:
            if self._is_upgraded() or self._payload_parser is not None:
                super().data_received(data)  # a WebSocket: frames, not headers
                return
            if self._in_head:
                taken = self._count_head(data)
                if taken is None:
                    return  # refused: answered, and what still comes is dropped
            else:
                taken = min(self._body_left, len(data))
                self._body_left -= taken
            piece, data = data[:taken], data[taken:]
            super().data_received(piece)
            if self._request_count != self._parsed:  # the head was parsed: what body follows
                self._parsed = self._request_count
                self._body_left = self._body_length()
            if not self._in_head and self._body_left == 0:
                self._in_head = True  # the request is read in full: a new head starts

    def _body_length(self) -> int:
        """The newest request's ``Content-Length`` (0 for none, or a malformed request)."""
        message = self._messages[-1][0] if self._messages else None
        headers = getattr(message, "headers", None)  # a malformed head has none
        value = headers.get(hdrs.CONTENT_LENGTH, "") if headers is not None else ""
        return int(value) if value.isdigit() else 0

    def _is_upgraded(self) -> bool:
        """Whether the connection became a WebSocket (aiohttp names the flag ``_upgrade`` up
        to 3.11 and ``_upgraded`` from 3.12: Home Assistant pins the one, a plain install
        gets the other)."""
        return bool(getattr(self, _UPGRADED, False))

    def _count_head(self, data: bytes) -> int | None:
        """How many bytes of ``data`` belong to the current head (up to the blank line that
        ends it); ``None`` when the head is refused (too large, or a chunked body)."""
        if not self._head and self._head_deadline is None:
            self._arm_head_deadline()  # the first byte of the next request on this connection
        carried = min(3, len(self._head))
        window = bytes(self._head[-3:]) + data
        end = window.find(_END_OF_HEAD)
        taken = len(data) if end < 0 else end + 4 - carried
        if len(self._head) + taken > self._limits.max_header_size:
            self._refuse_head(
                431,
                "headers_too_large",
                f"the request headers are too large (limit {self._limits.max_header_size} bytes)",
            )
            return None
        self._head += data[:taken]
        if end < 0:
            return taken
        head, self._head = bytes(self._head), bytearray()
        self._in_head = False
        self._stop_head_deadline()
        if _TRANSFER_ENCODING.search(head):
            self._refuse_head(
                411,
                "length_required",
                "a request body must give its length (Content-Length), not be sent chunked",
            )
            return None
        return taken

    # ------------------------------------------------------------ the header deadline

    def _arm_head_deadline(self) -> None:
        self._stop_head_deadline()
        self._head_deadline = self._loop.call_later(
            self._limits.header_timeout, self._head_timed_out
        )

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if not self._in_head or self._refused or self.transport is None:
            return
        _LOGGER.info(
            "closed a connection from %s: no complete request head within %.0f s",
            escape(self._peer),
            self._limits.header_timeout,
        )
        if not self._head and self._request_count == 0:
            self._refused = True
            self.force_close()  # nothing sent at all: nothing to answer
            return
        self._refuse_head(
            408,
            "request_timeout",
            f"the request line and headers must arrive within {self._limits.header_timeout:g} s",
        )

    # ------------------------------------------------------------ refusals

    def _refuse_head(self, status: int, code: str, message: str) -> None:
        transport = self.transport
        if transport is None:
            return
        if self._request_in_progress or self._messages:
            # A response is on its way, or due, on this connection: no other one, just close.
            self._refused = True
            transport.abort()
            return
        self._refuse(transport, status, code, message)

    def _refuse(
        self,
        transport: asyncio.BaseTransport,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer ``status`` and close: now for the write side, after ``linger`` for reading."""
        self._refused = True
        self._stop_head_deadline()
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(canned_error(status, code, message, headers))
        if transport.can_write_eof():
            transport.write_eof()
        self._loop.call_later(self._limits.linger, transport.close)

    # ------------------------------------------------------------ aiohttp's error answers

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The API's JSON error instead of aiohttp's text page: nothing of the request is echoed
        or logged (an over-long header may be an ``Authorization`` value)."""
        if isinstance(exc, LineTooLong):
            status = 414 if _is_request_line(exc) else 431
        if request.writer.output_size > 0:
            raise ConnectionError("a response is on its way already; closing the connection")
        if isinstance(exc, HttpProcessingError) or status < 500:
            _LOGGER.debug(
                "malformed request from %s: %d %s",
                escape(request.remote),
                status,
                type(exc).__name__ if exc is not None else "",
            )
        else:
            _LOGGER.error(
                "internal error on %s %s",
                escape(request.method, 32),
                escape(request.path),
                exc_info=exc,
            )
        code, text = _ERRORS.get(status) or _ERRORS[500 if status >= 500 else 400]
        response = json_error(status, code, text)
        response.headers.update(_ERROR_HEADERS)
        response.force_close()
        return response


def _is_request_line(exc: LineTooLong) -> bool:
    """Whether the over-long line was the request line (414) rather than a header (431).
    aiohttp up to 3.11 says "Status line is too long"; later versions give the line's first
    bytes: for a request line its method or its URL (a path or an absolute URI)."""
    first = exc.args[0] if exc.args else ""
    text = first.decode("latin-1") if isinstance(first, bytes | bytearray) else str(first)
    return "status line" in text.lower() or _REQUEST_LINE.match(text) is not None


_REQUEST_LINE = re.compile(r"^([A-Z]{3,10} |/|\*|https?://)")


_ERRORS = {
    400: ("bad_request", "the request is malformed"),
    414: ("uri_too_long", "the request line is too long"),
    431: ("headers_too_large", "a request header is too large"),
    500: ("internal_error", "internal error; see the server log"),
    504: ("timeout", "the request took too long"),
}


class GuardedSite(web.BaseSite):
    """aiohttp's ``TCPSite`` for ``GuardedRequestHandler`` connections sharing one guard:
    ``handler_kwargs`` are the handlers' options (the runner's own are never used)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        guard: ConnectionGuard,
        handler_kwargs: dict[str, Any],
        ssl_context: Any = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self.guard = guard
        self._host, self._port = host, port
        self._handler_kwargs = handler_kwargs

    @property
    def port(self) -> int:
        """The bound port (the real one when asked for port 0), once started."""
        sockets = self._server.sockets if isinstance(self._server, asyncio.Server) else ()
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return str(URL.build(scheme=scheme, host=self._host, port=self.port))

    async def start(self) -> None:
        await super().start()  # registers the site with its runner
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def protocol() -> GuardedRequestHandler:
            return GuardedRequestHandler(
                server, loop=loop, guard=self.guard, **self._handler_kwargs
            )

        self._server = await loop.create_server(
            protocol, self._host, self._port, ssl=self._ssl_context, backlog=self._backlog
        )


def mark_authenticated(request: web.BaseRequest) -> None:
    """The request's connection carried valid credentials (see ``Limits.max_unauthenticated``)."""
    protocol = request.protocol
    if isinstance(protocol, GuardedRequestHandler):
        protocol.mark_authenticated()


__all__ = [
    "ConnectionGuard",
    "GuardedRequestHandler",
    "GuardedSite",
    "Limits",
    "canned_error",
    "mark_authenticated",
]
