"""Count helper: the C calls (OpenCV and numpy) the detectors make per picture, each a possible GIL round trip.

Why count them: in a process with many busy threads every call that releases the GIL (every
OpenCV function, and numpy's on arrays of more than a few hundred elements) has to take it
back, and that wait (0.6 ms at 36 cameras, 4 ms at 48) costs more than the call's own CPU.
So the number of such calls per picture is what limits how many cameras one process carries.

Decodes ``--seconds`` of a benchmark clip (``busy360``: the whole picture moves; ``blink360``:
a still scene with a box every 2 s; ``yard360``: the synthetic yard), scales each picture to the detect size (320x180) as
``camera_runtime.detection`` does, and feeds the motion detector at 5 fps (its default
options) and the capacity benchmark's smart set at 10 fps (the tracker and the five video
smart detectors with the demo yard's rules, ``capacity.smart_detectors``), each in its own
channel context. ``sys.setprofile``'s ``c_call`` events count every C function or method
called from the detectors' code (``plugins/detectors/``), by module: ``cv2``, ``numpy``
(functions and ndarray methods), and the rest (builtins, not GIL releases). Array operators
(``a + b``) are not calls and are not counted. Not a benchmark of record (no results file).

``--beside N [N ...]`` also gives each run's thread CPU per picture with N other threads in
the process that keep wanting the GIL (each: an OpenCV blur of a 640x360 picture, a little
Python, a 0.5 ms sleep, as a feed's thread decodes, demuxes and hands frames on), against
none: every release lets one of them in, and taking the GIL back costs the detectors' thread
CPU (the wake-up, and its data evicted from the core's caches), not only time. Run it under
``taskset -c 0`` to see how much of that is the thread moving between cores.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any, cast

import av
import capacity
import cv2
import numpy as np
from _common import FPS, clip

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camera_runtime.detection import detect_size  # noqa: E402
from camera_runtime.imaging import downscale_luma  # noqa: E402
from camera_runtime.interfaces import Detector, DetectorContext  # noqa: E402
from camera_runtime.model import Plane  # noqa: E402
from camera_runtime_plugins.detectors import (  # noqa: E402
    intrusion,
    line_crossing,
    motion,
    region,
    static_object,
)

#: Every video detector by kind.
KINDS: dict[str, type[Detector]] = {
    cls.kind: cls
    for module in (intrusion, line_crossing, motion, region, static_object)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, Detector) and "kind" in vars(cls)
}

DETECT_WIDTH = 320
PLUGINS = str(ROOT / "plugins" / "detectors")


#: OpenCV's functions (builtins without a ``__module__``), known by identity.
_CV2 = {id(value) for value in vars(cv2).values() if callable(value)}
_NUMPY = str(Path(np.__file__).parent)


def _module(function: Any) -> str:
    """Which library a C callable belongs to: ``cv2``, ``numpy`` or ``other``."""
    if id(function) in _CV2:
        return "cv2"
    owner = getattr(function, "__self__", None)
    if (getattr(function, "__module__", None) or "").startswith("numpy") or isinstance(
        owner, np.ndarray | np.generic | np.ufunc
    ):
        return "numpy"
    return "other"


class Counts:
    """C calls made from the detectors' code while profiling, by module and by name: C
    functions and methods (``c_call``), and numpy's Python-level functions (``np.partition``
    and the like, a ``call`` of numpy code from the detectors' code)."""

    def __init__(self) -> None:
        self.by_module: Counter[str] = Counter()
        self.by_name: Counter[str] = Counter()

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call":
            if not frame.f_code.co_filename.startswith(PLUGINS):
                return
            module, name = _module(arg), getattr(arg, "__name__", "?")
        elif event == "call":
            caller = frame.f_back
            if caller is None or not caller.f_code.co_filename.startswith(PLUGINS):
                return
            code = frame.f_code
            if not code.co_filename.startswith(_NUMPY) or code.co_name.endswith("_dispatcher"):
                return
            module, name = "numpy", frame.f_code.co_name
        else:
            return
        self.by_module[module] += 1
        self.by_name[f"{module}.{name}"] += 1


def _pictures(name: str, seconds: float) -> list[Any]:
    """The clip's luma planes, scaled to the detect size, at the clip's ``FPS``."""
    pictures = []
    with av.open(str(clip(name))) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            y = cast(Plane, frame.to_ndarray(format="gray"))
            w, h = detect_size(frame.width, frame.height, DETECT_WIDTH)
            pictures.append(downscale_luma(y, w, h))
            if len(pictures) >= seconds * FPS:
                break
    return pictures


