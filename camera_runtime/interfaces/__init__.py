"""One small ABC per extension point; plugins subclass these and declare ``kind`` and ``CONFIG_SCHEMA``."""

from __future__ import annotations

from .base import PluginClass
from .detector import Detector, DetectorContext
from .outputs import Action, StorageBackend
from .source import Source
from .stages import Encoder, ImageStage, Stitcher

EXTENSION_POINTS: dict[str, type[PluginClass]] = {
    "source": Source,
    "stitcher": Stitcher,
    "image_stage": ImageStage,
    "detector": Detector,
    "encoder": Encoder,
    "storage_backend": StorageBackend,
    "action": Action,
}

__all__ = [
    "EXTENSION_POINTS",
    "Action",
    "Detector",
    "DetectorContext",
    "Encoder",
    "ImageStage",
    "PluginClass",
    "Source",
    "Stitcher",
    "StorageBackend",
]
