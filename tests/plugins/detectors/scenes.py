"""Synthetic luma pictures for detector tests: a textured scene, sensor noise, moving rectangles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase
from camera_runtime_plugins.detectors.motion import MotionDetector

Plane = npt.NDArray[np.uint8]
Changes = list[tuple[EventPhase, Event]]


@dataclass(frozen=True)
class Rect:
    """A rectangle in detect pixels. ``value`` paints it a fixed grey; ``delta`` instead adds
    to the scene beneath it (a faint object of that contrast)."""

    x: float
    y: float
    w: int
    h: int
    value: int | None = 20
    delta: int | None = None


@dataclass
class Scene:
    """A static textured scene (smooth shapes plus fine detail, grey 40..210) at detect size.

    ``picture`` adds fresh Gaussian sensor noise on every call (seeded, so runs repeat) and
    can scale the whole picture (``gain``) as a light change or exposure change would.
    """

    width: int = 320
    height: int = 180
    noise: float = 2.0
    seed: int = 0
    base: npt.NDArray[np.float32] = field(init=False)
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        coarse = rng.uniform(50, 200, (9, 16)).astype(np.float32)
        smooth = cv2.resize(coarse, (self.width, self.height), interpolation=cv2.INTER_CUBIC)
        detail = cv2.GaussianBlur(
            rng.normal(0, 12, (self.height, self.width)).astype(np.float32), (3, 3), 0
        )
        self.base = np.clip(smooth + detail, 40, 210).astype(np.float32)
        self._rng = np.random.default_rng(self.seed + 1)

    def picture(self, objects: Iterable[Rect] = (), gain: float = 1.0) -> Plane:
        img = self.base * gain
        for r in objects:
            x, y = round(r.x), round(r.y)
            region = img[max(0, y) : y + r.h, max(0, x) : x + r.w]
            if r.delta is not None:
                region += r.delta
            else:
                region[...] = r.value if r.value is not None else 0
        if self.noise:
            img = img + self._rng.normal(0, self.noise, img.shape).astype(np.float32)
        return np.clip(img, 0, 255).astype(np.uint8)


def make_detector(
    options: dict[str, Any] | None = None,
    *,
    width: int = 320,
    height: int = 180,
    fps: float = 10.0,
    channel: str = "cam",
) -> MotionDetector:
    """A motion detector whose options went through its schema, as the core passes them."""
    validated = MotionDetector.CONFIG_SCHEMA(options or {})
    return MotionDetector(validated, DetectorContext(channel, width, height, fps))


def run(
    detector: Detector,
    scene: Scene,
    start: float,
    seconds: float,
    objects: Callable[[float], Sequence[Rect]] = lambda t: (),
    fps: float = 10.0,
    gain: Callable[[float], float] = lambda t: 1.0,
) -> Changes:
    """Feed ``seconds`` of pictures at ``fps`` from wall time ``start``; ``objects(t)`` and
    ``gain(t)`` get the time since ``start``. Returns every event change, in order."""
    changes: Changes = []
    for i in range(round(seconds * fps)):
        t = i / fps
        picture = scene.picture(objects(t), gain(t))
        changes += detector.process(picture, start + t)
    return changes


def walker(
    t0: float,
    t1: float,
    start: tuple[float, float] = (20, 70),
    end: tuple[float, float] = (280, 70),
    size: tuple[int, int] = (24, 40),
    **rect: Any,
) -> Callable[[float], list[Rect]]:
    """An object moving in a straight line from ``start`` to ``end`` between ``t0`` and
    ``t1`` seconds; it stands still (at its start or end) outside that time."""

    def objects(t: float) -> list[Rect]:
        k = min(1.0, max(0.0, (t - t0) / (t1 - t0)))
        x = start[0] + (end[0] - start[0]) * k
        y = start[1] + (end[1] - start[1]) * k
        return [Rect(x, y, size[0], size[1], **rect)]

    return objects


def phases(changes: Changes) -> list[str]:
    return [phase.value for phase, _ in changes]
