"""The HTTP API and web UI of a runtime (aiohttp): ``create_app`` to embed, ``ApiServer`` to serve."""

from __future__ import annotations

from .app import create_app
from .auth import Policy, add_route
from .server import ApiServer

__all__ = ["ApiServer", "Policy", "add_route", "create_app"]
