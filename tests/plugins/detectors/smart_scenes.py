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


#: Static-object scenes' distractors: as above, plus someone passing through the region, a
#: lamp lighting a patch of it with nobody near, and the other static event (an object taken
#: away in a baggage scene, one left in a removal scene: no event due).
STATIC_DISTRACTORS = ("none", "brightness", "shake", "passer", "lamp", "other")
#: Size filter of the static-object rules: a bag passes, a person (36 pixels high) does not.
BAG_FILTER = {"min": [0.015, 0.02], "max": [0.1, 0.15]}


def static_scene(seed: int, kind: str) -> Scene:
    """A person walks up to a spot carrying a bag, puts it down and walks away
    (``unattended_baggage``), or walks up to an object standing there and carries it away
    (``object_removal``); a distractor by the seed (``STATIC_DISTRACTORS``). The truth: the
    moment the person sets off without the bag (or has carried the object off its spot), plus
    the rule's threshold (2 to 6 s); none in an ``other`` scene."""
    rng = np.random.default_rng(13000 + seed)
    distractor = STATIC_DISTRACTORS[seed % len(STATIC_DISTRACTORS)]
    w, h = DETECT
    margin = 2
    base = _background(rng, margin)
    ow, oh = int(rng.integers(8, 15)), int(rng.integers(6, 13))
    ox, oy = float(rng.integers(110, 200)), float(rng.integers(60, 140 - oh))
    left = (kind == "unattended_baggage") != (distractor == "other")
    py = oy + oh - PERSON[1]
    speed_in, speed_out = float(rng.uniform(20, 45)), float(rng.uniform(25, 45))
    walk_in, t_in = _walk((-PERSON[0] - 2.0, py), (ox - PERSON[0], py), speed_in, False)
    pause = float(rng.uniform(0.6, 1.2))
    walk_out, _ = _walk((ox - PERSON[0], py), (-PERSON[0] - 2.0, py), speed_out, False)
    threshold = float(rng.choice([2.0, 3.0, 4.0, 5.0, 6.0]))
    set_off = t_in + pause
    seconds = set_off + threshold + 3.0
    patch = (ox + ow + 10, oy - 10, 24.0, 20.0)  # beside the object, in the region
    spot = base[round(oy) : round(oy) + oh, round(ox) : round(ox) + ow]
    colour = 10.0 if float(spot.mean()) > 125 else 245.0
    person_colour = 10.0 if colour > 125 else 245.0
    passer_y = float(py - PERSON[1] - 4 if py > 60 else py + PERSON[1] + 4)
    passer, _ = _walk((w + 2.0, passer_y), (-PERSON[0] - 2.0, passer_y), 35.0, False)
    passer_at = float(rng.uniform(set_off + 0.5, set_off + threshold))
    lamp_at = float(rng.uniform(set_off + 0.5, set_off + threshold))
    sigma = float(rng.uniform(1.0, 2.5))
    gain_at = float(rng.uniform(1.0, seconds - 1.0))
    gain = float(rng.choice([0.7, 0.8, 1.2, 1.3]))
    pictures: list[Plane] = []
    boxes: list[tuple[float, float, float, float] | None] = []
    for index in range(WARM_UP + int(seconds * FPS)):
        t = (index - WARM_UP) / FPS
        img = base.copy()
        box = None
        if t < 0:
            person_at = None
        elif t < t_in:
            person_at = walk_in(t)
        elif t < set_off:
            person_at = (ox - PERSON[0], py)
        else:
            person_at = walk_out(t - set_off)
        # the object: carried at the person's side (a bag until set down, a taken object
        # from then on), standing on its spot otherwise (from the start if it is taken)
        where: tuple[float, float] | None = None
        if person_at is not None and left == (t < set_off):
            where = (person_at[0] + PERSON[0], oy)
        elif (left and t >= set_off) or (not left and t < set_off):
            where = (ox, oy)
        if where is not None:
            x, y = round(where[0]) + margin, round(where[1]) + margin
            cv2.rectangle(img, (x, y), (x + ow - 1, y + oh - 1), colour, -1)
        if person_at is not None:
            box = (person_at[0], person_at[1], float(PERSON[0]), float(PERSON[1]))
            _draw(img, (box[0] + margin, box[1] + margin, box[2], box[3]), person_colour)
        if distractor == "passer" and t >= passer_at:
            passing = passer(t - passer_at)
            if passing is not None:
                x0, y0 = passing[0] + margin, passing[1] + margin
                _draw(img, (x0, y0, float(PERSON[0]), float(PERSON[1])), colour)
        if distractor == "lamp" and t >= lamp_at:
            x, y, pw, ph = (round(v) + margin for v in patch)
            img[y : y + ph, x : x + pw] *= 1.3
        dx = dy = 0
        if distractor == "shake" and index > 0:
            dx, dy = (int(v) for v in rng.integers(-1, 2, 2))
        img = img[margin + dy : margin + dy + h, margin + dx : margin + dx + w].copy()
        if distractor == "brightness" and t >= gain_at:
            img *= gain
        img += rng.normal(0, sigma, img.shape).astype(np.float32)
        pictures.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
        boxes.append(box)
    j = lambda: float(rng.uniform(-4, 4))  # noqa: E731
    rx0, rx1 = ox - float(rng.uniform(15, 30)), ox + ow + float(rng.uniform(15, 30))
    ry0, ry1 = oy - float(rng.uniform(10, 25)), oy + oh + float(rng.uniform(10, 25))
    region = [
        [max(0.0, rx0 + j()) / w, max(0.0, ry0 + j()) / h],
        [min(w, rx1 + j()) / w, max(0.0, ry0 + j()) / h],
        [min(w, rx1 + j()) / w, min(h, ry1 + j()) / h],
        [max(0.0, rx0 + j()) / w, min(h, ry1 + j()) / h],
    ]
    rule = {
        "region": region,
        "threshold": threshold,
        "sensitivity": int(rng.choice([30, 50, 70])),
        "size_filter": BAG_FILTER,
    }
    # left: when the person sets off; taken: when no part of the object is left on its spot
    gone = set_off if left else set_off + ow / speed_out
    truth = () if distractor == "other" else ((gone + threshold, ""),)
    return Scene(seed, distractor, tuple(pictures), {"rules": [rule]}, truth, tuple(boxes))
