"""Extension points on the output side: storage backends and linkage actions."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..model import Event
from .base import PluginClass

if TYPE_CHECKING:
    from ..capabilities import EventTypeInfo
    from .runtime import RuntimeView


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

    async def store_file(self, name: str, path: Path, content_type: str) -> str:
        """Store the file at ``path`` (a clip: megabytes) under ``name``, as ``store`` does.
        Backends that can send a file as it is read override this, so a large file never
        sits whole in memory; this default reads it whole and calls ``store``."""
        data = await asyncio.to_thread(path.read_bytes)
        return await self.store(name, data, content_type)

    @abstractmethod
    async def delete(self, item_id: str) -> None:
        """Remove a stored item; unknown ids raise ``NotFoundError``."""

    async def check(self) -> None:
        """The manual's *Test*: reach the storage now, raising what is wrong in words."""


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One linkage action to carry out: ``action`` (one of the class's ``ACTIONS``) on the
    linked resource ``target`` (a channel id for the ``channel`` kind, else the resource's own
    id), for ``event`` (``None`` when a user runs it by hand)."""

    runtime: RuntimeView
    action: str
    target: str
    event: Event | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


class ActionContext(Protocol):
    """What the linkage engine gives a resource when it starts: the runtime, and the way to
    raise the resource's own events when it is a source (a doorbell pressed, an alarm input)."""

    @property
    def runtime(self) -> RuntimeView: ...

    def raise_event(self, event_type: str, active: bool, data: Mapping[str, Any]) -> None:
        """The resource's ``event_type`` starts (``active``) or ends; a one-shot event (a
        doorbell press) is raised active then ended. Must be one of ``event_types()``."""


class Action(PluginClass):
    """A kind of linked resource (the document's "Linked Resource": camera channel, alarm
    output, door...) and the linkage actions it takes (its "Linkage Action" rows).

    The ``channel`` kind is built in once for every channel; every other kind is built once
    per resource declared under ``linkage.resources`` (``options`` checked by
    ``CONFIG_SCHEMA``), started with the engine and stopped with it. A resource that is also a
    source (an MQTT message or an HTTP call raises its events) declares ``event_types()``.
    """

    extension_point: ClassVar[str] = "action"
    #: The linkage actions this kind of resource takes, as rules name them.
    ACTIONS: ClassVar[tuple[str, ...]] = ()
    #: Actions on this kind count against the document's "at most four linkage actions on
    #: camera channels for one source".
    CAMERA: ClassVar[bool] = False

    def __init__(self, options: Mapping[str, Any], resource_id: str = "", name: str = "") -> None:
        super().__init__(options)
        self.resource_id = resource_id
        self.name = name or resource_id

    async def start(self, context: ActionContext) -> None:
        """Connect (an MQTT subscription, a timer); raise ``CameraRuntimeError`` when it
        cannot. The default does nothing."""

    async def stop(self) -> None:
        """Release what ``start`` took; safe when never started."""

    def event_types(self) -> tuple[EventTypeInfo, ...]:
        """The events this resource raises as a source (none by default)."""
        return ()

    def notifications(self) -> bool:
        """Whether this resource, as a source, has notifications on: rules from a source with
        notifications off are kept but inactive (the document's rule)."""
        return True

    def state(self) -> dict[str, Any]:
        """What the resource is now (an alarm output on, an alarm input armed), for the API."""
        return {}

    async def receive(self, payload: Mapping[str, Any]) -> None:
        """An HTTP call to the resource as a source (``POST .../linkage/resources/{ref}/input``);
        ``ConfigError`` for a payload it does not take. By default it takes none."""
        from ..exceptions import ConfigError

        raise ConfigError(f"{self.resource_id}: this resource takes no input")

    @abstractmethod
    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        """Carry ``request.action`` out and say what it did (a capture id, a clip);
        raise ``CameraRuntimeError`` with a clear message on failure (the engine retries)."""
