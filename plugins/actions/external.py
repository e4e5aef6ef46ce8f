"""Linked resources outside the runtime, reached over MQTT or HTTP: the document's security
control panel area, door of an access control device and door station (with their linkage
actions), and the sources that take no action (access control device, zone, doorbell).

Each may also be a source: its ``events`` are the triggering events it raises, from a message
on its MQTT ``state_topic`` or a call to ``POST /api/linkage/resources/{id}/input``; both take
``{"event": "door_open", "active": true}`` (held until ``"active": false``) or the bare event
name (a one-shot, as a doorbell press).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import KEY, EventTypeInfo
from camera_runtime.exceptions import ConfigError
from camera_runtime.interfaces import Action, ActionRequest

from .transport import TRANSPORT_KEYS, ReachedResource

EVENT_KEY = vol.All(str, vol.Match(KEY.pattern, msg="event names are lowercase keys"))
RESOURCE_SCHEMA = vol.Schema(
    {
        **TRANSPORT_KEYS,
        vol.Optional("events", default=[]): [EVENT_KEY],
        vol.Optional("device_class"): vol.Any(None, str),
        # The document: a source with notifications off triggers no linkage action.
        vol.Optional("notifications", default=True): bool,
    }
)


def parse_input(payload: Any) -> tuple[str, bool | None]:
    """``(event, active)`` from an input: ``active`` ``None`` for a one-shot."""
    if isinstance(payload, bytes):
        text = payload.decode("utf-8", "replace").strip()
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
    if isinstance(payload, str):
        return payload, None
    if isinstance(payload, Mapping) and isinstance(payload.get("event"), str):
        active = payload.get("active")
        if active is not None and not isinstance(active, bool):
            raise ConfigError("active: expected true or false")
        return payload["event"], active
    raise ConfigError('expected {"event": <name>, "active": true|false} or an event name')


class ExternalResource(ReachedResource):
    """A resource reached through a ``Transport``; its command body names the action, the
    resource and the triggering event."""

    CONFIG_SCHEMA: ClassVar[vol.Schema] = RESOURCE_SCHEMA

    def event_types(self) -> tuple[EventTypeInfo, ...]:
        device_class = self.options.get("device_class")
        return tuple(
            EventTypeInfo(name, name.replace("_", " ").capitalize(), device_class)
            for name in self.options.get("events", [])
        )

    def notifications(self) -> bool:
        return bool(self.options.get("notifications", True))

    def on_state(self, payload: bytes) -> None:
        try:
            self._raise(*parse_input(payload))
        except ConfigError:
            return  # a state this resource does not know: not an event

    def _raise(self, event: str, active: bool | None) -> None:
        if event not in self.options.get("events", []):
            raise ConfigError(f"event: {self.resource_id} raises no {event!r} event")
        assert self.context is not None
        if active is None:
            self.context.raise_event(event, True, {})
            self.context.raise_event(event, False, {})
        else:
            self.context.raise_event(event, active, {})

    async def receive(self, payload: Mapping[str, Any]) -> None:
        self._raise(*parse_input(payload))

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        event = request.event
        body = {
            "action": request.action,
            "resource": self.resource_id,
            "params": dict(request.params),
            "event": None if event is None else event.as_dict(),
        }
        return await self.transport.send(request.action, body)


class PanelArea(ExternalResource):
    """Area of a security control panel: stay arm, away arm, disarm."""

    kind: ClassVar[str] = "panel_area"
    ACTIONS: ClassVar[tuple[str, ...]] = ("stay_arm", "away_arm", "disarm")


class Door(ExternalResource):
    """Door linked to an access control device: open door, remain open, remain closed."""

    kind: ClassVar[str] = "door"
    ACTIONS: ClassVar[tuple[str, ...]] = ("open_door", "remain_open", "remain_closed")


class DoorStation(ExternalResource):
    """Door station: open the door linked to it."""

    kind: ClassVar[str] = "door_station"
    ACTIONS: ClassVar[tuple[str, ...]] = ("open_door",)


class SurveillanceCenter(ExternalResource):
    """Notify surveillance center (manual 8.4): the event as JSON to an alarm server (HTTP or
    HTTPS) and/or an MQTT topic."""

    kind: ClassVar[str] = "surveillance_center"
    ACTIONS: ClassVar[tuple[str, ...]] = ("notify_surveillance_center",)


class _SourceOnly(ExternalResource):
    """A source the document names that takes no linkage action."""

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        raise ConfigError(f"{self.resource_id}: a {self.kind} takes no linkage action")


class AccessControlDevice(_SourceOnly):
    kind: ClassVar[str] = "access_control"


class Zone(_SourceOnly):
    """Zone (detector) linked to a security control panel."""

    kind: ClassVar[str] = "zone"


class Doorbell(_SourceOnly):
    kind: ClassVar[str] = "doorbell"


@hookimpl
def register_actions(register: Callable[[type[Action]], None]) -> None:
    """The linked resources outside the runtime, under ``linkage.resources[].type``."""
    for cls in (
        PanelArea,
        Door,
        DoorStation,
        SurveillanceCenter,
        AccessControlDevice,
        Zone,
        Doorbell,
    ):
        register(cls)
