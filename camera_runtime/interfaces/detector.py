"""Detectors: turn the small grey picture of a channel into events, and declare what they offer."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..capabilities import Control, EventTypeInfo, RuleInfo, switch
from ..model import AudioLevel, Event, EventPhase, Plane
from .base import PluginClass


@dataclass(frozen=True, slots=True)
class DetectorContext:
    """What a detector knows of its channel.

    One context is shared by every detector of a channel until the channel's detectors are
    started anew (a new stream size), so ``shared`` is where they keep per-channel services
    that several of them use, built by the first that needs one (the smart-event detectors
    share one moving-object tracker there: its cost is paid once per channel). Detectors run
    on the channel's worker thread, one after another: no locking is needed.
    """

    channel_id: str
    width: int
    height: int
    fps: float
    shared: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def service[T](self, key: str, kind: type[T], build: Callable[[], T]) -> T:
        """The channel's ``kind`` under ``key`` in ``shared``, built by ``build`` for the first
        detector that asks (a detector rebuilt with new options gets the same one back)."""
        found = self.shared.get(key)
        if isinstance(found, kind):
            return found
        made = build()
        self.shared[key] = made
        return made


class Detector(PluginClass):
    """Runs in the channel's worker thread at the detect fps on the luma plane at detect size.

    ``process`` returns the changes of the events it owns, in order. It must be fast (it shares
    the thread with decoding) and must not block or raise for ordinary pictures.

    A detector declares what users see and control (``camera_runtime.capabilities``): the
    event types it raises (``EVENT_TYPES``, at least one; every event it reports has one of
    these types) and its controls (``controls(options)``: by default a switch that turns it on
    and off). The API, MQTT and Home Assistant build their entities from these.
    """

    extension_point: ClassVar[str] = "detector"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = ()
    #: Whether the detector listens to the channel's audio track (``hear``): its channel's
    #: decoding source then measures the track's level.
    AUDIO: ClassVar[bool] = False
    #: A smart event (manual 6.x: intrusion, line crossing, region entrance/exiting): on a
    #: stitched device, supported in the panorama output mode only.
    SMART: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options)
        self.context = context

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        """The controls this detector offers with these (validated) options.

        Called whenever the options change, so a control can come and go with them (the
        motion detector offers its sensitivity only in normal mode). Extend, don't replace,
        to keep the on/off switch: ``super().controls(options) + (...)``.
        """
        label = cls.kind.replace("_", " ").capitalize()
        return (switch(f"{cls.kind}_detection", f"{label} detection", config=True),)

    @classmethod
    def rules(cls, options: Mapping[str, Any]) -> tuple[RuleInfo, ...]:
        """The rules these (validated) options define, when the detector has several whose
        events tell them apart (``data.rule_id``); none by default."""
        return ()

    @abstractmethod
    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """Look at one picture (``timestamp`` is wall-clock seconds) and report event changes."""

    def hear(self, level: AudioLevel) -> list[tuple[EventPhase, Event]]:
        """Listen to one measured block of the audio track (``AUDIO`` detectors; on the same
        thread as ``process``, between pictures) and report event changes."""
        return []

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """End whatever is still active (the channel stops or the detector is replaced)."""
        return []
