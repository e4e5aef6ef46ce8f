"""The plugin surface: one small ABC per extension point, the table of extension points, and
the narrow view of the runtime that hooks and faces receive.

``EXTENSION_POINTS`` is the one table every other place reads: the plugin registry fills one
slot per row through the row's registration hook, the config walk finds a kind's options
schema through it, ``camera-runtime plugins`` lists by it, and a test checks that the plugin
docs describe every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import PluginClass
from .detector import Detector, DetectorContext
from .outputs import Action, ActionContext, ActionRequest, StorageBackend
from .runtime import RuntimeView
from .service import Service
from .source import Source
from .stages import Encoder, EncoderContext, ImageStage, StageContext, Stitcher


@dataclass(frozen=True, slots=True)
class ExtensionPoint:
    """One kind of plugin class: its base class, the hook that registers its classes, and
    where the config chooses one (``""`` where no config key does yet)."""

    name: str
    base: type[PluginClass]
    hook: str
    config: str
    summary: str


EXTENSION_POINTS: dict[str, ExtensionPoint] = {
    point.name: point
    for point in (
        ExtensionPoint(
            "source",
            Source,
            "register_sources",
            "channels[].source.type",
            "where a channel's pictures come from: camera stream, file, webcam, synthetic scene",
        ),
        ExtensionPoint(
            "stitcher",
            Stitcher,
            "register_stitchers",
            "",
            "composes several overlapping sensors into one picture",
        ),
        ExtensionPoint(
            "image_stage",
            ImageStage,
            "register_image_stages",
            "channels[].image.<kind>",
            "changes pixels before anything is shown, stored or detected",
        ),
        ExtensionPoint(
            "detector",
            Detector,
            "register_detectors",
            "channels[].detectors.<kind>",
            "turns the small grey picture into events; declares event types and controls",
        ),
        ExtensionPoint(
            "encoder",
            Encoder,
            "register_encoders",
            "",
            "turns frames into an encoded stream (main, sub, third stream)",
        ),
        ExtensionPoint(
            "storage_backend",
            StorageBackend,
            "register_storage_backends",
            "",
            "stores recordings and pictures: local disk, NAS, FTP, cloud",
        ),
        ExtensionPoint(
            "action",
            Action,
            "register_actions",
            "linkage.resources[].type",
            "a linked resource and its linkage actions: camera channel, alarm output, door...",
        ),
    )
}

__all__ = [
    "EXTENSION_POINTS",
    "Action",
    "ActionContext",
    "ActionRequest",
    "Detector",
    "DetectorContext",
    "Encoder",
    "EncoderContext",
    "ExtensionPoint",
    "ImageStage",
    "PluginClass",
    "RuntimeView",
    "Service",
    "Source",
    "StageContext",
    "Stitcher",
    "StorageBackend",
]
