"""OSD (manual 4.7): the camera name, the date and time (with the manual's formats, 12 or 24
hour, and the weekday) and up to 8 lines of text, drawn into the Y, U and V planes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import cv2
import numpy as np
import numpy.typing as npt
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame, Plane

from ._yuv import COLOUR, COLOURS, chroma, chroma_mask, fraction

#: The manual's date formats and how each is written.
DATE_FORMATS = {
    "MM-DD-YYYY": "{m:02d}-{d:02d}-{y:04d}",
    "DD-MM-YYYY": "{d:02d}-{m:02d}-{y:04d}",
    "YYYY-MM-DD": "{y:04d}-{m:02d}-{d:02d}",
    "MM/DD/YYYY": "{m:02d}/{d:02d}/{y:04d}",
    "DD/MM/YYYY": "{d:02d}/{m:02d}/{y:04d}",
    "YYYY/MM/DD": "{y:04d}/{m:02d}/{d:02d}",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FONT_SIZES = (16, 24, 32, 48, 64)
MAX_TEXTS = 8
MAX_TEXT_LENGTH = 44
FONT = cv2.FONT_HERSHEY_SIMPLEX


def text_line(value: Any) -> str:
    """A line of OSD text: 1-44 printable ASCII characters (what the OSD font can draw)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT_LENGTH:
        raise vol.Invalid(f"an OSD text is 1 to {MAX_TEXT_LENGTH} characters")
    if not all(" " <= ch <= "~" for ch in value):
        raise vol.Invalid("the OSD font draws printable ASCII characters only")
    return value


OSD_SCHEMA = vol.Schema(
    {
        vol.Optional("show_name", default=True): bool,
        # The name shown; the channel's name when left out.
        vol.Optional("name"): text_line,
        vol.Optional("show_date", default=True): bool,
        vol.Optional("date_format", default="MM-DD-YYYY"): vol.In(list(DATE_FORMATS)),
        vol.Optional("time_format", default=24): vol.In([12, 24]),
        vol.Optional("show_week", default=False): bool,
        vol.Optional("texts", default=[]): vol.All(
            [text_line],
            vol.Length(max=MAX_TEXTS, msg=f"at most {MAX_TEXTS} OSD text lines"),
        ),
        vol.Optional("font_size", default=32): vol.In(FONT_SIZES),
        vol.Optional("color", default="white"): COLOUR,
        vol.Optional("alignment", default="left"): vol.In(["left", "right"]),
        vol.Optional("x", default=0.0): fraction,
        vol.Optional("y", default=0.0): fraction,
    },
    extra=vol.PREVENT_EXTRA,
)


def date_time_text(wall_time: float, date_format: str, time_format: int, week: bool) -> str:
    """The date and time line for ``wall_time`` in local time, e.g. ``12-31-2026 23:59:58``,
    ``2026-12-31 11:59:58 PM Thu``."""
    t = time.localtime(wall_time)
    text = DATE_FORMATS[date_format].format(y=t.tm_year, m=t.tm_mon, d=t.tm_mday)
    if time_format == 24:
        text += f" {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    else:
        hour = t.tm_hour % 12 or 12
        text += f" {hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {'AM' if t.tm_hour < 12 else 'PM'}"
    if week:
        text += f" {WEEKDAYS[t.tm_wday]}"
    return text


def osd_lines(options: Mapping[str, Any], name: str, wall_time: float) -> list[str]:
    """The lines shown, top to bottom: the name, the date and time, then the texts."""
    lines = []
    if options["show_name"]:
        lines.append(options.get("name") or name)
    if options["show_date"]:
        lines.append(
            date_time_text(
                wall_time, options["date_format"], options["time_format"], options["show_week"]
            )
        )
    return [*lines, *options["texts"]]


def render(lines: Sequence[str], font_size: int, alignment: str) -> Plane:
    """The text block as a 0/1 mask: one line every ``1.25 x font_size`` pixels, a margin of
    a quarter of the font size around it, lines aligned left or right within it."""
    thickness = max(1, font_size // 16)
    scale = cv2.getFontScaleFromHeight(FONT, font_size - thickness, thickness)
    sizes = [cv2.getTextSize(line, FONT, scale, thickness)[0] for line in lines]
    margin = font_size // 4
    step = font_size + margin
    width = max(w for w, _ in sizes) + 2 * margin
    height = step * len(lines) + margin
    mask = np.zeros((height, width), dtype=np.uint8)
    for index, (line, (w, _)) in enumerate(zip(lines, sizes, strict=True)):
        x = margin if alignment == "left" else width - margin - w
        baseline = margin + index * step + font_size - font_size // 5
        cv2.putText(mask, line, (x, baseline), FONT, scale, 1, thickness, cv2.LINE_8)
    return mask


class OsdStage(ImageStage):
    """Draws the text block in one solid colour (no anti-aliasing: text pixels are exactly the
    colour). The block is drawn again only when its text changes (once a second with the
    time); per frame it costs a copy of the planes and a masked fill of the block."""

    kind: ClassVar[str] = "osd"
    ORDER: ClassVar[int] = 600
    CONFIG_SCHEMA: ClassVar[vol.Schema] = OSD_SCHEMA

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        super().__init__(options, context)
        self._colour = COLOURS[options["color"]]
        self._lines: list[str] = []
        self._luma: npt.NDArray[np.bool_] = np.zeros((0, 0), dtype=bool)
        self._chroma: npt.NDArray[np.bool_] = np.zeros((0, 0), dtype=bool)
        self._at = (0, 0)

    def _layout(self, lines: list[str], width: int, height: int) -> None:
        """Render ``lines`` and place the block: ``x``, ``y`` from 0 (left, top edge) to 1
        (right, bottom edge), on even pixels so that chroma lines up; cut at the picture's
        edges."""
        mask = render(lines, self.options["font_size"], self.options["alignment"])
        mask = mask[:height, :width]
        bh, bw = mask.shape
        left = round(self.options["x"] * (width - bw)) // 2 * 2
        top = round(self.options["y"] * (height - bh)) // 2 * 2
        self._lines = lines
        self._luma = mask.astype(bool)
        self._chroma = chroma_mask(mask).astype(bool)
        self._at = (left, top)

    def process(self, frame: Frame) -> Frame:
        lines = osd_lines(self.options, self.context.channel_name, frame.wall_time)
        if not lines:
            return frame
        if lines != self._lines:
            self._layout(lines, frame.width, frame.height)
        left, top = self._at
        colour_y, colour_u, colour_v = self._colour
        y = frame.y.copy()
        u, v = (plane.copy() for plane in chroma(frame))
        bh, bw = self._luma.shape
        np.copyto(y[top : top + bh, left : left + bw], np.uint8(colour_y), where=self._luma)
        ch, cw = self._chroma.shape
        area = (slice(top // 2, top // 2 + ch), slice(left // 2, left // 2 + cw))
        inside = self._chroma[: u[area].shape[0], : u[area].shape[1]]
        np.copyto(u[area], np.uint8(colour_u), where=inside)
        np.copyto(v[area], np.uint8(colour_v), where=inside)
        return dataclasses.replace(frame, y=y, u=u, v=v)


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``osd`` available under a channel's ``image:``."""
    register(OsdStage)
