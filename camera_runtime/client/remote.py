"""``RemoteClient``: a runtime on another machine (or process), through its HTTP API, with push
updates over its event WebSocket and reconnection with backoff. No polling.

On every (re)connection the WebSocket is opened first, then channel statuses and active events
are read, so nothing that happens in between is missed; events that ended while the link was
down are fetched and published as ``end``, events that started meanwhile as ``new``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp

from ..buses import Bus
from ..byte_ranges import CHUNK
from ..exceptions import CameraRuntimeError
from ..model import SEARCH_KINDS
from .base import Download, RuntimeClient, Unsubscribe
from .errors import CannotConnectError, InvalidAuthError, NotActivatedError, RequestError
from .http import DEFAULT_PORT, DEFAULT_USERNAME, REQUEST_TIMEOUT, HttpApi, error_for
from .mjpeg import iter_jpegs
from .ptz import PtzCall
from .ptz import command as ptz_command

_LOGGER = logging.getLogger(__name__)

BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
HEARTBEAT = 30.0
#: The most active events one request returns (the API's own limit).
ACTIVE_LIMIT = 1000
#: The close code of an events socket whose credentials were revoked (a deleted API token, a
#: changed password): like HTTP 401.
CLOSE_REVOKED = 4401
#: The headers of a playback answer a host hands on to its player.
PLAYBACK_HEADERS = frozenset({"Content-Type", "Content-Length", "Accept-Ranges", "Content-Range"})

ErrorCallback = Callable[[CameraRuntimeError], None]


class RemoteClient(RuntimeClient):
    """A runtime reached at ``host:port``. Token auth for everything; password auth (digest)
    only for requests, e.g. to mint a token with ``create_token`` during a host's set-up."""

    serves_streams = True

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
        backoff_start: float = BACKOFF_START,
        backoff_max: float = BACKOFF_MAX,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        super().__init__()
        self.api = HttpApi(
            session,
            host,
            port,
            token=token,
            username=username,
            password=password,
            use_ssl=use_ssl,
            request_timeout=request_timeout,
        )
        self._backoff_start = backoff_start
        self._backoff_max = backoff_max
        self._heartbeat = heartbeat
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._error_listeners = Bus[CameraRuntimeError]("runtime client errors")
        self.last_error: CameraRuntimeError | None = None

    @property
    def base_url(self) -> str:
        return str(self.api.base_url)

    @property
    def web_url(self) -> str:
        """The runtime's web page: the root of its API server."""
        return str(self.api.url("/"))

    def subscribe_errors(self, callback: ErrorCallback) -> Unsubscribe:
        """Each failed reconnection attempt's error (an ``InvalidAuthError`` means the token
        was deleted: the host should ask for new credentials)."""
        return self._error_listeners.subscribe(callback)

    # ------------------------------------------------------------------ requests

    async def health(self) -> dict[str, Any]:
        """``{"status", "activated", "version"}``; public, so it needs no credentials."""
        answer = await self.api.request("GET", "/api/health")
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            raise CannotConnectError(f"{self.base_url} is not a camera_runtime API")
        return answer

    async def device_info(self) -> dict[str, Any]:
        return dict(await self.api.request("GET", "/api/device"))

    async def fetch_channels(self) -> list[dict[str, Any]]:
        return list(await self.api.request("GET", "/api/channels"))

    async def fetch_event(self, event_id: str) -> dict[str, Any]:
        return dict(await self.api.request("GET", f"/api/events/{event_id}"))

    async def fetch_active_events(self) -> list[dict[str, Any]]:
        """The events in progress, newest first, however old they are (``active=true`` asks
        the runtime for them; the filter here only guards against an answer that holds
        ended ones too)."""
        answer = await self.api.request(
            "GET", "/api/events", params={"active": "true", "limit": str(ACTIVE_LIMIT)}
        )
        return [e for e in answer.get("events", []) if e.get("end") is None]

    async def create_token(self, name: str) -> dict[str, Any]:
        """A new API token ``{"id", "name", "user", "created", "token"}`` (needs admin)."""
        return dict(await self.api.request("POST", "/api/tokens", body={"name": name}))

    async def delete_token(self, token_id: str) -> None:
        await self.api.request("DELETE", f"/api/tokens/{token_id}")

    async def set_armed(self, channel_id: str, armed: bool) -> dict[str, Any]:
        status = await self.api.request(
            "PUT", f"/api/channels/{channel_id}/arming", body={"armed": armed}
        )
        return self._apply_status(dict(status))

    async def set_detector(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if enabled is not None:
            body["enabled"] = enabled
        if options is not None:
            body["options"] = dict(options)
        status = await self.api.request(
            "PUT", f"/api/channels/{channel_id}/detectors/{kind}", body=body
        )
        return self._apply_status(dict(status))

    async def set_stage(
        self,
        channel_id: str,
        kind: str,
        *,
        enabled: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if enabled is not None:
            body["enabled"] = enabled
        if options is not None:
            body["options"] = dict(options)
        status = await self.api.request(
            "PUT", f"/api/channels/{channel_id}/image/{kind}", body=body
        )
        return self._apply_status(dict(status))

    async def set_target_cropping(
        self, channel_id: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        status = await self.api.request(
            "PUT", f"/api/channels/{channel_id}/target_cropping", body=dict(changes)
        )
        return self._apply_status(dict(status))

    async def set_control(self, channel_id: str, key: str, value: Any) -> dict[str, Any]:
        status = await self.api.request(
            "PUT", f"/api/channels/{channel_id}/controls/{key}", body={"value": value}
        )
        return self._apply_status(dict(status))

    async def press(self, channel_id: str, key: str) -> dict[str, Any]:
        return dict(await self.api.request("POST", f"/api/channels/{channel_id}/controls/{key}"))

    async def capture(self, channel_id: str) -> dict[str, Any]:
        return dict(await self.api.request("POST", f"/api/channels/{channel_id}/capture"))

    async def recordings(
        self, channel_id: str, start: float | None = None, end: float | None = None
    ) -> dict[str, Any]:
        times = {"start": start, "end": end}
        params = {name: repr(value) for name, value in times.items() if value is not None}
        path = f"/api/channels/{channel_id}/recordings"
        return dict(await self.api.request("GET", path, params=params))

    async def recording(self, segment_id: int) -> bytes:
        return bytes(await self.api.request("GET", f"/api/recordings/{segment_id}.ts", raw=True))

    async def picture(self, capture_id: str) -> bytes:
        return bytes(await self.api.request("GET", f"/api/captures/{capture_id}.jpg", raw=True))

    @contextlib.asynccontextmanager
    async def playback(
        self, channel_id: str, start: float, end: float, byte_range: str | None = None
    ) -> AsyncIterator[Download]:
        params = {"start": repr(start), "end": repr(end)}
        url = self.api.url(f"/api/channels/{channel_id}/playback.mp4").with_query(params)
        headers = self.api.auth_headers()
        if byte_range is not None:
            headers["Range"] = byte_range
        # No total timeout: a long range streams for as long as the player reads it.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
        try:
            response = await self.api.session.get(url, headers=headers, timeout=timeout)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise CannotConnectError(f"cannot reach the runtime at {url.host}: {err}") from err
        try:
            if response.status >= 400:
                raise error_for(response.status, await response.read())
            kept = {k: v for k, v in response.headers.items() if k in PLAYBACK_HEADERS}
            yield Download(response.status, kept, _chunks(response, channel_id))
        finally:
            response.release()

    async def pictures(
        self,
        channel_id: str,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
    ) -> list[dict[str, Any]]:
        given = {"start": start, "end": end}
        params = {name: repr(value) for name, value in given.items() if value is not None}
        if reason is not None:
            params["reason"] = reason
        path = f"/api/channels/{channel_id}/pictures"
        found = await self.api.request("GET", path, params=params)
        return list(found["pictures"])

    async def search(
        self,
        channel_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        kind: str | None = None,
        within: tuple[str, ...] = SEARCH_KINDS,
    ) -> dict[str, list[dict[str, Any]]]:
        given = {"start": start, "end": end}
        params = {name: repr(value) for name, value in given.items() if value is not None}
        for name, text in (("channel", channel_id), ("type", kind)):
            if text is not None:
                params[name] = text
        params["within"] = ",".join(within)
        found = await self.api.request("GET", "/api/search", params=params)
        return dict(found)

    async def recordings_storage(self) -> dict[str, Any]:
        return dict(await self.api.request("GET", "/api/recordings/storage"))

    async def record_clip(
        self, channel_id: str, pre: float = 5.0, length: float = 30.0
    ) -> dict[str, Any]:
        body = {"pre": pre, "length": length}
        path = f"/api/channels/{channel_id}/record/clip"
        return dict(await self.api.request("POST", path, body=body))

    async def ptz(self, channel_id: str, call: PtzCall) -> dict[str, Any]:
        spec = ptz_command(call.command)
        path = f"/api/channels/{channel_id}/ptz/{spec.path.format(n=call.number)}"
        body = dict(call.data) if spec.body else None
        return dict(await self.api.request(spec.method, path, body=body))

    async def record_start(self, channel_id: str) -> dict[str, Any]:
        path = f"/api/channels/{channel_id}/record/start"
        return dict(await self.api.request("POST", path))

    async def record_stop(self, channel_id: str) -> bool:
        path = f"/api/channels/{channel_id}/record/stop"
        answer = await self.api.request("POST", path)
        return bool(answer["stopped"])

    async def snapshot(
        self, channel_id: str, width: int | None = None, height: int | None = None
    ) -> bytes:
        size = {"width": width, "height": height}
        params = {name: str(value) for name, value in size.items() if value is not None}
        data = await self.api.request(
            "GET", f"/api/channels/{channel_id}/snapshot.jpg", params=params, raw=True
        )
        return bytes(data)

    async def stream_url(self, channel_id: str, role: str = "main") -> str | None:
        answer = await self.api.request("POST", f"/api/channels/{channel_id}/streams/{role}/url")
        return str(answer["url"])

    async def mjpeg(self, channel_id: str) -> AsyncGenerator[bytes]:
        url = self.api.url(f"/api/channels/{channel_id}/live.mjpeg")
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30)
        try:
            async with self.api.session.get(
                url, headers=self.api.auth_headers(), timeout=timeout
            ) as response:
                if response.status >= 400:
                    raise error_for(response.status, await response.read())
                async for jpeg in iter_jpegs(response.content):
                    yield jpeg
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
            raise CannotConnectError(f"the live view of {channel_id} broke off: {err}") from err

    # ------------------------------------------------------------------ push connection

    async def start(self) -> None:
        """Connect once (raising what went wrong), then keep the link up in the background."""
        if self.api.token is None:
            raise ValueError("the push connection needs an API token")
        await self._connect()
        self._task = asyncio.create_task(self._run(), name=f"camera-runtime-{self.base_url}")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_ws()
        self._set_connected(False)

    async def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    async def _connect(self) -> None:
        health = await self.health()  # unreachable or not activated: say so before all else
        if health.get("activated") is False:
            raise NotActivatedError(
                "the runtime is not activated yet: open its web page and set the admin password"
            )
        try:
            self._ws = await self.api.session.ws_connect(
                self.api.url("/api/events/ws"),
                headers=self.api.auth_headers(),
                heartbeat=self._heartbeat,
                timeout=aiohttp.ClientWSTimeout(ws_close=10),
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status == 401:
                raise InvalidAuthError("the runtime refused the API token") from err
            await self.device_info()  # raises the refusal with its reason, if it has one
            raise RequestError(
                f"the event socket was refused: {err.message}", "", err.status
            ) from err
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise CannotConnectError(f"cannot open the event socket: {err}") from err
        try:
            await self._sync()
        except BaseException:
            await self._close_ws()
            raise
        self.last_error = None
        self._set_connected(True)

    async def _sync(self) -> None:
        """Bring the mirror up to date (after the socket opened: its updates queue meanwhile).

        An event known active but missing from the active list is read on its own: only if
        the runtime says it ended (or no longer knows it) is its ``end`` published; one still
        without an end stays active, so a long event never ends falsely."""
        before = dict(self._active)
        channels = await self.fetch_channels()
        active = await self.fetch_active_events()
        still_active = {e["id"] for e in active}
        for event_id, event in before.items():
            if event_id in still_active:
                continue
            try:
                ended = await self.fetch_event(event_id)
            except RequestError as err:
                if err.status != 404:
                    raise
                ended = {**event, "end": time.time(), "active": False}  # gone: end it now
            if ended.get("end") is None:
                active.append(ended)
                continue
            self._apply_event({"phase": "end", "event": ended})
        self._resync(channels, active)

    async def _run(self) -> None:
        """Read pushes; when the link drops, reconnect with backoff (1 s doubling to 30 s).

        A socket closed because its credentials were revoked is retried at once: that attempt
        is refused (``InvalidAuthError``) and the host learns it now, not after a backoff."""
        while True:
            revoked = await self._read()
            await self._close_ws()
            self._set_connected(False)
            backoff = self._backoff_start
            delay = 0.0 if revoked else backoff
            while True:
                await asyncio.sleep(delay)
                try:
                    await self._connect()
                    break
                except CameraRuntimeError as err:
                    self.last_error = err
                    _LOGGER.debug("reconnecting to %s failed: %s", self.base_url, err)
                    self._error_listeners.publish(err)
                if delay:  # the immediate retry after a revocation does not count
                    backoff = min(backoff * 2, self._backoff_max)
                delay = backoff

    async def _read(self) -> bool:
        """Apply pushes until the socket ends; ``True`` when the runtime closed it because its
        credentials were revoked."""
        ws = self._ws
        if ws is None:
            return False
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            try:
                data = json.loads(message.data)
            except ValueError:
                _LOGGER.debug("ignoring a non-JSON push: %.80r", message.data)
                continue
            kind = data.get("type") if isinstance(data, dict) else None
            if kind == "event":
                self._apply_event(data)
            elif kind == "channel":
                self._apply_channel(data)
            elif kind == "overflow":  # updates were dropped: read the state again
                try:
                    await self._sync()
                except CameraRuntimeError as err:
                    _LOGGER.debug("resync after overflow failed: %s", err)
                    break
        _LOGGER.debug(
            "event socket of %s closed (code %s): %s", self.base_url, ws.close_code, ws.exception()
        )
        return ws.close_code == CLOSE_REVOKED


async def _chunks(response: aiohttp.ClientResponse, channel_id: str) -> AsyncIterator[bytes]:
    """A playback answer's body as it arrives; a link that breaks off says so in our terms."""
    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            yield chunk
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise CannotConnectError(f"the playback of {channel_id} broke off: {err}") from err


__all__ = ["BACKOFF_MAX", "BACKOFF_START", "RemoteClient"]
