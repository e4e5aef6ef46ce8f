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
        """Store ``data`` under ``name`` (a ``/``-separated relative path the runtime built
        from safe parts) and return its id. Complete or not at all: a reader never sees half a
        file. Raise ``CameraRuntimeError`` (or ``OSError``) with a message fit for a user, never
        holding credentials; the runtime retries."""

    @abstractmethod
    async def delete(self, item_id: str) -> None:
        """Remove a stored item; unknown ids raise ``NotFoundError``."""

    async def check(self) -> None:
        """The manual's *Test*: reach the storage now, raising what is wrong in words."""


class Action(PluginClass):
    """A linkage action (capture, record, alarm output, notify...) run for an event."""

    extension_point: ClassVar[str] = "action"

    @abstractmethod
    async def execute(self, event: Event | None, params: Mapping[str, Any]) -> None:
        """Carry the action out; raise ``CameraRuntimeError`` with a clear message on failure."""
