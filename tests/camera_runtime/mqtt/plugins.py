"""Real plugins for the MQTT tests: a paced flat-picture source that can be cut on demand, and
a detector that raises a short event on every other detection (a steady event stream)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.exceptions import SourceUnavailableError
from camera_runtime.interfaces import Source
from camera_runtime.model import Event, EventPhase, Frame, StreamInfo
from tests.camera_runtime.fakes import OneEventDetector

#: Gates by name: a source whose gate is cleared fails (video loss) until it is set again.
GATES: dict[str, threading.Event] = {}


def gate(name: str) -> threading.Event:
    return GATES.setdefault(name, _open_gate())


def _open_gate() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


class TickSource(Source):
    """Flat 64x48 pictures at ``fps``; fails while its ``gate`` is closed."""

    kind: ClassVar[str] = "tick"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("fps", default=25.0): vol.Coerce(float),
            vol.Optional("gate", default=""): str,
        }
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._closed = threading.Event()
        self._index = 0
        self._gate = gate(options["gate"]) if options["gate"] else None
        self._origin = 0.0

    def open(self) -> StreamInfo:
        if self._gate is not None and not self._gate.is_set():
            raise SourceUnavailableError("tick camera cut")
        self._origin = time.monotonic()
        return StreamInfo(64, 48, self.options["fps"])

    def read(self) -> Frame:
        if self._gate is not None and not self._gate.is_set():
            raise SourceUnavailableError("tick camera cut")
        fps = self.options["fps"]
        due = self._origin + self._index / fps
        if self._closed.wait(max(0.0, due - time.monotonic())):
            raise SourceUnavailableError("closed")
        y = np.full((48, 64), 60 + self._index % 100, np.uint8)
        uv = np.full((24, 32), 128, np.uint8)
        frame = Frame(
            y, uv, uv, pts=self._index / fps, wall_time=time.time(), demux_time=time.monotonic()
        )
        self._index += 1
        return frame

    def close(self) -> None:
        self._closed.set()


class PulseDetector(OneEventDetector):
    """A ``pulse`` event starts on one detection and ends on the next, again and again."""

    kind: ClassVar[str] = "pulse"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (EventTypeInfo("pulse", "Pulse"),)
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema({})

    def process(self, image: Any, timestamp: float) -> list[tuple[EventPhase, Event]]:
        if self.event is None:
            self.event = Event(self.context.channel_id, "pulse", timestamp, data={"n": 1})
            return [(EventPhase.NEW, self.event)]
        return self.finish(timestamp)


class MqttTestPlugins:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(TickSource)

    @hookimpl
    def register_detectors(self, register: Any) -> None:
        register(PulseDetector)
