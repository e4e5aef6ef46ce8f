"""The manual's "display info on stream" (4.2): the boxes of a channel's active detection
events (motion boxes, smart-event target boxes with their rule's name) drawn on what users see.

Where it sits in ``Channel._on_frame``: after the image stages (a privacy mask is never
bypassed, the boxes are drawn over it like any picture), on a copy given to the live view,
snapshots and encoded streams; the detectors get the picture without them, so a box never feeds
back into detection. It keeps what it draws from the channel's event updates (``observe``): an
event's boxes from its start (and each update) to its end, and an instant event's (a crossing,
an entrance: it starts and ends in one picture) for ``INSTANT_HOLD`` seconds, long enough to be
seen. Off, ``draw`` hands the picture back untouched: no copy, no lock.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import voluptuous as vol

from .imaging import COLOURS, Plane, chroma, chroma_mask
from .model import Event, EventPhase, Frame

#: How long a box stays after its event ended, counted from the event's start: an instant event
#: shows for about a second, an event that lasted longer goes with its end.
INSTANT_HOLD = 1.0
FONT = cv2.FONT_HERSHEY_SIMPLEX

DISPLAY_INFO_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("color", default="red"): vol.In(sorted(COLOURS)),
        # Line width in pixels of the picture the boxes are drawn on.
        vol.Optional("thickness", default=2): vol.All(int, vol.Range(min=1, max=8)),
        # The rule's name above a smart event's target box.
        vol.Optional("labels", default=True): bool,
    },
    extra=vol.PREVENT_EXTRA,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Mark:
    """What is drawn for one event: its boxes (x, y, w, h, 0..1 of the picture) and a label."""

    boxes: tuple[tuple[float, float, float, float], ...]
    label: str | None


def _box(value: Any) -> tuple[float, float, float, float] | None:
    """A ``{"x", "y", "w", "h"}`` mapping of numbers as a tuple, else ``None``."""
    if not isinstance(value, Mapping):
        return None
    try:
        x, y, w, h = (float(value[key]) for key in ("x", "y", "w", "h"))
    except (KeyError, TypeError, ValueError):
        return None
    return (x, y, w, h) if w > 0 and h > 0 else None


def mark_of(event: Event) -> Mark | None:
    """The boxes an event carries (``data["boxes"]`` of motion, ``data["box"]`` of a smart
    event's target) and its rule's name; ``None`` for an event without boxes (exceptions)."""
    found = [*(event.data.get("boxes") or []), event.data.get("box")]
    boxes = tuple(box for box in map(_box, found) if box is not None)
    if not boxes:
        return None
    rule = event.data.get("rule")
    return Mark(boxes, rule if isinstance(rule, str) and rule else None)


class DisplayInfo:
    """One channel's detection boxes: ``observe`` on the detection thread (every event update,
    whether on or off, so switching it on shows the events already active), ``draw`` on the
    decoding feed's thread, ``enabled`` from any thread."""

    def __init__(
        self, options: Mapping[str, Any], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.options = options
        self._clock = clock
        self.enabled: bool = bool(options["enabled"])
        self._lock = threading.Lock()
        self._active: dict[str, Mark] = {}
        #: Ended events still shown: event id -> (mark, monotonic time it goes).
        self._fading: dict[str, tuple[Mark, float]] = {}

    def observe(self, phase: EventPhase, event: Event) -> None:
        """Keep (or drop) ``event``'s boxes after one of its updates."""
        mark = mark_of(event)
        with self._lock:
            if phase is not EventPhase.END:
                if mark is not None:
                    self._active[event.id] = mark
                return
            shown = self._active.pop(event.id, None) or mark
            lasted = (event.end if event.end is not None else event.start) - event.start
            if shown is not None and lasted < INSTANT_HOLD:
                self._fading[event.id] = (shown, self._clock() + INSTANT_HOLD - lasted)

    def clear(self) -> None:
        """Forget every box (the channel's detectors start anew)."""
        with self._lock:
            self._active.clear()
            self._fading.clear()

    def marks(self) -> list[Mark]:
        """What is shown now: the active events', then the ended instants' still in their hold."""
        now = self._clock()
        with self._lock:
            for event_id in [k for k, (_, until) in self._fading.items() if until <= now]:
                del self._fading[event_id]
            return [*self._active.values(), *(mark for mark, _ in self._fading.values())]

    def draw(self, frame: Frame) -> Frame:
        """``frame`` with the boxes drawn (a new frame; ``frame`` itself is never written), or
        ``frame`` itself when off or nothing is to be shown."""
        if not self.enabled:
            return frame
        marks = self.marks()
        if not marks:
            return frame
        y = frame.y.copy()
        u, v = (plane.copy() for plane in chroma(frame))
        colour = COLOURS[self.options["color"]]
        thickness = self.options["thickness"]
        for mark in marks:
            for box in mark.boxes:
                corner = _draw_box((y, u, v), colour, box, thickness)
                if mark.label and self.options["labels"]:
                    _draw_label((y, u, v), colour, mark.label, corner)
        return dataclasses.replace(frame, y=y, u=u, v=v)


def _pixels(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, ...]:
    """A normalised box as its first and last pixel columns and rows, inside the picture."""
    x, y, w, h = box
    left = min(max(round(x * width), 0), width - 1)
    top = min(max(round(y * height), 0), height - 1)
    right = min(max(round((x + w) * width) - 1, left), width - 1)
    bottom = min(max(round((y + h) * height) - 1, top), height - 1)
    return left, top, right, bottom


def _draw_box(
    planes: tuple[Plane, Plane, Plane],
    colour: tuple[int, int, int],
    box: tuple[float, float, float, float],
    thickness: int,
) -> tuple[int, int]:
    """The box's outline, ``thickness`` pixels wide inside the box, as four filled bands (exact
    pixels, square corners) in the luma plane and over the same pixels in the chroma planes (so
    the line has the colour, not only its brightness); returns its top-left pixel."""
    height, width = planes[0].shape
    left, top, right, bottom = _pixels(box, width, height)
    right, bottom = right + 1, bottom + 1  # exclusive ends
    t = thickness
    for rows, cols in (
        ((top, min(top + t, bottom)), (left, right)),
        ((max(bottom - t, top), bottom), (left, right)),
        ((top, bottom), (left, min(left + t, right))),
        ((top, bottom), (max(right - t, left), right)),
    ):
        _fill(planes, colour, rows, cols)
    return left, top


def _fill(
    planes: tuple[Plane, Plane, Plane],
    colour: tuple[int, int, int],
    rows: tuple[int, int],
    cols: tuple[int, int],
) -> None:
    """Fill luma rows ``[a, b)`` x columns ``[c, d)`` and every chroma sample they touch."""
    y, u, v = planes
    (a, b), (c, d) = rows, cols
    y[a:b, c:d] = colour[0]
    half = (slice(a // 2, (b + 1) // 2), slice(c // 2, (d + 1) // 2))
    u[half] = colour[1]
    v[half] = colour[2]


def _draw_label(
    planes: tuple[Plane, Plane, Plane],
    colour: tuple[int, int, int],
    label: str,
    corner: tuple[int, int],
) -> None:
    """The rule's name just above the box (inside it when the box touches the top edge), in a
    font about a thirtieth of the picture's height, solid (no anti-aliasing: text pixels are
    exactly the colour), rendered as a mask first as the OSD does."""
    y, u, v = planes
    height, width = y.shape
    size = max(12, height // 30)
    stroke = max(1, size // 12)
    scale = cv2.getFontScaleFromHeight(FONT, size, stroke)
    (text_w, text_h), descent = cv2.getTextSize(label, FONT, scale, stroke)
    mask: Plane = np.zeros((text_h + descent + 2 * stroke, text_w + 2 * stroke), dtype=np.uint8)
    cv2.putText(mask, label, (stroke, stroke + text_h), FONT, scale, 255, stroke, cv2.LINE_8)
    left, top = corner
    left &= ~1
    at = top - mask.shape[0] - 2 if top - mask.shape[0] - 2 >= 0 else top + 2
    at &= ~1
    mask = mask[: max(0, height - at), : max(0, width - left)]
    ink: npt.NDArray[np.bool_] = mask > 0
    np.copyto(y[at : at + ink.shape[0], left : left + ink.shape[1]], colour[0], where=ink)
    half: npt.NDArray[np.bool_] = chroma_mask(mask).astype(bool)
    area = (slice(at // 2, at // 2 + half.shape[0]), slice(left // 2, left // 2 + half.shape[1]))
    inside = half[: u[area].shape[0], : u[area].shape[1]]
    np.copyto(u[area], colour[1], where=inside)
    np.copyto(v[area], colour[2], where=inside)


__all__ = ["DISPLAY_INFO_SCHEMA", "INSTANT_HOLD", "DisplayInfo", "Mark", "mark_of"]
