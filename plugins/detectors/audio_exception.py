"""Audio exception detection (manual 6.2.1): audio loss, sudden increase and sudden decrease of
sound intensity, from the level of the channel's audio track.

The source measures the track where it demultiplexes it (``AudioLevel``: dBFS per decoded
block), so no samples travel and nothing is decoded unless this detector is configured.
Sound intensity is the manual's 0-100 scale: the level in dBFS plus 100 (0 is digital
silence, 100 full scale), averaged over the last quarter second so a single click does not
count. Against it runs the background: the intensity averaged over about five seconds, which
an event holds still (it only drifts, over half a minute, so a lasting change of scene ends
the event instead of keeping it on for ever).

- **Sudden increase**: the intensity reaches ``intensity_threshold`` *and* rises above the
  background by a margin that shrinks as ``increase_sensitivity`` grows (the manual: "the
  lower the sensitivity, the more significant the change must be"): 39.6 dB at 1, 21.5 dB at
  50, 3 dB at 100. Ends once it stays within half that margin for half a second.
- **Sudden decrease**: the intensity falls below the background by a margin set the same way
  by ``decrease_sensitivity`` (35.7 / 21 / 6 dB), when there was sound to lose (a background
  of at least 20). Ends once it is back within half the margin.
- **Audio loss**: no audio for ``loss_after`` seconds while pictures come (the track
  vanished, or the stream has none): measured on the wall clock, like the video loss.
  Silence is not a loss: a silent track still delivers levels. Ends with the first level.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import Control, EventTypeInfo, number
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import AudioLevel, Event, EventPhase, Plane

AUDIO_LOSS = EventTypeInfo("audio_loss", "Audio loss", device_class="problem")
SOUND_INCREASE = EventTypeInfo(
    "sound_increase", "Sudden increase of sound intensity", device_class="sound"
)
SOUND_DECREASE = EventTypeInfo(
    "sound_decrease", "Sudden decrease of sound intensity", device_class="sound"
)

_PERCENT = vol.All(vol.Coerce(int), vol.Range(min=1, max=100))
SCHEMA = vol.Schema(
    {
        vol.Optional("audio_loss", default=True): bool,
        vol.Optional("sudden_increase", default=True): bool,
        vol.Optional("increase_sensitivity", default=50): _PERCENT,
        vol.Optional("intensity_threshold", default=50): _PERCENT,
        vol.Optional("sudden_decrease", default=False): bool,
        vol.Optional("decrease_sensitivity", default=50): _PERCENT,
        vol.Optional("loss_after", default=3.0): vol.All(
            vol.Coerce(float), vol.Range(min=1.0, max=60.0)
        ),
    }
)

#: The intensity is the mean over this much of the newest audio (s).
SHORT_WINDOW = 0.25
#: The background's time constant (s), and while an event is on.
BACKGROUND_TAU = 5.0
HELD_BACKGROUND_TAU = 30.0
#: The background must have heard this much audio (s) before a change counts.
WARM_UP = 1.0
#: An event ends after its condition has been gone this long (s of audio).
END_AFTER = 0.5
#: A decrease needs a background at least this loud: silence cannot fall.
MIN_DECREASE_BACKGROUND = 20.0


def intensity(level_db: float) -> float:
    """The manual's sound intensity, 0-100, from a level in dBFS."""
    return min(100.0, max(0.0, level_db + 100.0))


def increase_margin(sensitivity: int) -> float:
    """How far (dB) above the background a sudden increase must rise."""
    return 3.0 + (100 - sensitivity) * 0.37


def decrease_margin(sensitivity: int) -> float:
    """How far (dB) below the background a sudden decrease must fall."""
    return 6.0 + (100 - sensitivity) * 0.3


class _Change:
    """One of the two sudden changes: starts on ``begins``, ends after ``END_AFTER`` of
    ``over``."""

    def __init__(
        self,
        info: EventTypeInfo,
        begins: Callable[[float, float], bool],
        over: Callable[[float, float], bool],
    ) -> None:
        self.info = info
        self._begins = begins
        self._over = over
        self.event: Event | None = None
        self._quiet_since: float | None = None

    def step(
        self,
        channel: str,
        now: float,
        media: float,
        level: float,
        background: float,
        data: dict[str, Any],
    ) -> list[tuple[EventPhase, Event]]:
        if self.event is None:
            if not self._begins(level, background):
                return []
            self.event = Event(channel, self.info.name, now, data={**data, "intensity": level})
            self._quiet_since = None
            return [(EventPhase.NEW, self.event)]
        if not self._over(level, background):
            self._quiet_since = None
            return []
        if self._quiet_since is None:
            self._quiet_since = media
        if media - self._quiet_since < END_AFTER:
            return []
        return self.end(now)

    def end(self, now: float) -> list[tuple[EventPhase, Event]]:
        event, self.event = self.event, None
        if event is None:
            return []
        event.end = now
        return [(EventPhase.END, event)]


