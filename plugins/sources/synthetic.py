"""The `synthetic` source: a deterministic scene of boxes moving over a texture, for tests and the demo.

Everything is a pure function of the options and the frame index: the same seed gives the same
frames, and ``ground_truth(t)`` says where each object is, so detector tests can compare what
was found with what was drawn. The default scene has quiet gaps between objects crossing it,
so motion events both start and end within one 20 s period.

Rendering is cheap by construction: the background (Y, U and V) is rendered once; a frame is
one copy of it, a few rectangle fills by numpy slicing, and optional noise and illumination
applied with saturating OpenCV adds over windows of a noise field made once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import SourceUnavailableError
from camera_runtime.interfaces import Source
from camera_runtime.model import Box, Frame, Plane, StreamInfo

from . import yard
from .views import VIEWS_SCHEMA, SensorViews

#: Extra rows and columns of the noise field: each frame reads it at a different offset.
_NOISE_MARGIN = 64


def _even(value: int) -> int:
    if value % 2:
        raise vol.Invalid("must be even (4:2:0 pictures)")
    return value


def _fraction(low: float, high: float) -> Any:
    return vol.All(vol.Coerce(float), vol.Range(min=low, max=high))


def _finish_object(obj: dict[str, Any]) -> dict[str, Any]:
    """Sort the path and fill ``appear``/``disappear`` from it: visible while it is scripted."""
    path = sorted(obj["path"], key=lambda point: point["t"])
    obj = {**obj, "path": path}
    obj.setdefault("appear", path[0]["t"])
    obj.setdefault("disappear", path[-1]["t"] if len(path) > 1 else obj["period"])
    if obj["appear"] >= obj["disappear"]:
        raise vol.Invalid("appear must come before disappear")
    if path[-1]["t"] > obj["period"]:
        raise vol.Invalid("path times must lie within the period")
    return obj


WAYPOINT_SCHEMA = vol.Schema(
    {
        vol.Required("t"): _fraction(0.0, 86400.0),
        # Centre of the object; a little outside 0..1 lets it enter and leave the picture.
        vol.Required("x"): _fraction(-1.0, 2.0),
        vol.Required("y"): _fraction(-1.0, 2.0),
    }
)

OBJECT_SCHEMA = vol.All(
    vol.Schema(
        {
            # what it looks like: a plain box, a person (head and body), a car (body and cabin)
            vol.Optional("shape", default="box"): vol.In(["box", "person", "car"]),
            vol.Optional("size", default=[0.08, 0.25]): vol.All(
                [_fraction(0.002, 1.0)], vol.Length(min=2, max=2)
            ),
            vol.Optional("color", default=[200, 60, 40]): vol.All(
                [vol.All(vol.Coerce(int), vol.Range(min=0, max=255))], vol.Length(min=3, max=3)
            ),
            vol.Required("path"): vol.All([WAYPOINT_SCHEMA], vol.Length(min=1)),
            vol.Optional("period", default=20.0): _fraction(0.1, 86400.0),
            vol.Optional("appear"): _fraction(0.0, 86400.0),
            vol.Optional("disappear"): _fraction(0.0, 86400.0),
        }
    ),
    _finish_object,
)

#: A person-sized box walking left to right (2-7 s), then a car-sized one driving back
#: (11-14 s); nothing moves for the rest of each 20 s period.
DEFAULT_OBJECTS: list[dict[str, Any]] = [
    {
        "size": [0.06, 0.3],
        "color": [200, 60, 40],
        "path": [{"t": 2, "x": 0.1, "y": 0.62}, {"t": 7, "x": 0.9, "y": 0.62}],
    },
    {
        "size": [0.22, 0.14],
        "color": [40, 70, 200],
        "path": [{"t": 11, "x": 0.85, "y": 0.35}, {"t": 14, "x": 0.15, "y": 0.35}],
    },
]


@dataclass(frozen=True, slots=True)
class _Object:
    """One scripted object, with its colour converted to Y/U/V once."""

    shape: str
    width: float
    height: float
    yuv: tuple[int, int, int]
    times: Sequence[float]
    xs: Sequence[float]
    ys: Sequence[float]
    period: float
    appear: float
    disappear: float

    @classmethod
    def from_options(cls, obj: Mapping[str, Any]) -> _Object:
        r, g, b = obj["color"]
        # BT.601 limited-range conversion, as cameras encode.
        y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256
        u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256
        v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256
        path = obj["path"]
        return cls(
            shape=obj["shape"],
            width=obj["size"][0],
            height=obj["size"][1],
            yuv=(round(y), round(u), round(v)),
            times=[p["t"] for p in path],
            xs=[p["x"] for p in path],
            ys=[p["y"] for p in path],
            period=obj["period"],
            appear=obj["appear"],
            disappear=obj["disappear"],
        )

    def box(self, t: float) -> Box | None:
        """Where the object is at scene time ``t`` (clipped to the picture), or None if absent."""
        phase = t % self.period
        if not self.appear <= phase < self.disappear:
            return None
        cx = float(np.interp(phase, self.times, self.xs))
        cy = float(np.interp(phase, self.times, self.ys))
        x0, y0 = max(0.0, cx - self.width / 2), max(0.0, cy - self.height / 2)
        x1, y1 = min(1.0, cx + self.width / 2), min(1.0, cy + self.height / 2)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x=x0, y=y0, w=x1 - x0, h=y1 - y0)


class SyntheticSource(Source):
    """A scripted scene; ``Box`` coordinates are normalised, (x, y) its top-left corner.

    Frame ``pts`` is the scene time ``index / fps``. With ``realtime`` the frames come at the
    frame rate of the monotonic clock, and a reader that falls behind skips frames, as with a
    live camera; without it they come as fast as they are read (tests, benchmarks).
    """

    kind: ClassVar[str] = "synthetic"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Optional("width", default=1280): vol.All(
                vol.Coerce(int), vol.Range(min=16, max=7680), _even
            ),
            vol.Optional("height", default=720): vol.All(
                vol.Coerce(int), vol.Range(min=16, max=4320), _even
            ),
            vol.Optional("fps", default=10.0): _fraction(1.0, 60.0),
            vol.Optional("seed", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
            # ``yard``: the scripted yard (``yard.py``) with its own ground and objects; then
            # ``background`` and ``objects`` are not used
            vol.Optional("scene", default="boxes"): vol.In(["boxes", "yard"]),
            vol.Optional("background", default="texture"): vol.In(
                ["texture", "gradient", "flat", "detail"]
            ),
            vol.Optional("objects", default=DEFAULT_OBJECTS): [OBJECT_SCHEMA],
            # Luma noise: each frame's values move by up to this many levels, differently per frame.
            vol.Optional("noise", default=2.0): _fraction(0.0, 50.0),
            # A slow global brightness swing (luma levels), like clouds or dusk.
            vol.Optional("illumination", default={}): vol.Schema(
                {
                    vol.Optional("period", default=60.0): _fraction(0.1, 86400.0),
                    vol.Optional("amplitude", default=0.0): _fraction(0.0, 100.0),
                }
            ),
            vol.Optional("realtime", default=True): bool,
            # One of several overlapping sensors cut from one wide scene (``views.py``): the
            # stitching tests' ground truth. ``width``/``height`` are then each view's size.
            vol.Optional("views"): VIEWS_SCHEMA,
        }
    )

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.width: int = options["width"]
        self.height: int = options["height"]
        self.fps: float = options["fps"]
        self.views: SensorViews | None = None
        scene_width = self.width
        if options.get("views") is not None:
            self.views = SensorViews(options["views"], self.width, self.height)
            scene_width = self.views.scene_width
        self._lamp: Plane | None = None
        if options["scene"] == "yard":
            objects = [OBJECT_SCHEMA(obj) for obj in yard.YARD_OBJECTS]
            planes = yard.render_background(scene_width, self.height, options["seed"])
            self._base = _pack(*planes)
            self._lamp = yard.lamp_light(scene_width, self.height)
        else:
            objects = options["objects"]
            self._base = _render_background(
                scene_width, self.height, options["seed"], options["background"]
            )
        self._objects = [_Object.from_options(obj) for obj in objects]
        self._noise = _noise_field(scene_width, self.height, options["seed"], options["noise"])
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._start = 0.0
        self._index = 0

    def describe(self) -> str:
        return f"synthetic {self.width}x{self.height}@{self.fps:g}"

    # --- the scene ---------------------------------------------------------------------------

    def ground_truth(self, t: float) -> list[Box]:
        """Boxes of the objects visible at scene time ``t`` (seconds), in drawing order."""
        return [box for obj in self._objects if (box := obj.box(t)) is not None]

    def render(self, index: int) -> Frame:
        """Frame number ``index``: a pure function of the options and ``index`` (with
        ``views``, this sensor's view of the wide scene ``render_scene`` draws)."""
        if self.views is None:
            return self.render_scene(index)
        return self.views.cut(self.render_scene(index))

    def render_scene(self, index: int) -> Frame:
        """The whole scene at frame ``index``: with ``views``, the wide picture every sensor
        sees a part of (the ground-truth panorama); otherwise the frame itself."""
        t = index / self.fps
        w = self.views.scene_width if self.views is not None else self.width
        h = self.height
        buf = self._base.copy()
        y, u, v = _split_i420(buf, w, h)
        for obj in self._objects:
            box = obj.box(t)
            if box is None:
                continue
            x0, x1 = round(box.x * w), round((box.x + box.w) * w)
            y0, y1 = round(box.y * h), round((box.y + box.h) * h)
            for part in _parts(obj.shape, x0, y0, x1, y1):
                px0, py0, px1, py1 = part
                y[py0:py1, px0:px1] = obj.yuv[0]
                u[py0 // 2 : (py1 + 1) // 2, px0 // 2 : (px1 + 1) // 2] = obj.yuv[1]
                v[py0 // 2 : (py1 + 1) // 2, px0 // 2 : (px1 + 1) // 2] = obj.yuv[2]
        if self._lamp is not None and yard.lamp_on(t):
            cv2.add(y, self._lamp, dst=y)
        light = self.options["illumination"]
        shift = light["amplitude"] * math.sin(2 * math.pi * t / light["period"])
        if shift >= 0.5:
            cv2.add(y, shift, dst=y)
        elif shift <= -0.5:
            cv2.subtract(y, -shift, dst=y)
        if self._noise is not None:
            # Two windows of one static field at offsets hashed from the index: per-frame noise
            # that costs two saturating adds, and stays a pure function of the index.
            mix = (index * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF
            a, b, c, d = ((mix >> s) % _NOISE_MARGIN for s in (0, 6, 12, 18))
            cv2.add(y, self._noise[a : a + h, b : b + w], dst=y)
            cv2.subtract(y, self._noise[c : c + h, d : d + w], dst=y)
        for plane in (y, u, v):
            plane.flags.writeable = False
        now = time.monotonic()
        return Frame(
            y=y,
            u=u,
            v=v,
            pts=t,
            wall_time=time.time(),
            demux_time=now,
            keyframe=True,  # every synthetic picture stands alone
            source=buf,
        )

    # --- the Source contract -----------------------------------------------------------------

    def open(self) -> StreamInfo:
        with self._lock:
            self._stop = threading.Event()
            self._start = time.monotonic()
            self._index = 0
        return StreamInfo(width=self.width, height=self.height, fps=self.fps, codec="rawvideo")

    def read(self) -> Frame:
        stop = self._stop
        if stop is None or stop.is_set():
            raise SourceUnavailableError(f"{self.describe()} is not open")
        if self.options["realtime"]:
            now = time.monotonic()
            # A reader that fell behind skips to the current frame, as with a live camera.
            self._index = max(self._index, int((now - self._start) * self.fps))
            due = self._start + self._index / self.fps
            if due > now and stop.wait(due - now):
                raise SourceUnavailableError(f"{self.describe()} is closed")
        frame = self.render(self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        with self._lock:
            if self._stop is not None:
                self._stop.set()


def _parts(shape: str, x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int, int, int]]:
    """The rectangles (x0, y0, x1, y1) an object of ``shape`` is drawn as, within its box: a
    person is a head on a body, a car a cabin on a body; a box is its box."""
    w, h = x1 - x0, y1 - y0
    if shape == "person":
        head = max(1, h // 6)
        return [(x0 + w // 4, y0, x1 - w // 4, y0 + head), (x0, y0 + head, x1, y1)]
    if shape == "car":
        roof = max(1, (2 * h) // 5)
        return [(x0 + w // 5, y0, x1 - w // 4, y0 + roof), (x0, y0 + roof, x1, y1)]
    return [(x0, y0, x1, y1)]


def _split_i420(buf: Plane, width: int, height: int) -> tuple[Plane, Plane, Plane]:
    """Y, U and V views of one contiguous I420 buffer."""
    area, quarter = width * height, (width // 2) * (height // 2)
    y = buf[:area].reshape(height, width)
    u = buf[area : area + quarter].reshape(height // 2, width // 2)
    v = buf[area + quarter :].reshape(height // 2, width // 2)
    return y, u, v


def _smooth_noise(rng: np.random.Generator, width: int, height: int, cell: int) -> Any:
    """Zero-mean noise of unit scale that varies over about ``cell`` pixels."""
    low = rng.normal(0.0, 1.0, (height // cell + 2, width // cell + 2)).astype(np.float32)
    return cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)


def _render_background(width: int, height: int, seed: int, style: str) -> Plane:
    """The static scene as one contiguous I420 buffer: a sky-to-ground gradient, plus texture.

    Texture (blotches, grain and a few buildings) gives detectors something realistic to
    ignore and makes every seed's scene different; ``detail`` adds many small patches, the
    corners a stitcher's feature matching needs.
    """
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    luma = np.broadcast_to(170.0 - 80.0 * rows, (height, width)).astype(np.float32)
    cb = np.broadcast_to(140.0 - 24.0 * rows[::2], (height // 2, width // 2)).astype(np.float32)
    cr = np.broadcast_to(120.0 + 8.0 * rows[::2], (height // 2, width // 2)).astype(np.float32)
    if style == "flat":
        luma[:], cb[:], cr[:] = 128.0, 128.0, 128.0
    elif style in ("texture", "detail"):
        rng = np.random.default_rng(seed)
        luma += 22.0 * _smooth_noise(rng, width, height, max(8, width // 24))
        luma += rng.normal(0.0, 5.0, (height, width)).astype(np.float32)
        cb += 6.0 * _smooth_noise(rng, width // 2, height // 2, max(4, width // 40))
        cr += 6.0 * _smooth_noise(rng, width // 2, height // 2, max(4, width // 40))
        horizon = int(height * 0.45)
        for _ in range(6):  # buildings standing on the horizon
            bw = int(rng.uniform(0.04, 0.12) * width)
            bh = int(rng.uniform(0.08, 0.3) * height)
            bx = int(rng.uniform(0.0, 1.0) * (width - bw))
            luma[horizon - bh : horizon, bx : bx + bw] = rng.uniform(60.0, 200.0)
        if style == "detail":  # signs, windows, stones: corners for feature matching
            for _ in range(width * height // 1500):
                rw, rh = (int(rng.uniform(3, 24)) for _ in range(2))
                rx, ry = int(rng.uniform(0, width - rw)), int(rng.uniform(0, height - rh))
                luma[ry : ry + rh, rx : rx + rw] = rng.uniform(30.0, 225.0)
    return _pack(luma, cb, cr)


def _pack(luma: Any, cb: Any, cr: Any) -> Plane:
    """Float Y, U and V planes as one contiguous I420 buffer, clipped to the video range."""
    height, width = luma.shape
    buf = np.empty(width * height * 3 // 2, dtype=np.uint8)
    y, u, v = _split_i420(buf, width, height)
    y[:] = np.clip(luma, 16, 235)
    u[:] = np.clip(cb, 16, 240)
    v[:] = np.clip(cr, 16, 240)
    return buf


def _noise_field(width: int, height: int, seed: int, amplitude: float) -> Plane | None:
    """A static field of |gaussian| noise, margin-larger than the picture; None when off."""
    if amplitude <= 0:
        return None
    rng = np.random.default_rng([seed, 1])
    shape = (height + _NOISE_MARGIN, width + _NOISE_MARGIN)
    field = np.abs(rng.normal(0.0, amplitude / 2, shape))
    noise: Plane = np.clip(np.rint(field), 0, amplitude).astype(np.uint8)
    return noise


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the `synthetic` source."""
    register(SyntheticSource)
