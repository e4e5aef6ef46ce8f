"""Mirror (manual 4.5.1): flip the picture left-right, up-down, or both ("center"), for a
camera mounted so that its picture is the reverse of the scene."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import ImageStage
from camera_runtime.model import Frame, Plane

from ._yuv import chroma

MODES = ("off", "left_right", "up_down", "center")
MIRROR_SCHEMA = vol.Schema(
    {vol.Optional("mode", default="left_right"): vol.In(MODES)}, extra=vol.PREVENT_EXTRA
)


class MirrorStage(ImageStage):
    """Flips every plane the same way; the size stays."""

    kind: ClassVar[str] = "mirror"
    ORDER: ClassVar[int] = 200
    #: Manual 4.5.1: supported only in these stitching output modes.
    STITCHING_MODES: ClassVar[tuple[str, ...] | None] = ("original", "panorama")
    CONFIG_SCHEMA: ClassVar[vol.Schema] = MIRROR_SCHEMA

    def _flip(self, plane: Plane) -> Plane:
        mode = self.options["mode"]
        if mode == "left_right":
            view = plane[:, ::-1]
        elif mode == "up_down":
            view = plane[::-1, :]
        else:
            view = plane[::-1, ::-1]
        return np.ascontiguousarray(view)

    def process(self, frame: Frame) -> Frame:
        if self.options["mode"] == "off":
            return frame
        u, v = chroma(frame)
        return dataclasses.replace(frame, y=self._flip(frame.y), u=self._flip(u), v=self._flip(v))


@hookimpl
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Make ``mirror`` available under a channel's ``image:``."""
    register(MirrorStage)
