"""Services: the faces a host runs around a runtime (HTTP API, zeroconf, MQTT)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..capabilities import EventTypeInfo


class Service(ABC):
    """A face of the runtime, composed by the host and handed to ``Runtime.add_service``.

    ``start`` runs once the runtime has opened its data folder and created its channels, but
    before any channel's thread runs: a service that subscribes to the buses there sees every
    event. ``stop`` runs after the channels stopped (their last ``end`` updates still reach
    the service), in the reverse order of ``start``. The runtime never names a service: it
    starts, stops and describes them through this class.
    """

    #: Names the service in the device information and the logs (``api``, ``mqtt``...).
    name: ClassVar[str]

    @abstractmethod
    async def start(self) -> None:
        """Start serving; raise ``CameraRuntimeError`` with a clear message when it cannot."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop serving and release what ``start`` took; safe to call when not started."""

    def describe(self) -> dict[str, Any]:
        """What clients should know of this service (``device_info()["services"][name]``)."""
        return {}

    def event_types(self) -> tuple[EventTypeInfo, ...]:
        """The device's event types this face raises (the API: illegal login), declared with
        the runtime's own so every face and Home Assistant offer them."""
        return ()

    def settings(self) -> dict[str, Any]:
        """The settings of its config section that are in force when they differ from the
        file (the API's port given on the command line, or picked by the system)."""
        return {}
