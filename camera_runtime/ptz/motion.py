"""What moves one channel's ePTZ window, frame by frame: continuous moves at a speed, jumps
(absolute moves, preset calls, 3D positioning), patrols and pattern replays, and the recording
of a pattern.

The window's clock is the pictures' own (``Frame.pts``, rebased across a reconnect), advanced
once per frame on the channel's worker thread: a patrol's dwell or a pattern's move falls due
on the first frame at or after its time, so timing is exact to one frame interval whatever
the load. A command from any thread takes effect at the clock of the newest frame, under the
lock; the next frame shows it.

Any move by hand (a continuous move, a stop, an absolute move, a preset call, 3D positioning)
ends a running patrol or pattern, as on a PTZ camera.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..model import Frame
from .settings import PATTERN_MOVES, PATTERN_SECONDS, transition_time
from .window import FULL, UNKNOWN, Extent, Window, crop, extent_for, fit_area, lerp

_LOGGER = logging.getLogger(__name__)

#: A continuous move at speed s pans s x PAN_RATE of the window's width per second (speed 7:
#: 0.875 windows a second) and zooms by 2 ** (s x ZOOM_RATE) per second (speed 4: twice).
PAN_RATE = 0.125
ZOOM_RATE = 0.25
#: A gap in the pictures' timestamps beyond this is a reconnect, not time that passed.
MAX_STEP = 2.0


@dataclass(frozen=True, slots=True)
class Move:
    """A continuous move: a direction per axis (-1..1) at a speed (1-7); all zero is a stop."""

    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    speed: int = 4

    @property
    def still(self) -> bool:
        return self.pan == 0 and self.tilt == 0 and self.zoom == 0

    def advance(self, window: Window, dt: float, extent: Extent = FULL) -> Window:
        rate = self.speed * PAN_RATE * dt / window.zoom
        zoom = window.zoom * 2.0 ** (self.zoom * self.speed * ZOOM_RATE * dt)
        return Window(
            window.pan + self.pan * rate * extent[0],
            window.tilt + self.tilt * rate * extent[1],
            zoom,
        )


@dataclass(frozen=True, slots=True)
class PatrolPoint:
    """One stop of a patrol: where (a preset's window), how long, and how fast to get there."""

    window: Window
    dwell: float
    speed: int


#: A recorded step of a pattern: seconds from the recording's start, then a ``Move`` or a
#: ``Window`` (a jump).
Step = tuple[float, Move | Window]


@dataclass(slots=True)
class _Patrol:
    number: int
    points: Sequence[PatrolPoint]
    start: float
    origin: Window
    length: float = 0.0

    def __post_init__(self) -> None:
        self.length = sum(transition_time(p.speed) + p.dwell for p in self.points)

    def at(self, clock: float) -> tuple[Window, int]:
        """Where the patrol is at ``clock``, and the index of the point it heads for or
        dwells at: a pure function of the time since its start (it loops)."""
        elapsed = (clock - self.start) % self.length if self.length > 0 else 0.0
        previous = self.points[-1].window if clock - self.start >= self.length else self.origin
        for index, point in enumerate(self.points):
            moving = transition_time(point.speed)
            if elapsed < moving:
                return lerp(previous, point.window, elapsed / moving), index
            elapsed -= moving
            if elapsed < point.dwell:
                return point.window, index
            elapsed -= point.dwell
            previous = point.window
        return self.points[-1].window, len(self.points) - 1


@dataclass(slots=True)
class _Replay:
    number: int
    steps: Sequence[Step]
    length: float
    start: float
    done: int = 0


@dataclass(slots=True)
class _Recording:
    start: float
    origin: Window
    steps: list[Step] = field(default_factory=list)
    #: When it stopped taking moves (full: ``PATTERN_MOVES`` or ``PATTERN_SECONDS``).
    closed: float | None = None

    def close(self, clock: float) -> None:
        if self.closed is None:
            self.closed = clock
            _LOGGER.warning(
                "a pattern recording is full (%d moves or %g s): save it; later moves are "
                "not recorded",
                PATTERN_MOVES,
                PATTERN_SECONDS,
            )


@dataclass(frozen=True, slots=True)
class Recorded:
    """A finished pattern recording: where it started, its steps and its length (s)."""

    origin: Window
    steps: tuple[Step, ...]
    length: float


class PtzMotion:
    """One channel's ePTZ window and what moves it; the step its image chain runs at
    ``ORDER`` (after the privacy mask, before OSD and overlay: the mask hides pixels in the
    picture's own coordinates before the crop, what is drawn is drawn on the view).

    ``notify`` is called (from the thread that caused it) when what the status shows changed:
    a patrol or pattern started or ended, a recording started or stopped.

    With a ``size`` the window's output has that size and shape (an ePTZ channel over a
    panorama): its ``extent`` follows from the pictures' size at the first frame (and at any
    change of it), and the window is kept inside the picture with it.
    """

    ORDER: ClassVar[int] = 550

    def __init__(self, options: Mapping[str, Any], notify: Callable[[], None]) -> None:
        self.enabled: bool = bool(options["enabled"])
        self.max_zoom: float = float(options["max_zoom"])
        size = options.get("size")
        self.size: tuple[int, int] | None = (int(size[0]), int(size[1])) if size else None
        self._start: Mapping[str, float] | None = options.get("start")
        self._notify = notify
        #: The window's extent and the picture's pixels per output pixel at zoom 1, for
        #: pictures of ``_input`` (set at the first frame).
        self._extent: Extent = UNKNOWN if self.size else FULL
        self._scale = 1.0
        self._input: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._window = Window()
        self._move = Move()
        self._clock = 0.0
        self._last_pts: float | None = None
        self._patrol: _Patrol | None = None
        self._replay: _Replay | None = None
        self._recording: _Recording | None = None
        #: The preset the window was last sent to (``None`` once it moved otherwise).
        self.preset: int | None = None
        #: The channel's saved presets, patrols and patterns (``PtzBook.of``), for its controls.
        self.catalogue: Callable[[], Mapping[str, Mapping[str, Any]]] = lambda: {
            "presets": {},
            "patrols": {},
            "patterns": {},
        }

    # ----------------------------------------------------------------- any thread

    @property
    def active(self) -> bool:
        """Whether the channel's pictures go through the window (its streams re-encode)."""
        return self.enabled

    @property
    def window(self) -> Window:
        with self._lock:
            return self._window

    @property
    def extent(self) -> Extent:
        """The window's width and height at zoom 1 in fractions of the picture."""
        with self._lock:
            return self._extent

    @property
    def fitted(self) -> bool:
        """Whether the window's extent is known: always for an output of the picture's shape,
        from the first frame on for one of its own ``size``."""
        with self._lock:
            return self._extent != UNKNOWN

    @property
    def pixel_scale(self) -> float:
        """The picture's pixels per output pixel at zoom 1 (count pixel)."""
        with self._lock:
            return self._scale

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size of the window's output for pictures of ``width`` x ``height``."""
        return self.size or (width, height)

    @property
    def clock(self) -> float:
        """The pictures' time of the newest frame, in seconds (the clock moves run on)."""
        with self._lock:
            return self._clock

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                **self._window.as_dict(),
                "moving": not self._move.still,
                "patrol": self._patrol.number if self._patrol else None,
                "pattern": self._replay.number if self._replay else None,
                "recording": self._recording is not None,
                # When the running patrol or pattern started, on the pictures' clock.
                "since": _since(self._patrol or self._replay),
            }

    def changed(self) -> None:
        """Say the channel's controls changed (a preset, patrol or pattern saved or deleted)."""
        self._notify()

    def move(self, move: Move) -> None:
        """Start (or, all axes zero, stop) a continuous move; ends a patrol or pattern."""
        with self._lock:
            changed = self._end_programs() or self.preset is not None
            self.preset = None
            self._record(move)
            self._move = move
        if changed:
            self._notify()

    def goto(self, window: Window, preset: int | None = None) -> Window:
        """Jump to ``window`` (clamped to the picture; ``preset`` when it is one) and stop;
        ends a patrol or pattern. Returns where the window now is."""
        with self._lock:
            window = window.clamped(self.max_zoom, self._extent)
            changed = self._end_programs() or self.preset != preset
            self.preset = preset
            self._move = Move()
            self._window = window
            self._record(window)
        if changed:
            self._notify()
        return window

    def patrol(self, number: int, points: Sequence[PatrolPoint]) -> None:
        """Run a patrol from the newest frame on: to each point in turn at its speed
        (``transition_time``), dwell there, then from the last back to the first, until
        stopped."""
        with self._lock:
            points = [
                PatrolPoint(p.window.clamped(self.max_zoom, self._extent), p.dwell, p.speed)
                for p in points
            ]
            self._end_programs()
            self.preset = None
            self._move = Move()
            self._patrol = _Patrol(number, points, self._clock, self._window)
        self._notify()

    def replay(self, number: int, pattern: Recorded) -> None:
        """Replay a recorded pattern once from the newest frame on: jump to where it started,
        then each step at its time."""
        with self._lock:
            self._end_programs()
            self.preset = None
            self._move = Move()
            self._window = pattern.origin.clamped(self.max_zoom, self._extent)
            self._replay = _Replay(number, pattern.steps, pattern.length, self._clock)
        self._notify()

    def stop_programs(self) -> bool:
        """End a running patrol or pattern (the window stays where it is); True if one ran."""
        with self._lock:
            changed = self._end_programs()
            self._move = Move()
        if changed:
            self._notify()
        return changed

    def start_recording(self) -> None:
        """Record the moves from now on, from where the window is."""
        with self._lock:
            self._recording = _Recording(self._clock, self._window)
        self._notify()

    def stop_recording(self) -> Recorded | None:
        """End the recording: the pattern (``None`` when none was recording)."""
        with self._lock:
            recording, self._recording = self._recording, None
            if recording is None:
                return None
            end = self._clock if recording.closed is None else recording.closed
            length = max(0.0, end - recording.start)
        self._notify()
        return Recorded(recording.origin, tuple(recording.steps), length)

    def _end_programs(self) -> bool:
        """Caller holds the lock."""
        changed = self._patrol is not None or self._replay is not None
        self._patrol = None
        self._replay = None
        return changed

    def _record(self, step: Move | Window) -> None:
        """Caller holds the lock: a recording keeps the step at the newest frame's time."""
        rec = self._recording
        if rec is None or rec.closed is not None:
            return
        rec.steps.append((self._clock - rec.start, step))
        if len(rec.steps) >= PATTERN_MOVES:
            rec.close(self._clock)  # full: what it holds is kept for the save

    # ----------------------------------------------------------------- worker thread

    def process(self, frame: Frame) -> Frame:
        """Advance the clock to ``frame`` and move the window, then crop the frame to it."""
        ended = False
        with self._lock:
            if (frame.width, frame.height) != self._input:
                self._fit(frame.width, frame.height)
            dt = self._tick(frame.pts)
            if self._patrol is not None:
                at, _ = self._patrol.at(self._clock)  # its points may predate the extent
                self._window = at.clamped(self.max_zoom, self._extent)
            elif self._replay is not None:
                ended = self._replay_step(dt)
            elif not self._move.still:
                moved = self._move.advance(self._window, dt, self._extent)
                self._window = moved.clamped(self.max_zoom, self._extent)
            rec = self._recording
            if rec is not None and self._clock - rec.start >= PATTERN_SECONDS:
                rec.close(rec.start + PATTERN_SECONDS)
            window, extent = self._window, self._extent
        if ended:
            self._notify()
        return crop(frame, window, extent, self.size)

    def _fit(self, width: int, height: int) -> None:
        """Caller holds the lock: the extent for pictures of this size; at the first, the
        window goes to ``start`` unless a command moved it already."""
        first = self._input is None
        self._input = (width, height)
        self._extent = extent_for(self.size, width, height)
        out_w = self.size[0] if self.size else width
        self._scale = self._extent[0] * width / out_w
        if first and self._start is not None and self._window == Window():
            self._window = fit_area(self._start, self._extent, self.max_zoom)
        self._window = self._window.clamped(self.max_zoom, self._extent)

    def _tick(self, pts: float) -> float:
        last, self._last_pts = self._last_pts, pts
        dt = 0.0 if last is None else pts - last
        if not 0.0 <= dt <= MAX_STEP:
            dt = 0.0  # a reconnect restarted the timestamps: no time passed for the window
        self._clock += dt
        return dt

    def _replay_step(self, dt: float) -> bool:
        """Caller holds the lock: the replay's moves up to now, then the current move for
        ``dt``; True when the pattern ended."""
        replay = self._replay
        assert replay is not None
        elapsed = self._clock - replay.start
        # A step was recorded at the clock of the frame before it took effect: it applies on
        # the first frame after its time, before that frame's motion, as when it was made.
        steps = replay.steps
        while replay.done < len(steps) and steps[replay.done][0] < elapsed - 1e-6:
            _, step = steps[replay.done]
            if isinstance(step, Move):
                self._move = step
            else:
                self._move = Move()
                self._window = step.clamped(self.max_zoom, self._extent)
            replay.done += 1
        if not self._move.still:
            moved = self._move.advance(self._window, dt, self._extent)
            self._window = moved.clamped(self.max_zoom, self._extent)
        if elapsed >= replay.length:
            self._replay = None
            self._move = Move()
            return True
        return False


def _since(program: _Patrol | _Replay | None) -> float | None:
    return round(program.start, 6) if program is not None else None


__all__ = ["PAN_RATE", "ZOOM_RATE", "Move", "PatrolPoint", "PtzMotion", "Recorded", "Step"]
