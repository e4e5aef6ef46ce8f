"""The HTTP half of the remote client: one authenticated request to a runtime's API, with its
errors turned into the client's exception tree.

Kept apart from the WebSocket loop (``remote.py``) so that the flow of a host (Home Assistant's
config flow: check the device, mint a token) can use it without starting any push connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from ..exceptions import AuthError, NotActivatedError
from . import digest
from .errors import CannotConnectError, InvalidAuthError, RequestError

DEFAULT_PORT = 8080
DEFAULT_USERNAME = "admin"
REQUEST_TIMEOUT = 10.0


class HttpApi:
    """Requests to one runtime, authenticated with an API token (``Bearer``) or, for the
    host's set-up only, a user name and password (HTTP digest).

    The ``aiohttp.ClientSession`` belongs to the host (Home Assistant injects its own) and is
    never closed here.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        token: str | None = None,
        username: str = DEFAULT_USERNAME,
        password: str | None = None,
        use_ssl: bool = False,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        if token is None and password is None:
            raise ValueError("a token or a password is needed")
        self.session = session
        self.host = host
        self.port = port
        self.token = token
        self.username = username
        self._password = password
        self.base_url = URL.build(scheme="https" if use_ssl else "http", host=host, port=port)
        self.timeout = aiohttp.ClientTimeout(total=request_timeout)

    def url(self, path: str) -> URL:
        return self.base_url.with_path(path)

    def auth_headers(self) -> dict[str, str]:
        """The header that authenticates a token client (digest needs a challenge first)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one request; the JSON answer (``None`` for 204), or the bytes with ``raw``.

        Raises ``CannotConnectError`` (unreachable, or not a runtime's API),
        ``InvalidAuthError`` (401), ``NotActivatedError``, ``AuthError`` (locked out) or
        ``RequestError`` (any other error answer, with the API's error code).
        """
        url = self.url(path).with_query(params) if params else self.url(path)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            async with asyncio.timeout(self.timeout.total):
                status, answer, challenges = await self._send(method, url, data, headers)
                if status == 401 and self.token is None and self._password is not None:
                    challenge = digest.choose_challenge(challenges)
                    if challenge is not None:
                        headers["Authorization"] = digest.authorization(
                            challenge, method, url.raw_path_qs, self.username, self._password
                        )
                        status, answer, challenges = await self._send(method, url, data, headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise CannotConnectError(
                f"cannot reach the runtime at {self.base_url}: {err or type(err).__name__}"
            ) from err
        if status >= 400:
            raise error_for(status, answer)
        if raw:
            return answer
        if status == 204 or not answer:
            return None
        try:
            return json.loads(answer)
        except ValueError:
            raise CannotConnectError(
                f"{self.base_url} did not answer {path} with JSON: is it a camera_runtime?"
            ) from None

    async def _send(
        self, method: str, url: URL, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, list[str]]:
        async with self.session.request(
            method,
            url,
            data=data,
            headers={**self.auth_headers(), **headers},
            timeout=self.timeout,
            allow_redirects=False,
        ) as response:
            return (
                response.status,
                await response.read(),
                response.headers.getall("WWW-Authenticate", []),
            )


def error_for(status: int, answer: bytes) -> Exception:
    """The exception for an error answer ``{"error": code, "message": text}``."""
    code, message = "", ""
    try:
        parsed = json.loads(answer)
        if isinstance(parsed, dict):
            code, message = str(parsed.get("error", "")), str(parsed.get("message", ""))
            problems = parsed.get("errors")
            if isinstance(problems, list) and problems:  # invalid_config: each with its key
                message = f"{message}: {'; '.join(str(p) for p in problems)}"
    except ValueError:
        pass
    message = message or f"the runtime answered HTTP {status}"
    if status == 401:
        return InvalidAuthError(message)
    if code == "not_activated":
        return NotActivatedError(
            "the runtime is not activated yet: open its web page and set the admin password"
        )
    if code == "login_locked":
        return AuthError(message, "login_locked")
    if status == 403 and code == "forbidden":
        return InvalidAuthError(message, "forbidden")
    return RequestError(message, code, status)


__all__ = ["DEFAULT_PORT", "DEFAULT_USERNAME", "HttpApi", "error_for"]