class AudioExceptionDetector(Detector):
    """The manual's audio exception detection on the channel's audio track."""

    kind: ClassVar[str] = "audio_exception"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = SCHEMA
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (AUDIO_LOSS, SOUND_INCREASE, SOUND_DECREASE)
    AUDIO: ClassVar[bool] = True

    @classmethod
    def controls(cls, options: Mapping[str, Any]) -> tuple[Control, ...]:
        """On/off, and the manual's sensitivities and sound intensity threshold."""
        return (
            *super().controls(options),
            number(
                "sound_increase_sensitivity", "Sound increase sensitivity",
                "increase_sensitivity", SCHEMA,
            ),
            number("sound_intensity_threshold", "Sound intensity threshold", "intensity_threshold", SCHEMA),
            number(
                "sound_decrease_sensitivity", "Sound decrease sensitivity",
                "decrease_sensitivity", SCHEMA,
            ),
        )  # fmt: skip

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._options = options
        rise = increase_margin(options["increase_sensitivity"])
        threshold = float(options["intensity_threshold"])
        drop = decrease_margin(options["decrease_sensitivity"])
        self._changes: list[_Change] = []
        if options["sudden_increase"]:
            self._changes.append(
                _Change(
                    SOUND_INCREASE,
                    lambda s, b: s >= threshold and s - b >= rise,
                    lambda s, b: s - b < rise / 2 or s < threshold,
                )
            )
        if options["sudden_decrease"]:
            self._changes.append(
                _Change(
                    SOUND_DECREASE,
                    lambda s, b: b >= MIN_DECREASE_BACKGROUND and b - s >= drop,
                    lambda s, b: b - s < drop / 2,
                )
            )
        self._window: deque[tuple[float, float, float]] = deque()  # (end, intensity, duration)
        self._background: float | None = None
        self._heard = 0.0  # seconds of audio the background has taken in
        self._last_media: float | None = None
        self._last_heard: float | None = None  # wall clock of the newest level
        self._started: float | None = None  # wall clock of the first picture
        self._loss: Event | None = None

    # ------------------------------------------------------------------ the audio track

    def hear(self, level: AudioLevel) -> list[tuple[EventPhase, Event]]:
        changes: list[tuple[EventPhase, Event]] = []
        if self._loss is not None:
            changes += self._end_loss(level.wall_time, recovered=True)
        self._last_heard = level.wall_time
        media = level.media_time
        if self._last_media is not None and media < self._last_media - 1.0:
            self._restart()  # the track's clock went back: a reconnect or a loop
        self._last_media = media
        end = media + level.duration
        self._window.append((end, intensity(level.rms_db), level.duration))
        while self._window and self._window[0][0] <= end - SHORT_WINDOW:
            self._window.popleft()
        total = sum(d for _, _, d in self._window) or 1.0
        short = sum(i * d for _, i, d in self._window) / total
        background = self._background
        if background is None:
            self._background = short
        elif self._heard >= WARM_UP:
            data = {
                "background": round(background, 1),
                "threshold": self._options["intensity_threshold"],
                "increase_sensitivity": self._options["increase_sensitivity"],
                "decrease_sensitivity": self._options["decrease_sensitivity"],
            }
            for change in self._changes:
                changes += change.step(
                    self.context.channel_id, level.wall_time, end, short, background, data
                )
        held = any(change.event is not None for change in self._changes)
        tau = HELD_BACKGROUND_TAU if held else BACKGROUND_TAU
        if self._background is not None:
            alpha = 1.0 - math.exp(-level.duration / tau)
            self._background += alpha * (short - self._background)
        self._heard += level.duration
        return changes

    def _restart(self) -> None:
        self._window.clear()
        self._background = None
        self._heard = 0.0

    # ------------------------------------------------------------------ the clock: pictures

    def process(self, image: Plane, timestamp: float) -> list[tuple[EventPhase, Event]]:
        """Pictures keep coming while the audio may not: each one checks for audio loss."""
        if self._started is None:
            self._started = timestamp
        if not self._options["audio_loss"] or self._loss is not None:
            return []
        since = self._last_heard if self._last_heard is not None else self._started
        if timestamp - since < self._options["loss_after"]:
            return []
        data: dict[str, Any] = {"loss_after": self._options["loss_after"]}
        if self._last_heard is None:
            data["reason"] = "no audio track"
        self._loss = Event(self.context.channel_id, AUDIO_LOSS.name, timestamp, data=data)
        return [(EventPhase.NEW, self._loss)]

    def _end_loss(self, now: float, *, recovered: bool) -> list[tuple[EventPhase, Event]]:
        event, self._loss = self._loss, None
        if event is None:
            return []
        event.end = now
        event.data = {**event.data, "recovered": recovered}
        return [(EventPhase.END, event)]

    def finish(self, timestamp: float) -> list[tuple[EventPhase, Event]]:
        changes = self._end_loss(timestamp, recovered=False)
        for change in self._changes:
            changes += change.end(timestamp)
        return changes


@hookimpl
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Make ``audio_exception`` available under a channel's ``detectors:``."""
    register(AudioExceptionDetector)
