"""Extension points of the picture path that later features fill: stitching, image stages, encoders."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from ..model import Frame
from .base import PluginClass


class Stitcher(PluginClass):
    """Combines the frames of several sensors into one picture (calibrate once, remap per frame)."""

    extension_point: ClassVar[str] = "stitcher"

    @abstractmethod
    def calibrate(self, frames: Sequence[Frame]) -> None:
        """Compute the fixed mapping from one set of overlapping frames."""

    @abstractmethod
    def stitch(self, frames: Sequence[Frame]) -> Frame:
        """Compose one output frame; runs per frame, off the event loop."""


class ImageStage(PluginClass):
    """Changes pixels before anything is shown, stored or detected (rotate, privacy mask, OSD...)."""

    extension_point: ClassVar[str] = "image_stage"

    @abstractmethod
    def process(self, frame: Frame) -> Frame:
        """Return the changed frame; runs per frame, off the event loop."""


class Encoder(PluginClass):
    """Turns frames into an encoded stream (main / sub / third stream)."""

    extension_point: ClassVar[str] = "encoder"

    @abstractmethod
    def encode(self, frame: Frame) -> list[bytes]:
        """Encode one frame; returns the packets it produced (possibly none)."""

    @abstractmethod
    def flush(self) -> list[bytes]:
        """Return what the encoder still holds."""
