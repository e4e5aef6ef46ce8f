"""The `stitched` source: a channel's picture from a stitched device (``hub.py``).

Without ``window`` the channel shows the whole panorama (the panorama channel, and the ePTZ
channels, whose window is their ``ptz``); with one, a *view*: that fixed window of the
panorama (x, y, w, h in 0..1, even pixels), a zero-copy crop (the divided panorama).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import voluptuous as vol

from ..channel_streams import cropped
from ..exceptions import SourceUnavailableError
from ..hookspecs import hookimpl
from ..interfaces import Source
from ..model import Frame, StreamInfo
from .hub import StitchHub, hub
from .modes import STITCHED, WINDOW_SCHEMA


def crop_rect(window: Mapping[str, float], width: int, height: int) -> tuple[int, int, int, int]:
    """``window`` (0..1) of a ``width`` x ``height`` picture in even pixels: x, y, w, h."""

    def even(value: float) -> int:
        return round(value / 2) * 2

    x, y = even(window["x"] * width), even(window["y"] * height)
    w = max(2, min(even(window["w"] * width), width - x))
    h = max(2, min(even(window["h"] * height), height - y))
    return x, y, w, h


class StitchedSource(Source):
    """The panorama of a stitched device, or a window of it."""

    kind: ClassVar[str] = STITCHED
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Required("device"): vol.Schema({vol.Required("id"): str}, extra=vol.ALLOW_EXTRA),
            vol.Optional("window", default=None): vol.Any(None, WINDOW_SCHEMA),
        }
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._hub: StitchHub | None = None
        self._stop = threading.Event()
        self._seq = 0
        self._rect: tuple[int, int, int, int] | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        what = "view" if self.options["window"] else "panorama"
        return f"stitched {self.options['device']['id']} {what}"

    def open(self) -> StreamInfo:
        found = hub(self.options["device"]["id"])
        with self._lock:
            self._stop.clear()
            self._hub = found
            found.acquire()
        self._seq, panorama, info = found.next(0, self._stop)
        window = self.options["window"]
        if window is None:
            return info
        self._rect = crop_rect(window, panorama.width, panorama.height)
        return dataclasses.replace(info, width=self._rect[2], height=self._rect[3])

    def read(self) -> Frame:
        found = self._hub
        if found is None:
            raise SourceUnavailableError(f"{self.describe()} is not open")
        self._seq, panorama, _info = found.next(self._seq, self._stop)
        return panorama if self._rect is None else cropped(panorama, self._rect)

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            found, self._hub = self._hub, None
        if found is not None:
            found.release()


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the `stitched` source."""
    register(StitchedSource)
