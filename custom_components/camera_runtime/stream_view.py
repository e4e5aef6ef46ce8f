"""An embedded runtime's streams, served by Home Assistant's own HTTP server.

A remote runtime serves its streams itself and signs a URL for Home Assistant's ``stream``
worker (and go2rtc), which take a URL only. An embedded runtime has no HTTP server: this view
serves its channels' streams as MPEG-TS at ``/api/camera_runtime/{device_id}/{channel}/{role}.ts``,
and the camera entity hands the ``stream`` worker that path signed by Home Assistant
(``async_sign_path``, the content user's token), so the URL opens that one path and nothing
else, and dies with the signing secret when Home Assistant restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import quote

from aiohttp import web
from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.components.http.auth import async_sign_path
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError, get_url

from camera_runtime.client import RuntimeClient
from camera_runtime.exceptions import (
    CameraRuntimeError,
    ChannelStoppedError,
    NoFrameError,
    NotFoundError,
    StreamUnavailableError,
)

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

#: How long a signed stream URL opens its stream: the ``stream`` worker asks for the entity's
#: source once and reopens that URL whenever the stream drops; the secret signing it is
#: renewed with every start of Home Assistant anyway.
SIGNED_FOR = timedelta(days=365)
#: How often a stream checks that its reader is still connected (nothing else tells a
#: handler waiting for a picture that its client left) and not stalled.
CHECK_INTERVAL = 1.0
#: A reader that takes nothing for this long is disconnected.
WRITE_TIMEOUT = 20.0
_REGISTERED = f"{DOMAIN}_stream_view"


def stream_path(device_id: str, channel_id: str, role: str = "main") -> str:
    return f"/api/{DOMAIN}/{quote(device_id, safe='')}/{quote(channel_id, safe='')}/{role}.ts"


@callback
def register_stream_view(hass: HomeAssistant) -> bool:
    """Serve embedded streams (once per Home Assistant); ``False`` without its HTTP server."""
    if hass.data.get(_REGISTERED):
        return True
    if getattr(hass, "http", None) is None:
        return False
    hass.http.register_view(EmbeddedStreamView())
    hass.data[_REGISTERED] = True
    return True


@callback
def signed_stream_url(
    hass: HomeAssistant, device_id: str, channel_id: str, role: str = "main"
) -> str | None:
    """The URL Home Assistant's own ``stream`` worker plays an embedded channel from, signed
    for that path alone; ``None`` when Home Assistant knows no URL of its own."""
    if not hass.data.get(_REGISTERED):
        return None
    try:
        base = get_url(hass, allow_external=False, allow_cloud=False, prefer_external=False)
    except NoURLAvailableError:
        _LOGGER.warning("no internal URL of Home Assistant is known: no stream to play from")
        return None
    path = stream_path(device_id, channel_id, role)
    return base + async_sign_path(hass, path, SIGNED_FOR, use_content_user=True)


def _client(hass: HomeAssistant, device_id: str) -> RuntimeClient | None:
    """The loaded embedded runtime of ``device_id``."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is not ConfigEntryState.LOADED:
            continue
        client: RuntimeClient = entry.runtime_data.client
        if client.opens_streams and entry.runtime_data.device_id == device_id:
            return client
    return None


class EmbeddedStreamView(HomeAssistantView):
    """``GET``: a channel's stream (``main``, ``sub``, ``third``) as MPEG-TS from its next
    keyframe, until the reader leaves or the stream ends. Authenticated by Home Assistant (a
    signed path, or a user's token)."""

    url = f"/api/{DOMAIN}/{{device_id}}/{{channel_id}}/{{role}}.ts"
    name = f"api:{DOMAIN}:stream"
    requires_auth = True

    async def get(
        self, request: web.Request, device_id: str, channel_id: str, role: str
    ) -> web.StreamResponse:
        hass = request.app[KEY_HASS]
        client = _client(hass, device_id)
        if client is None:
            return self.json_message("no such embedded runtime", HTTPStatus.NOT_FOUND)
        try:
            reader = await client.open_stream(channel_id, role)
        except NotFoundError as err:
            return self.json_message(err.message, HTTPStatus.NOT_FOUND)
        except (ChannelStoppedError, StreamUnavailableError) as err:
            return self.json_message(err.message, HTTPStatus.CONFLICT)
        except NoFrameError as err:
            return self.json_message(err.message, HTTPStatus.SERVICE_UNAVAILABLE)
        except CameraRuntimeError as err:
            return self.json_message(err.message, HTTPStatus.SERVICE_UNAVAILABLE)
        try:
            response = web.StreamResponse(
                headers={"Content-Type": reader.content_type, "Cache-Control": "no-store"}
            )
            await response.prepare(request)
            await _copy(request, reader.chunks(), response)
            return response
        finally:
            reader.close()


async def _copy(
    request: web.Request, chunks: AsyncGenerator[bytes], response: web.StreamResponse
) -> None:
    """Write the chunks until the stream ends, the reader leaves, or it stalls."""
    loop = asyncio.get_running_loop()
    writing: list[float] = []  # when the write under way started

    async def pump() -> None:
        async with contextlib.aclosing(chunks) as stream:
            async for data in stream:
                writing.append(loop.time())
                await response.write(data)
                writing.clear()

    task = asyncio.create_task(pump())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=CHECK_INTERVAL)
            transport = request.transport
            stalled = bool(writing) and loop.time() - writing[0] > WRITE_TIMEOUT
            if not task.done() and (transport is None or transport.is_closing() or stalled):
                if stalled and transport is not None:
                    transport.abort()
                break
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await task
