"""The typed application keys shared by the API modules (one place, no import cycles)."""

from __future__ import annotations

from aiohttp import web

from ..runtime import Runtime
from ..security import Security

RUNTIME = web.AppKey("camera_runtime.runtime", Runtime)
SECURITY = web.AppKey("camera_runtime.security", Security)

__all__ = ["RUNTIME", "SECURITY"]
