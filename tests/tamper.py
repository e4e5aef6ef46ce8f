"""A detector defined here only, never named by the runtime, its faces or the integration:
``tamper``, with one event type, the default on/off switch, a sensitivity number and a
method select. The API, MQTT (discovery) and Home Assistant tests show it gets its binary
sensor, event type, switch, number and select from its declarations alone.

It raises ``tamper`` while the picture is darker than ``2.55 * sensitivity`` grey levels
(sensitivity 100: always, 0: never), so a test can start and end its event by setting the
declared number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import capabilities, hookimpl
from camera_runtime.capabilities import Control, EventTypeInfo
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase, Plane
from tests.camera_runtime.fakes import OneEventDetector

TAMPER_SCHEMA = vol.Schema(
    {
        vol.Optional("sensitivity", default=100): vol.All(int, vol.Range(min=0, max=100)),
        vol.Optional("method", default="cover"): vol.In(["cover", "defocus", "turn"]),
    }
)


class TamperDetector(OneEventDetector):
    kind: ClassVar[str] = "tamper"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = TAMPER_SCHEMA
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (
        EventTypeInfo("tamper", "Tamper", device_class="tamper"),
    )

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        return (
            *super().controls(options),
            capabilities.number(
                "tamper_sensitivity", "Tamper sensitivity", "sensitivity", TAMPER_SCHEMA
            ),
            capabilities.select("tamper_method", "Tamper method", "method", TAMPER_SCHEMA),
        )

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self.level = 2.55 * options["sensitivity"]

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        covered = float(image.mean()) < self.level
        if covered and self.event is None:
            self.event = Event(
                self.context.channel_id,
                "tamper",
                timestamp,
                data={"method": self.options["method"]},
            )
            return [(EventPhase.NEW, self.event)]
        if not covered and self.event is not None:
            return self.finish(timestamp)
        return []


class TamperPlugin:
    """The plugin object a test passes as ``extra_plugins``."""

    @hookimpl
    def register_detectors(self, register: Callable[[type[Detector]], None]) -> None:
        register(TamperDetector)


def tamper_channel(
    channel_id: str = "cam1", name: str = "Front door", sensitivity: int = 0
) -> dict[str, Any]:
    """A small synthetic camera with only the tamper detector (at sensitivity 0: untouched)."""
    return {
        "id": channel_id,
        "name": name,
        "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 20},
        "detect": {"fps": 10},
        "detectors": {"tamper": {"sensitivity": sensitivity}},
    }
