"""Extension points on the output side that later features fill: storage backends and actions."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from ..model import Event
from .base import PluginClass


class StorageBackend(PluginClass):
    """Stores recordings and pictures (local disk, FTP, NAS, cloud); addressed by name, never by
    a client-supplied path."""

    extension_point: ClassVar[str] = "storage_backend"

    @abstractmethod
    async def store(self, name: str, data: bytes, content_type: str) -> str:
        """Store ``data`` and return its id."""

    @abstractmethod
    async def delete(self, item_id: str) -> None:
        """Remove a stored item; unknown ids raise ``NotFoundError``."""


class Action(PluginClass):
    """A linkage action (capture, record, alarm output, notify...) run for an event."""

    extension_point: ClassVar[str] = "action"

    @abstractmethod
    async def execute(self, event: Event | None, params: Mapping[str, Any]) -> None:
        """Carry the action out; raise ``CameraRuntimeError`` with a clear message on failure."""