def _build(kinds: dict[str, Any], fps: float, width: int, height: int) -> list[Detector]:
    context = DetectorContext("count", width, height, fps)
    detectors = []
    for kind, options in kinds.items():
        cls = KINDS[kind]
        detectors.append(cls(cls.CONFIG_SCHEMA(options), context))
    return detectors


def _used(pictures: list[Any], fps: float) -> list[Any]:
    """The pictures of the clip's ``FPS`` that the channel's pacing passes at ``fps``: the
    first of each 1 / ``fps``."""
    return [p for i, p in enumerate(pictures) if i == 0 or i * fps // FPS > (i - 1) * fps // FPS]


def _detect(pictures: list[Any], kinds: dict[str, Any], fps: float, passes: int = 1) -> int:
    """Run new detectors of ``kinds`` at ``fps`` over the clip ``passes`` times (the pictures
    a channel's pacing passes, ``_used``, at consecutive times); how many pictures they saw."""
    height, width = pictures[0].shape
    detectors = _build(kinds, fps, width, height)
    used = _used(pictures, fps) * passes
    for index, picture in enumerate(used):
        for detector in detectors:
            detector.process(picture, 1_750_000_000.0 + index / fps)
    return len(used)


def count(pictures: list[Any], kinds: dict[str, Any], fps: float) -> tuple[int, Counts]:
    """Run the detectors at ``fps``; their C calls, counted."""
    counts = Counts()
    sys.setprofile(counts.profile)
    try:
        used = _detect(pictures, kinds, fps)
    finally:
        sys.setprofile(None)
    return used, counts


def _feed_like(stop: threading.Event) -> None:
    """A stand-in for a feed's thread: C work with the GIL released, a little Python, a
    short sleep, over and over."""
    picture = np.random.default_rng(1).integers(0, 256, (360, 640), dtype=np.uint8)
    total = 0
    while not stop.is_set():
        cv2.GaussianBlur(picture, (5, 5), 0)
        for step in range(200):
            total += step
        time.sleep(0.0005)


def thread_cpu(pictures: list[Any], kinds: dict[str, Any], fps: float, beside: int) -> float:
    """The detectors' thread CPU per picture (us, two passes over the clip) with ``beside``
    ``_feed_like`` threads running in the process."""
    stop = threading.Event()
    threads = [threading.Thread(target=_feed_like, args=(stop,)) for _ in range(beside)]
    for thread in threads:
        thread.start()
    try:
        start = time.thread_time()
        used = _detect(pictures, kinds, fps, passes=2)
        spent = time.thread_time() - start
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return 1e6 * spent / used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="of each clip (default 20)")
    parser.add_argument("--top", type=int, default=12, help="names listed per run")
    parser.add_argument(
        "--beside",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="also the detectors' thread CPU per picture with N GIL-hungry threads beside",
    )
    args = parser.parse_args()
    for name in ("busy360", "blink360", "yard360"):
        pictures = _pictures(name, args.seconds)
        runs = {
            "motion 5 fps": ({"motion": {}}, 5.0),
            "smart 10 fps": (capacity.smart_detectors(), 10.0),
        }
        for label, (kinds, fps) in runs.items():
            used, counts = count(pictures, kinds, fps)
            per = {m: counts.by_module[m] / used for m in ("cv2", "numpy", "other")}
            print(
                f"{name} {label}: {used} pictures; per picture: cv2 {per['cv2']:.1f}, "
                f"numpy {per['numpy']:.1f} (GIL releases at most {per['cv2'] + per['numpy']:.1f}),"
                f" other C calls {per['other']:.1f}"
            )
            for module in ("cv2", "numpy", "other"):
                names = [(n, c) for n, c in counts.by_name.most_common() if n.startswith(module)]
                top = ", ".join(f"{n} {c / used:.2f}" for n, c in names[: args.top])
                print(f"    {top}")
            if args.beside:
                cpu = {b: thread_cpu(pictures, kinds, fps, b) for b in [0, *args.beside]}
                print(
                    "    thread CPU per picture: "
                    + ", ".join(f"{cpu[b]:.0f} us with {b} beside" for b in cpu)
                )


if __name__ == "__main__":
    main()
