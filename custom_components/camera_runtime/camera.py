"""A camera per channel: snapshots and MJPEG live view through the runtime (remote: its API;
embedded: the channel's live view, encoded off the event loop), and, for a channel that sends
H.264 or H.265, its main stream for Home Assistant's ``stream`` (HLS, WebRTC through go2rtc),
passed through by the runtime as MPEG-TS (remote: served by the runtime; embedded: by Home
Assistant's HTTP server, ``stream_view``). The camera's motion
detection is the on/off switch of the detector whose events have the ``motion`` device
class."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from homeassistant.components.camera import Camera, CameraEntityDescription, CameraEntityFeature
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from camera_runtime.client import CameraRuntimeError

from . import capabilities, stream_view
from .const import DOMAIN
from .data import CameraRuntimeConfigEntry, CameraRuntimeData
from .entity import ChannelEntity, ChannelEntityDescription, add_channel_entities
from .errors import runtime_call

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0
BOUNDARY = "frame"
#: Codecs the runtime serves as a stream (MPEG-TS) and Home Assistant's ``stream`` plays.
STREAM_CODECS = frozenset({"h264", "hevc"})


@dataclass(frozen=True, kw_only=True)
class ChannelCameraDescription(ChannelEntityDescription, CameraEntityDescription):
    """The channel's camera (one per channel)."""


CAMERAS = (ChannelCameraDescription(key="camera", name=None),)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_channel_entities(entry, async_add_entities, lambda status: CAMERAS, ChannelCamera)


def scaled_size(
    status: Mapping[str, Any], width: int | None, height: int | None
) -> tuple[int, int] | None:
    """The size to ask the runtime for: the channel's picture scaled down, keeping its aspect
    ratio, just enough to cover ``width`` x ``height`` (as Home Assistant's own scaling does,
    which never goes below the size asked); ``None`` (full size) when nothing is asked, the
    picture is not larger, or its size is unknown."""
    full_width, full_height = status.get("width"), status.get("height")
    if not isinstance(full_width, int) or not isinstance(full_height, int):
        return None
    if full_width <= 0 or full_height <= 0 or (width is None and height is None):
        return None
    scale = max((width or 0) / full_width, (height or 0) / full_height)
    if scale >= 1:
        return None
    return max(1, round(full_width * scale)), max(1, round(full_height * scale))


class ChannelCamera(ChannelEntity, Camera):
    """The channel's picture; the entity is named after the device (the channel)."""

    _attr_brand = "camera_runtime"

    def __init__(
        self, data: CameraRuntimeData, channel_id: str, description: ChannelCameraDescription
    ) -> None:
        ChannelEntity.__init__(self, data, channel_id, description)
        Camera.__init__(self)
        self._handle_status()

    def _handle_status(self) -> None:
        status = self.status
        self._attr_is_on = status.get("state") not in ("stopped", "ended", None)
        self._attr_is_streaming = status.get("state") == "online"
        switch = capabilities.motion_detection_switch(status)
        self._attr_motion_detection_enabled = bool(switch is not None and switch.get("value"))
        self._attr_frame_interval = 1 / max(float(status.get("fps") or 0), 2.0)
        main = (status.get("streams") or {}).get("main") or {}
        # Remote: the runtime serves its streams; embedded: Home Assistant's HTTP server does.
        served = self.client.serves_streams or self.client.opens_streams
        streams = served and main.get("codec") in STREAM_CODECS
        self._attr_supported_features = (
            CameraEntityFeature.STREAM if streams else CameraEntityFeature(0)
        )

    async def stream_source(self) -> str | None:
        """The main stream's URL, signed for this stream alone by the runtime (remote) or by
        Home Assistant, whose HTTP server serves an embedded runtime's streams: Home Assistant
        hands it to its ``stream`` worker (PyAV) or to go2rtc, which take a URL only."""
        if not self.supported_features & CameraEntityFeature.STREAM:
            return None
        if self.client.opens_streams:
            return stream_view.signed_stream_url(self.hass, self.data.device_id, self.channel_id)
        try:
            return await self.client.stream_url(self.channel_id)
        except CameraRuntimeError as err:
            _LOGGER.debug("%s: no stream URL: %s", self.entity_id, err)
            return None

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The newest picture (``None`` while the channel has none), made smaller by the
        runtime when Home Assistant asks for a size (dashboard tiles, thumbnails): less to
        send and nothing for Home Assistant to scale."""
        size = scaled_size(self.status, width, height)
        try:
            if size is not None:
                try:
                    return await self.client.snapshot(self.channel_id, *size)
                except CameraRuntimeError as err:
                    # The picture shrank since the last status (a new source): full size.
                    if err.translation_key != "bad_parameter":
                        raise
                    _LOGGER.debug("%s: size %s refused: %s", self.entity_id, size, err)
            return await self.client.snapshot(self.channel_id)
        except CameraRuntimeError as err:
            _LOGGER.debug("%s: no snapshot: %s", self.entity_id, err)
            return None

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse:
        """Relay the runtime's live view: one JPEG part per new picture, until the viewer
        leaves (the runtime encodes only while someone watches)."""
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"}
        )
        await response.prepare(request)
        try:
            async with contextlib.aclosing(self.client.mjpeg(self.channel_id)) as frames:
                async for jpeg in frames:
                    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    head += f"Content-Length: {len(jpeg)}\r\n\r\n"
                    await response.write(head.encode() + jpeg + b"\r\n")
        except (CameraRuntimeError, ConnectionError) as err:
            _LOGGER.debug("%s: live view ended: %s", self.entity_id, err)
        return response

    async def _set_motion_detection(self, on: bool) -> None:
        switch = capabilities.motion_detection_switch(self.status)
        if switch is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_motion_detection"
            )
        await runtime_call(self.data, self.client.set_control(self.channel_id, switch["key"], on))

    async def async_enable_motion_detection(self) -> None:
        await self._set_motion_detection(True)

    async def async_disable_motion_detection(self) -> None:
        await self._set_motion_detection(False)
