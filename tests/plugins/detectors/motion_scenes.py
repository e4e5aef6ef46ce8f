"""Motion accuracy scenes with ground truth (faint and ordinary walkers, quiet, light steps, shake) and their scoring.

Each scene is drawn at 1280x720 (the size the issue measured at), shrunk to the 320x180 detect
picture with the channel's own ``downscale_luma``, and given sensor noise at detect size, at the
default 5 detections per second. Ground truth is the walker's box at detect size on every
picture. Used by the detector tests (a few scenes, short) and by ``bench/motion_accuracy.py``
(every scene at several sensitivities, the detector before and after).

A scene repeats exactly (seeded), so a figure in the docs can be reproduced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from camera_runtime.imaging import downscale_luma
from camera_runtime.interfaces import Detector, DetectorContext

Plane = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]
Box = tuple[float, float, float, float]

SOURCE = (1280, 720)
DETECT = (320, 180)
FPS = 5.0
#: Pictures before anything happens: the detector learns its background (not scored).
WARM_UP = 10
#: The walker: a person 170 px tall at 720p (about 1.7 m), 60 px wide, walking at 24 px a
#: picture at 5 fps = 120 px/s (about 1.2 m/s, an ordinary walking pace).
PERSON = (60, 170)
STEP = 24.0
#: Camera shake: every picture the view moves by up to this many pixels at 720p, each way.
SHAKE = 3
#: Global brightness steps, one every 2 s: exposure steps, a lamp, a cloud (gains of the scene).
STEPS = (
    1.0,
    0.93,
    1.0,
    1.06,
    1.0,
    0.8,
    0.8,
    1.15,
    1.0,
    0.6,
    0.6,
    1.0,
    1.25,
    1.0,
    0.88,
    1.0,
    1.1,
    1.0,
)

Background = Literal["textured", "flat"]
Light = Literal["day", "night"]
Kind = Literal["faint", "ordinary", "quiet", "steps", "shake"]


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """One scene: what is behind (``textured`` or ``flat``), the light (``day``, or ``night``: a
    dark, low-contrast grey picture with twice the noise) and what happens (``faint``: a walker
    at 15 % opacity; ``ordinary``: the same walker solid; ``quiet``: nothing, sensor noise only;
    ``steps``: global brightness steps; ``shake``: the camera jitters by up to 3 px at 720p)."""

    background: Background
    light: Light
    kind: Kind
    seed: int = 0

    @property
    def name(self) -> str:
        return f"{self.kind} {self.background} {self.light}"

    @property
    def pictures(self) -> int:
        """Scored pictures after the warm-up: a walker crosses the picture in 56; the quiet and
        shake scenes run 20 s, the brightness steps 35 s (as the issue measured)."""
        if self.kind in ("faint", "ordinary"):
            return int((SOURCE[0] + PERSON[0]) / STEP)
        return 175 if self.kind == "steps" else 100


@dataclass(frozen=True, slots=True)
class Clip:
    """A scene's detect-size pictures (warm-up first) and, for each, the walker's box in detect
    pixels ``(x, y, w, h)`` when any of it is in the picture (else ``None``), and whether at
    least half of it is (``visible``: the pictures recall is counted on)."""

    spec: SceneSpec
    pictures: tuple[Plane, ...]
    truth: tuple[Box | None, ...]
    visible: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Score:
    """``found`` of ``visible`` pictures had a box on the walker; ``false`` of ``scored``
    pictures reported motion elsewhere (any motion while no part of the walker was in the picture)."""

    found: int
    visible: int
    false: int
    scored: int

    @property
    def recall(self) -> float:
        return self.found / self.visible if self.visible else float("nan")

    @property
    def false_rate(self) -> float:
        return self.false / self.scored


def _background(kind: Background, light: Light, rng: np.random.Generator) -> Floats:
    """A still scene at 720p plus a margin for shake. ``textured``: large smooth shapes, detail
    at several scales and sharp-edged blocks (windows, posts, signs), grey 25..230; ``flat``: a
    smooth wall with a faint grain and two sharp edges (a door frame). Night: the same scene
    darker and flatter (``12 + 0.3 x day``), as an IR-lit grey picture is."""
    width, height = SOURCE[0] + 2 * SHAKE, SOURCE[1] + 2 * SHAKE
    if kind == "textured":
        coarse = rng.uniform(50, 200, (9, 16)).astype(np.float32)
        img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        for scale, sigma in ((8, 14.0), (2, 8.0)):
            detail = rng.normal(0, sigma, (height // scale + 1, width // scale + 1))
            img += cv2.resize(detail.astype(np.float32), (width, height))[:height, :width]
        for _ in range(40):
            x, y = int(rng.integers(0, width - 40)), int(rng.integers(0, height - 40))
            w, h = int(rng.integers(8, 120)), int(rng.integers(8, 120))
            img[y : y + h, x : x + w] = float(rng.uniform(30, 220))
        img = np.clip(img, 25, 230)
    else:
        ramp = np.linspace(105, 135, width, dtype=np.float32)[None, :]
        img = np.repeat(ramp, height, axis=0)
        img += rng.normal(0, 2.0, (height, width)).astype(np.float32)
        img[:, 900:906] = 70.0
        img[200:206, 900:1150] = 70.0
    if light == "night":
        img = 12.0 + 0.3 * img
    return np.ascontiguousarray(img, dtype=np.float32)


def _person_mask() -> Floats:
    """The walker's silhouette (body, legs and head) as 0..1 coverage, anti-aliased."""
    w, h = PERSON
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, 14), (11, 14), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.ellipse(mask, (w // 2, 62), (w // 2 - 2, 36), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.rectangle(mask, (w // 2 - 18, 90), (w // 2 - 3, h - 1), 255, -1, cv2.LINE_AA)
    cv2.rectangle(mask, (w // 2 + 3, 90), (w // 2 + 18, h - 1), 255, -1, cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0


def build(spec: SceneSpec) -> Clip:
    """Draw a scene: its detect-size pictures with sensor noise, and the ground truth."""
    rng = np.random.default_rng(1000 + spec.seed)
    base = _background(spec.background, spec.light, rng)
    night = spec.light == "night"
    # sensor noise at detect size: white plus a spatially correlated part (what survives
    # compression and the detector's blur); a night picture has twice as much
    white, correlated = (3.0, 1.4) if night else (1.5, 0.7)
    # dark clothes by day, an IR-lit figure by night: about 15 grey levels at 15 % opacity
    colour, opacity = (160.0, 0.15) if night else (25.0, 0.15)
    if spec.kind == "ordinary":
        opacity = 1.0
    walking = spec.kind in ("faint", "ordinary")
    mask = _person_mask() * opacity
    s = DETECT[0] / SOURCE[0]
    pictures: list[Plane] = []
    truth: list[Box | None] = []
    visible: list[bool] = []
    for index in range(WARM_UP + spec.pictures):
        dx = dy = 0
        if spec.kind == "shake" and index > 0:
            dx, dy = (int(v) for v in rng.integers(-SHAKE, SHAKE + 1, 2))
        view = base[SHAKE + dy : SHAKE + dy + SOURCE[1], SHAKE + dx : SHAKE + dx + SOURCE[0]]
        img = view.copy()
        box, seen = None, False
        if walking and index >= WARM_UP:
            k = index - WARM_UP
            x = -PERSON[0] / 2 + STEP * k
            y = 380 + 6 * np.sin(k * 1.3)  # a little bob, as a walker has
            box = _blend(img, mask, colour, x, float(y))
            seen = box is not None and box[2] * 2 >= PERSON[0]
        if spec.kind == "steps":
            img *= STEPS[(index // int(2 * FPS)) % len(STEPS)]
        small = downscale_luma(np.clip(img, 0, 255).astype(np.uint8), *DETECT)
        noisy = small.astype(np.float32) + rng.normal(0, white, small.shape).astype(np.float32)
        grain = cv2.GaussianBlur(rng.normal(0, 1, small.shape).astype(np.float32), (0, 0), 1.0)
        noisy += grain * (correlated / float(grain.std()))
        pictures.append(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))
        truth.append(None if box is None else (box[0] * s, box[1] * s, box[2] * s, box[3] * s))
        visible.append(seen)
    return Clip(spec, tuple(pictures), tuple(truth), tuple(visible))


def _blend(img: Floats, mask: Floats, colour: float, x: float, y: float) -> Box | None:
    """Draw the walker with its top-left at ``(x, y)`` (720p); the box of what is in the
    picture (``None``: nothing)."""
    h, w = mask.shape
    x0, y0 = round(x), round(y)
    left, right = max(0, x0), min(img.shape[1], x0 + w)
    if right <= left:
        return None
    part = mask[:, left - x0 : right - x0]
    region = img[y0 : y0 + h, left:right]
    region += part * (colour - region)
    return (float(left), float(y0), float(right - left), float(h))


#: A detector factory: options (before validation) -> a detector at detect size and FPS.
Factory = Callable[[dict[str, Any]], Detector]


def factory(detector_class: Any) -> Factory:
    """A factory for a ``MotionDetector`` class (this version's or an older copy's)."""

    def make(options: dict[str, Any]) -> Detector:
        validated = detector_class.CONFIG_SCHEMA(options)
        detector: Detector = detector_class(validated, DetectorContext("eval", *DETECT, FPS))
        return detector

    return make


def findings(detector: Any, pictures: Sequence[Plane]) -> list[Any]:
    """The detector's finding (``None``: no motion) for every picture.

    The motion detector hands each picture's finding to its event tracker (``_events``), which
    turns them into a few events; the evaluation needs them per picture, so it listens there.
    This works the same for the detector before and after issue 17."""
    seen: list[Any] = []
    events = detector._events
    observe = events.observe

    def record(timestamp: float, finding: Any) -> Any:
        seen.append(finding)
        return observe(timestamp, finding)

    events.observe = record
    for index, picture in enumerate(pictures):
        detector.process(picture, 1_750_000_000.0 + index / FPS)
    events.observe = observe
    return seen


def _touches(finding: Any, box: Box) -> bool:
    """Whether a finding has a box overlapping the truth (any finding, without boxes)."""
    if finding.boxes is None:
        return True
    x, y, w, h = box
    for b in finding.boxes:
        bx, by = b.x * DETECT[0], b.y * DETECT[1]
        bw, bh = b.w * DETECT[0], b.h * DETECT[1]
        if bx < x + w and x < bx + bw and by < y + h and y < by + bh:
            return True
    return False


def score(clip: Clip, make: Factory, options: dict[str, Any] | None = None) -> Score:
    """Run a fresh detector over a clip and score it against the truth (warm-up not scored)."""
    seen = findings(make(dict(options or {})), clip.pictures)
    found = visible = false = 0
    for finding, box, shown in list(zip(seen, clip.truth, clip.visible, strict=True))[WARM_UP:]:
        visible += shown
        if finding is None or not finding.areas:
            continue
        if box is not None and _touches(finding, box):
            found += shown
        else:
            false += 1
    return Score(found, visible, false, len(seen) - WARM_UP)


SCENES: tuple[SceneSpec, ...] = tuple(
    SceneSpec(background, light, kind)
    for kind in ("faint", "ordinary", "quiet", "steps", "shake")
    for background in ("textured", "flat")
    for light in ("day", "night")
)
