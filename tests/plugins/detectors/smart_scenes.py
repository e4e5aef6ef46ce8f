"""Smart-event scenes with ground truth: people crossing lines, entering, loitering in and leaving regions, among distractors; and their scoring.

Drawn directly at the 320x180 detect size (5 pictures a second) on a seeded, randomly textured
background, with sensor noise. A person is a 12x36 pixel silhouette (about 48x144 at 720p) of
a grey that stands out from the background by 40 to 90 levels, walking at 15 to 45 pixels a
second (0.6 to 1.8 m/s at that scale). Every scene has noise; according to its seed it also
has one of: a global brightness step, one-pixel camera shake, a small object (4x4: below the
rules' size filter) or a large one (120x90: above it) crossing the same line or region.

Ground truth is computed from the person's drawn box with the same geometry the detectors
use (``Line.share_b``, ``Region.share_inside``): a crossing is when the required share of the
true box is across; an intrusion alarm is due ``threshold`` seconds after the true box first
has the required share inside. A scene repeats exactly (seeded), so a figure in the docs can
be reproduced with ``bench/smart_accuracy.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase

Plane = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]

DETECT = (320, 180)
FPS = 5.0
#: Pictures before the person appears: the tracker learns its background.
WARM_UP = 10
PERSON = (12, 36)
#: Size filter of every rule in the scenes: a person passes, the distractors do not.
SIZE_FILTER = {"min": [0.02, 0.08], "max": [0.25, 0.45]}
DISTRACTORS = ("none", "brightness", "shake", "small", "large")


@dataclass(frozen=True, slots=True)
class Scene:
    """A clip and what a detector should report on it."""

    seed: int
    distractor: str
    pictures: tuple[Plane, ...]
    options: dict[str, Any]
    #: line crossing: (time, direction) of each crossing; intrusion: (alarm time, "") or none
    truth: tuple[tuple[float, str], ...]
    person_boxes: tuple[tuple[float, float, float, float] | None, ...] = field(repr=False)


def _background(rng: np.random.Generator, margin: int) -> Floats:
    width, height = DETECT[0] + 2 * margin, DETECT[1] + 2 * margin
    coarse = rng.uniform(60, 190, (6, 10)).astype(np.float32)
    img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    detail = rng.normal(0, 10.0, (height // 2 + 1, width // 2 + 1)).astype(np.float32)
    img += cv2.resize(detail, (width, height))[:height, :width]
    for _ in range(12):
        x, y = int(rng.integers(0, width - 10)), int(rng.integers(0, height - 10))
        w, h = int(rng.integers(3, 30)), int(rng.integers(3, 30))
        img[y : y + h, x : x + w] = float(rng.uniform(50, 200))
    return np.ascontiguousarray(np.clip(img, 40, 210), dtype=np.float32)


def _draw(img: Floats, box: tuple[float, float, float, float], colour: float) -> None:
    """A person-like silhouette (head, body, legs) filling ``box``."""
    x, y, w, h = (round(v) for v in box)
    head = max(2, h // 6)
    cv2.ellipse(
        img, (x + w // 2, y + head // 2), (max(1, w // 4), max(1, head // 2)), 0, 0, 360, colour, -1
    )
    cv2.rectangle(img, (x, y + head), (x + w - 1, y + (2 * h) // 3), colour, -1)
    cv2.rectangle(img, (x + 1, y + (2 * h) // 3), (x + w // 2 - 2, y + h - 1), colour, -1)
    cv2.rectangle(img, (x + w // 2 + 1, y + (2 * h) // 3), (x + w - 2, y + h - 1), colour, -1)


def _colour(background: Floats, person: Path, seconds: float) -> float:
    """Black or white, whichever stands out more from the background along the whole walk
    (the background is 40..210: at least 30 grey levels of contrast everywhere)."""
    xs, ys = [], []
    for k in range(int(seconds * FPS)):
        where = person(k / FPS)
        if where is not None:
            xs.append(where[0])
            ys.append(where[1])
    if not xs:
        return 10.0
    x0, x1 = max(0, round(min(xs))), max(1, round(max(xs)) + PERSON[0])
    y0, y1 = max(0, round(min(ys))), max(1, round(max(ys)) + PERSON[1])
    return 10.0 if float(background[y0:y1, x0:x1].mean()) > 125 else 245.0


Path = Callable[[float], tuple[float, float] | None]


def render(
    rng: np.random.Generator,
    distractor: str,
    person: Path,
    seconds: float,
    extra: Path | None,
) -> tuple[tuple[Plane, ...], tuple[tuple[float, float, float, float] | None, ...]]:
    """The pictures of a scene: the person's top-left from ``person(t)`` (``None``: absent),
    the distractor drawn from ``extra(t)`` (small or large object), noise and the rest."""
    margin = 2
    base = _background(rng, margin)
    colour = _colour(base, person, seconds)
    extra_size = (4, 4) if distractor == "small" else (120, 90)
    extra_colour = float(rng.choice([20.0, 235.0]))
    sigma = float(rng.uniform(1.0, 2.5))
    gain_at = float(rng.uniform(2.0, max(2.5, seconds - 2.0)))
    gain = float(rng.choice([0.7, 0.8, 1.2, 1.3]))
    pictures: list[Plane] = []
    boxes: list[tuple[float, float, float, float] | None] = []
    for index in range(WARM_UP + int(seconds * FPS)):
        dx = dy = 0
        if distractor == "shake" and index > 0:
            dx, dy = (int(v) for v in rng.integers(-1, 2, 2))
        img = base[
            margin + dy : margin + dy + DETECT[1], margin + dx : margin + dx + DETECT[0]
        ].copy()
        t = (index - WARM_UP) / FPS
        box = None
        if index >= WARM_UP:
            if extra is not None and distractor in ("small", "large"):
                where = extra(t)
                if where is not None:
                    ex, ey = where
                    cv2.rectangle(
                        img,
                        (round(ex), round(ey)),
                        (round(ex) + extra_size[0] - 1, round(ey) + extra_size[1] - 1),
                        extra_colour,
                        -1,
                    )
            position = person(t)
            if position is not None:
                box = (position[0], position[1], float(PERSON[0]), float(PERSON[1]))
                _draw(img, box, colour)
            if distractor == "brightness" and t >= gain_at:
                img *= gain
        img += rng.normal(0, sigma, img.shape).astype(np.float32)
        pictures.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
        boxes.append(box)
    return tuple(pictures), tuple(boxes)


def run(detector: Detector, pictures: tuple[Plane, ...]) -> list[Event]:
    """Feed a clip; the NEW events, with their ``start`` in scene time (0 = first picture
    after the warm-up)."""
    found = []
    for index, picture in enumerate(pictures):
        timestamp = 1000.0 + index / FPS
        for phase, event in detector.process(picture, timestamp):
            if phase is EventPhase.NEW:
                found.append(event)
    origin = 1000.0 + WARM_UP / FPS
    return [
        Event(event.channel, event.type, event.start - origin, event.id, event.end, event.data)
        for event in found
    ]


def make(detector_class: Any, options: dict[str, Any]) -> Detector:
    detector: Detector = detector_class(
        detector_class.CONFIG_SCHEMA(options), DetectorContext("eval", *DETECT, FPS)
    )
    return detector


@dataclass(slots=True)
class Tally:
    """Matched, missed and false events over many scenes, wrong directions, timing errors."""

    scenes: int = 0
    truth: int = 0
    found: int = 0
    matched: int = 0
    wrong_direction: int = 0
    timing: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.matched / self.found if self.found else 1.0

    @property
    def worst_timing(self) -> float:
        return max(self.timing, default=0.0)

    def add(self, scene: Scene, events: list[Event], window: float, timed: bool) -> None:
        """Match events to the truth, each once, nearest in time within ``window`` s."""
        self.scenes += 1
        self.truth += len(scene.truth)
        self.found += len(events)
        left = list(events)
        for when, direction in scene.truth:
            near = [e for e in left if abs(e.start - when) <= window]
            if not near:
                continue
            best = min(near, key=lambda e: abs(e.start - when))
            left.remove(best)
            self.matched += 1
            if direction and best.data.get("direction") != direction:
                self.wrong_direction += 1
            if timed:
                self.timing.append(abs(best.start - when))


def _walk(
    start: tuple[float, float], end: tuple[float, float], speed: float, back: bool
) -> tuple[Path, float]:
    """A straight walk from ``start`` to ``end`` at ``speed`` px/s (and, with ``back``, back to
    the start); its duration."""
    length = float(np.hypot(end[0] - start[0], end[1] - start[1]))
    one_way = length / speed

    def at(t: float) -> tuple[float, float] | None:
        if t < 0:
            return None
        if back and t > one_way:
            t = max(0.0, 2 * one_way - t)
        elif t > one_way:
            return None
        f = t / one_way
        return start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1])

    return at, (2 * one_way if back else one_way)


def line_scene(seed: int) -> Scene:
    """A person walks across a line (or, one scene in five, up to it and back); the line is
    upright or level, tilted, its points in either order; a distractor by the seed."""
    from camera_runtime_plugins.detectors.smart_rules import Line, Sides, required_share
    from camera_runtime_plugins.detectors.tracker import Track

    rng = np.random.default_rng(5000 + seed)
    distractor = DISTRACTORS[seed % len(DISTRACTORS)]
    upright = bool(rng.integers(0, 2))
    sensitivity = int(rng.choice([30, 50, 70]))
    speed = float(rng.uniform(15, 45))
    turn_back = rng.uniform() < 0.2
    forward = bool(rng.integers(0, 2))
    w, h = DETECT
    if upright:
        at = rng.uniform(0.35, 0.65) * w
        tilt = rng.uniform(-0.08, 0.08) * w
        points = [[(at - tilt) / w, 0.02], [(at + tilt) / w, 0.98]]
        y = float(rng.uniform(20, h - PERSON[1] - 20))
        near, far = at - 60 - PERSON[0], at + 60
        if turn_back:
            far = at - PERSON[0] - 25
        start, end = (near, y), (far, y)
    else:
        at = rng.uniform(0.4, 0.6) * h
        tilt = rng.uniform(-0.05, 0.05) * h
        points = [[0.02, (at - tilt) / h], [0.98, (at + tilt) / h]]
        x = float(rng.uniform(40, w - PERSON[0] - 40))
        near, far = 2.0, h - PERSON[1] - 2.0
        if turn_back:
            far = at - PERSON[1] - 15
        start, end = (x, near), (x, far)
    if not forward and not turn_back:
        start, end = end, start
    if rng.integers(0, 2):
        points = [points[1], points[0]]
    person, seconds = _walk(start, end, speed, turn_back)
    seconds += 1.0
    extra = None
    if distractor == "small":  # beside the person, crossing the line as well
        if upright:
            extra, _ = _walk((at - 80, y + 50), (at + 70, y + 50), speed, False)
        else:
            extra, _ = _walk((x + 60, 2.0), (x + 60, h - 6.0), speed, False)
    elif distractor == "large":  # after the person, so the two never merge into one blob
        if upright:
            ey = float(rng.uniform(0, h - 90))
            walk, more = _walk((at - 190, ey), (at + 70, ey), 80.0, False)
        else:
            ex = float(rng.uniform(0, w - 120))
            walk, more = _walk((ex, -90.0), (ex, h + 0.0), 80.0, False)
        start_at = seconds

        def extra(t: float) -> tuple[float, float] | None:
            return walk(t - start_at)

        seconds += more
    pictures, boxes = render(rng, distractor, person, seconds, extra)
    options = {
        "rules": [
            {
                "line": points,
                "direction": "A<->B",
                "sensitivity": sensitivity,
                "size_filter": SIZE_FILTER,
            }
        ]
    }
    line = Line(points, w, h)
    sides = Sides(required_share(sensitivity))
    truth = []
    for index, box in enumerate(boxes):
        if box is None:
            continue
        crossed = sides.observe(0, line.share_b(Track(0, box, 0.0, 0.0)))
        if crossed:
            truth.append(((index - WARM_UP) / FPS, crossed))
    return Scene(seed, distractor, pictures, options, tuple(truth), boxes)


def _loiter(
    rng: np.random.Generator, inside: tuple[float, float], y: float, dwell: float, speed: float
) -> tuple[Path, float]:
    """Walk in from the left edge to ``inside[0]``, wander (and stand still now and then)
    between ``inside[0]`` and ``inside[1]`` for ``dwell`` seconds, walk out to the right."""
    left, right = inside
    enter, t_in = _walk((-PERSON[0] - 2.0, y), (left, y), speed, False)
    leave, t_out = _walk((right, y), (DETECT[0] + 2.0, y), speed, False)
    # the wander: a still spell, then a walk to the right end of the range, and so on
    still = float(rng.uniform(0.5, 2.0))
    cross = (right - left) / speed

    def wander(t: float) -> tuple[float, float]:
        period = still + cross
        k, r = divmod(t, period)
        going_right = int(k) % 2 == 0
        f = 0.0 if r < still else (r - still) / cross
        x = left + (right - left) * (f if going_right else 1.0 - f)
        return x, y

    # the wander ends where the leave begins
    periods = max(1, round(dwell / (still + cross)))
    if periods % 2 == 0:
        periods += 1
    stay = periods * (still + cross)

    def at(t: float) -> tuple[float, float] | None:
        if t < t_in:
            return enter(t)
        if t < t_in + stay:
            return wander(t - t_in)
        return leave(t - t_in - stay)

    return at, t_in + stay + t_out


def region_scene(seed: int, kind: str) -> Scene:
    """A person walks into a region, loiters there (walking and standing still) and walks out;
    ``kind`` (``intrusion``, ``region_entrance``, ``region_exiting``) picks the truth and the
    options (an intrusion threshold of 0 to 4 s)."""
    from camera_runtime_plugins.detectors.smart_rules import Region, Sides, required_share
    from camera_runtime_plugins.detectors.tracker import Track

    rng = np.random.default_rng(9000 + seed)
    distractor = DISTRACTORS[seed % len(DISTRACTORS)]
    w, h = DETECT
    rx0, rx1 = rng.uniform(0.3, 0.4) * w, rng.uniform(0.6, 0.7) * w
    ry0, ry1 = rng.uniform(0.05, 0.15) * h, rng.uniform(0.85, 0.95) * h
    j = lambda: float(rng.uniform(-6, 6))  # noqa: E731
    region = [
        [(rx0 + j()) / w, (ry0 + j()) / h],
        [(rx1 + j()) / w, (ry0 + j()) / h],
        [(rx1 + j()) / w, (ry1 + j()) / h],
        [(rx0 + j()) / w, (ry1 + j()) / h],
    ]
    sensitivity = int(rng.choice([30, 50, 70]))
    threshold = float(rng.choice([0.0, 1.0, 2.0, 3.0, 4.0]))
    dwell = float(rng.uniform(1.0, 8.0))
    speed = float(rng.uniform(20, 45))
    y = float(rng.uniform(ry0 + 10, ry1 - PERSON[1] - 10))
    person, seconds = _loiter(rng, (rx0 + 10, rx1 - PERSON[0] - 10), y, dwell, speed)
    seconds += 2.0
    extra = None
    if distractor == "small":
        extra, _ = _walk((-6.0, y + 45 if y < h / 2 else y - 20), (w + 2.0, y), speed, False)
    elif distractor == "large":
        walk, more = _walk((-122.0, float(rng.uniform(0, h - 90))), (w + 2.0, 40.0), 80.0, False)
        start_at = seconds

        def extra(t: float) -> tuple[float, float] | None:
            return walk(t - start_at)

        seconds += more
    pictures, boxes = render(rng, distractor, person, seconds, extra)
    rule: dict[str, Any] = {
        "region": region,
        "sensitivity": sensitivity,
        "size_filter": SIZE_FILTER,
    }
    if kind == "intrusion":
        rule["threshold"] = threshold
    shape = Region(region, w, h)
    required = required_share(sensitivity)
    sides = Sides(required)
    truth: list[tuple[float, str]] = []
    since: float | None = None
    raised = False
    for index, box in enumerate(boxes):
        t = (index - WARM_UP) / FPS
        if box is None:
            continue
        share = shape.share_inside(Track(0, box, 0.0, 0.0))
        if kind == "intrusion":
            if since is None and share >= required:
                since, raised = t, False
            elif since is not None and share < required / 2:
                since = None
            if since is not None and not raised and t - since >= threshold:
                truth.append((since + threshold, ""))
                raised = True
        else:
            crossed = sides.observe(0, share)
            if crossed == ("A->B" if kind == "region_entrance" else "B->A"):
                truth.append((t, ""))
    return Scene(seed, distractor, pictures, {"rules": [rule]}, tuple(truth), boxes)
