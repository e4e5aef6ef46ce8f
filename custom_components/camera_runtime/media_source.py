"""Recordings, event clips and pictures in Home Assistant's media browser, by runtime, camera
and day (the shape of the UniFi Protect and Frigate media sources).

Identifiers, below ``media-source://camera_runtime``:

- ``<device_id>``: the runtime's cameras;
- ``<device_id>/<channel>``: the days with recordings or pictures, newest first;
- ``<device_id>/<channel>/<day>``: that day's clips (an event's, a record-clip command's, a
  manual recording's), its pictures, and a folder of its segments;
- ``<device_id>/<channel>/<day>/segments``: the segments;
- ``<device_id>/clip/<channel>/<start>/<end>`` (a clip, or one segment's time range) and
  ``<device_id>/picture/<id>``: playable items.

Items resolve to ``MediaView`` paths on Home Assistant's own server (signed by the media
source's resolve for the user who asked), which fetch the bytes through the entry's client:
the runtime's credentials never reach the browser. Everything is addressed by id or time
range, as the runtime's API does. Video comes as MP4 (the runtime remuxes the range's
segments, index first), which Home Assistant's media panel plays in the browser itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.components.media_player import BrowseError, MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from camera_runtime.client import Download, RuntimeClient
from camera_runtime.client.errors import RequestError
from camera_runtime.exceptions import CameraRuntimeError, NotFoundError

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

MP4, JPEG = "video/mp4", "image/jpeg"
#: A segment played alone: its range narrowed by this much at each end (s), so the
#: segments that merely touch it are left out.
_INSIDE = 0.001
SEGMENTS = "segments"
_REGISTERED = f"{DOMAIN}_media_view"


async def async_get_media_source(hass: HomeAssistant) -> CameraRuntimeMediaSource:
    register_media_view(hass)
    return CameraRuntimeMediaSource(hass)


@callback
def register_media_view(hass: HomeAssistant) -> None:
    if not hass.data.get(_REGISTERED):
        hass.http.register_view(MediaView())
        hass.data[_REGISTERED] = True


def _runtimes(hass: HomeAssistant) -> dict[str, tuple[str, RuntimeClient]]:
    """Loaded entries by device id: (title, client)."""
    found: dict[str, tuple[str, RuntimeClient]] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            found[entry.runtime_data.device_id] = (entry.title, entry.runtime_data.client)
    return found


def _client(hass: HomeAssistant, device_id: str) -> RuntimeClient:
    found = _runtimes(hass).get(device_id)
    if found is None:
        raise Unresolvable(f"no loaded camera runtime {device_id!r}")
    return found[1]


def _day(epoch: float) -> str:
    return dt_util.as_local(dt_util.utc_from_timestamp(epoch)).date().isoformat()


def _day_bounds(day: str) -> tuple[float, float]:
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise BrowseError(f"not a day: {day!r}") from None
    start = dt_util.start_of_local_day(date)
    return start.timestamp(), (start + dt.timedelta(days=1)).timestamp()


def _clock(epoch: float) -> str:
    return dt_util.as_local(dt_util.utc_from_timestamp(epoch)).strftime("%H:%M:%S")


def _folder(identifier: str, title: str, **extra: Any) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.VIDEO,
        title=title,
        can_play=False,
        can_expand=True,
        **extra,
    )


def _playable(identifier: str, title: str, media: str, thumbnail: str | None = None) -> Any:
    video = media == MP4
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.VIDEO if video else MediaClass.IMAGE,
        media_content_type=media,
        title=title,
        can_play=True,
        can_expand=False,
        thumbnail=thumbnail,
    )


class CameraRuntimeMediaSource(MediaSource):
    name = "Camera Runtime"

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        parts = item.identifier.split("/")
        if len(parts) == 3 and parts[1] == "picture":
            _client(self.hass, parts[0])
            return PlayMedia(f"/api/{DOMAIN}/{parts[0]}/media/picture/{parts[2]}", JPEG)
        if len(parts) == 5 and parts[1] == "clip":
            _client(self.hass, parts[0])
            path = f"/api/{DOMAIN}/{parts[0]}/media/clip/{parts[2]}?start={parts[3]}&end={parts[4]}"
            return PlayMedia(path, MP4)
        raise Unresolvable(f"not a playable item: {item.identifier!r}")

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        parts = item.identifier.split("/") if item.identifier else []
        try:
            if not parts:
                return self._root()
            client = _client(self.hass, parts[0])
            if len(parts) == 1:
                return await self._cameras(parts[0], client)
            if len(parts) == 2:
                return await self._days(parts[0], parts[1], client)
            if len(parts) == 3:
                return await self._day(parts[0], parts[1], parts[2], client)
            if len(parts) == 4 and parts[3] == SEGMENTS:
                return await self._segments(parts[0], parts[1], parts[2], client)
        except Unresolvable as err:
            raise BrowseError(str(err)) from err
        except CameraRuntimeError as err:
            raise BrowseError(err.message) from err
        raise BrowseError(f"unknown item {item.identifier!r}")

    def _root(self) -> BrowseMediaSource:
        root = _folder("", self.name)
        root.children = [
            _folder(device, title) for device, (title, _) in _runtimes(self.hass).items()
        ]
        return root

    async def _cameras(self, device: str, client: RuntimeClient) -> BrowseMediaSource:
        folder = _folder(device, _runtimes(self.hass)[device][0])
        channels = await client.fetch_channels()
        folder.children = [
            _folder(f"{device}/{c['id']}", c.get("name") or c["id"]) for c in channels
        ]
        return folder

    async def _days(self, device: str, channel: str, client: RuntimeClient) -> BrowseMediaSource:
        found = await client.recordings(channel)
        pictures = await client.pictures(channel)
        days: dict[str, int] = defaultdict(int)
        for row in (*found["segments"], *found["clips"]):
            days[_day(row["start"])] += 1
        for picture in pictures:
            days[_day(picture["time"])] += 1
        folder = _folder(f"{device}/{channel}", channel)
        folder.children = [
            _folder(f"{device}/{channel}/{day}", day) for day in sorted(days, reverse=True)
        ]
        return folder

    async def _day(
        self, device: str, channel: str, day: str, client: RuntimeClient
    ) -> BrowseMediaSource:
        start, end = _day_bounds(day)
        found = await client.recordings(channel, start, end)
        pictures = await client.pictures(channel, start, end)
        folder = _folder(f"{device}/{channel}/{day}", day)
        children: list[BrowseMediaSource] = []
        if found["segments"]:
            title = f"Recordings ({len(found['segments'])} segments)"
            children.append(_folder(f"{device}/{channel}/{day}/{SEGMENTS}", title))
        for clip in found["clips"]:
            if clip["end"] is None:
                continue  # still being recorded
            ident = f"{device}/clip/{channel}/{clip['start']!r}/{clip['end']!r}"
            title = f"{_clock(clip['start'])} {clip['reason']}"
            children.append(_playable(ident, title, MP4))
        for picture in pictures:
            ident = f"{device}/picture/{picture['id']}"
            title = f"{_clock(picture['time'])} {picture['reason']}"
            children.append(_playable(ident, title, JPEG))
        folder.children = children
        return folder

    async def _segments(
        self, device: str, channel: str, day: str, client: RuntimeClient
    ) -> BrowseMediaSource:
        start, end = _day_bounds(day)
        found = await client.recordings(channel, start, end)
        folder = _folder(f"{device}/{channel}/{day}/{SEGMENTS}", f"{day} recordings")
        folder.children = [
            _playable(
                f"{device}/clip/{channel}/{s['start'] + _INSIDE!r}/{s['end'] - _INSIDE!r}",
                f"{_clock(s['start'])} to {_clock(s['end'])}",
                MP4,
            )
            for s in found["segments"]
            if s["end"] is not None and s["end"] - s["start"] > 2 * _INSIDE
        ]
        return folder


class MediaView(HomeAssistantView):
    """``GET``: a clip (a time range, as MP4) or a picture of a loaded runtime, fetched
    through its client. Authenticated by Home Assistant (the media source signs the path)."""

    url = f"/api/{DOMAIN}/{{device_id}}/media/{{kind}}/{{item}}"
    name = f"api:{DOMAIN}:media"
    requires_auth = True

    async def get(
        self, request: web.Request, device_id: str, kind: str, item: str
    ) -> web.StreamResponse:
        hass = request.app[KEY_HASS]
        try:
            client = _client(hass, device_id)
            if kind == "picture":
                return web.Response(body=await client.picture(item), content_type=JPEG)
            if kind == "clip":
                start = float(request.query["start"])
                end = float(request.query["end"])
                wanted = request.headers.get("Range")
                async with client.playback(item, start, end, wanted) as download:
                    return await _hand_on(request, download)
        except Unresolvable as err:
            return self.json_message(str(err), HTTPStatus.NOT_FOUND)
        except (KeyError, ValueError):
            return self.json_message("start and end are required", HTTPStatus.BAD_REQUEST)
        except NotFoundError as err:
            return self.json_message(err.message, HTTPStatus.NOT_FOUND)
        except RequestError as err:  # the remote runtime's answer: its 4xx stays one
            status = err.status if 400 <= err.status < 500 else HTTPStatus.BAD_GATEWAY
            return self.json_message(err.message, status)
        except CameraRuntimeError as err:
            return self.json_message(err.message, HTTPStatus.BAD_GATEWAY)
        return self.json_message("no such media", HTTPStatus.NOT_FOUND)


async def _hand_on(request: web.Request, download: Download) -> web.StreamResponse:
    """Stream a recording to the player as it comes, byte range and all: a long range is
    never held in Home Assistant's memory."""
    response = web.StreamResponse(status=download.status, headers=download.headers)
    await response.prepare(request)
    try:
        async for chunk in download.chunks:
            await response.write(chunk)
    except CameraRuntimeError as err:  # the runtime's side broke off after the headers went
        _LOGGER.warning("the playback %s broke off: %s", request.rel_url, err)
        if request.transport is not None:  # the player sees the file cut short, not complete
            request.transport.close()
        return response
    await response.write_eof()
    return response
