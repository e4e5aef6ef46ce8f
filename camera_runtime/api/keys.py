"""The typed application keys shared by the API modules (one place, no import cycles)."""

from __future__ import annotations

from aiohttp import web

from ..interfaces import RuntimeView
from ..security import Security

RUNTIME = web.AppKey("camera_runtime.runtime", RuntimeView)
SECURITY = web.AppKey("camera_runtime.security", Security)

__all__ = ["RUNTIME", "SECURITY"]
