"""Small real plugin classes for core tests: a scripted source and a threshold detector."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.exceptions import ConfigError, SourceEndedError, SourceUnavailableError
from camera_runtime.interfaces import Detector, DetectorContext, Source
from camera_runtime.model import Event, EventPhase, Frame, StreamInfo


class ScriptedSource(Source):
    """Frames whose brightness follows a script; ``fail_after`` frames then it drops.

    A class-level ``control`` lets a test decide when opening works again, so drop and recovery
    are driven by the test, not by timing.
    """

    kind: ClassVar[str] = "scripted"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("width", default=64): int,
            vol.Optional("height", default=48): int,
            vol.Optional("frames", default=0): int,  # 0: endless
            vol.Optional("fail_after", default=0): int,  # 0: never drops
            vol.Optional("bright_from", default=-1): int,  # frame index where it turns bright
            vol.Optional("fps", default=200.0): float,
        }
    )
    opens_allowed = threading.Event()
    open_attempts = 0
    #: ``time.monotonic()`` of every ``open()``; released once per attempt.
    open_times: ClassVar[list[float]] = []
    opened = threading.Semaphore(0)

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._closed = threading.Event()
        self._index = 0

    def open(self) -> StreamInfo:
        type(self).open_attempts += 1
        type(self).open_times.append(time.monotonic())
        type(self).opened.release()
        if not self.opens_allowed.is_set():
            raise SourceUnavailableError("scripted camera unreachable")
        return StreamInfo(self.options["width"], self.options["height"], self.options["fps"])

    def read(self) -> Frame:
        if self._closed.is_set():
            raise SourceUnavailableError("closed")
        o = self.options
        if o["frames"] and self._index >= o["frames"]:
            raise SourceEndedError("end of script")
        if o["fail_after"] and self._index >= o["fail_after"]:
            type(self).opens_allowed.clear()
            raise SourceUnavailableError("scripted camera dropped")
        self._closed.wait(1.0 / o["fps"])
        bright = 0 <= o["bright_from"] <= self._index
        h, w = o["height"], o["width"]
        y = np.full((h, w), 200 if bright else 30, np.uint8)
        u = np.full((h // 2, w // 2), 128, np.uint8)
        pts = self._index / o["fps"]
        self._index += 1
        return Frame(y, u, u, pts=pts, wall_time=time.time(), demux_time=time.monotonic())

    def close(self) -> None:
        self._closed.set()


class OneEventDetector(Detector):
    """A detector with at most one event in progress (``self.event``), which ``finish`` ends."""

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self.event: Event | None = None

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        if self.event is None:
            return []
        event, self.event = self.event, None
        event.end = timestamp
        return [(EventPhase.END, event)]


class BrightDetector(OneEventDetector):
    """Raises a ``bright`` event while the picture's mean luma is over ``level``."""

    kind: ClassVar[str] = "bright"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (EventTypeInfo("bright", "Bright"),)
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("level", default=100): vol.All(int, vol.Range(min=0, max=255)),
            vol.Optional("fail", default=False): bool,
        }
    )

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        if options["fail"]:
            raise ConfigError(f"cannot work at {context.width}x{context.height}")
        self.sizes: list[tuple[int, int]] = []

    def process(self, image: Any, timestamp: float) -> list[tuple[EventPhase, Event]]:
        self.sizes.append(image.shape)
        bright = float(image.mean()) > self.options["level"]
        if bright and self.event is None:
            self.event = Event(self.context.channel_id, "bright", timestamp)
            return [(EventPhase.NEW, self.event)]
        if not bright and self.event is not None:
            return self.finish(timestamp)
        return []


class FakePlugins:
    """Registers the fakes like any plugin does."""

    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(ScriptedSource)

    @hookimpl
    def register_detectors(self, register: Any) -> None:
        register(BrightDetector)
