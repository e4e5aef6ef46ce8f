"""Detectors: turn the small grey picture of a channel into events."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..model import Event, EventPhase, Plane
from .base import PluginClass


@dataclass(frozen=True, slots=True)
class DetectorContext:
    """What a detector knows of its channel."""

    channel_id: str
    width: int
    height: int
    fps: float


class Detector(PluginClass):
    """Runs in the channel's worker thread at the detect fps on the luma plane at detect size.

    ``process`` returns the changes of the events it owns, in order. It must be fast (it shares
    the thread with decoding) and must not block or raise for ordinary pictures.
    """

    extension_point: ClassVar[str] = "detector"

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options)
        self.context = context

    @abstractmethod
    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """Look at one picture (``timestamp`` is wall-clock seconds) and report event changes."""

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """End whatever is still active (the channel stops or the detector is replaced)."""
        return []
