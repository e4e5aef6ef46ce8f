"""Rotate (manual 4.5.1): turn the picture 90, 180 or 270 degrees counterclockwise; 90 is the
manual's corridor mode (1280 x 720 becomes 720 x 1280)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import ImageStage
from camera_runtime.model import Frame, Plane

from ._yuv import chroma

ROTATE_SCHEMA = vol.Schema(
    {vol.Optional("angle", default=90): vol.In([0, 90, 180, 270])}, extra=vol.PREVENT_EXTRA
)


def _turn(plane: Plane, quarters: int) -> Plane:
    """``plane`` turned ``quarters`` x 90 degrees counterclockwise, as a new contiguous array."""
    return np.ascontiguousarray(np.rot90(plane, quarters))


class RotateStage(ImageStage):
    """Turns every plane; a quarter turn swaps the picture's width and height."""

    kind: ClassVar[str] = "rotate"
    ORDER: ClassVar[int] = 100
    #: Manual 4.5.1: supported only in these stitching output modes.
    STITCHING_MODES: ClassVar[tuple[str, ...] | None] = ("original",)
    CONFIG_SCHEMA: ClassVar[vol.Schema] = ROTATE_SCHEMA

    @classmethod
    def output_size(cls, options: Mapping[str, Any], width: int, height: int) -> tuple[int, int]:
        return (height, width) if options["angle"] in (90, 270) else (width, height)

    def process(self, frame: Frame) -> Frame:
        quarters = int(self.options["angle"]) // 90
        if quarters == 0:
            return frame
        u, v = chroma(frame)
        return dataclasses.replace(
            frame, y=_turn(frame.y, quarters), u=_turn(u, quarters), v=_turn(v, quarters)
        )


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``rotate`` available under a channel's ``image:``."""
    register(RotateStage)
