"""camera_runtime: a software network camera and NVR for the home, built from plugins."""

from __future__ import annotations

from importlib import metadata

from .hookspecs import hookimpl, hookspec

try:
    __version__ = metadata.version("camera-runtime")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__", "hookimpl", "hookspec"]
