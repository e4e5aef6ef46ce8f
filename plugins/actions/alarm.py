"""Alarm outputs and alarm inputs (manual 8.2 "Alarm Output", 8.3 "Alarm Input"), as linked
resources reached over MQTT or HTTP.

An alarm output is triggered by a rule or by hand (``alarm_output``) and cleared by hand
(``clear_alarm_output``) or, with a ``delay``, by itself that many seconds later (the manual's
"Delay": 5 s to 10 min, or ``0``: manual). A rule triggers it only inside its own arming
schedule; by hand it always answers. Its state goes out as the ``on``/``off`` command.

An alarm input is a source: its state comes from an MQTT ``state_topic`` or an HTTP call
(``{"state": "closed"}``, ``"open"``, or ``ON``/``OFF``: ON is a closed contact). A
normally-open input alarms while closed, a normally-closed one while open; only while armed
(the ``arm_alarm_input``/``disarm_alarm_input`` actions) and inside its arming schedule.
Each input declares its event type (``alarm_input`` unless it names its own).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.capabilities import KEY, EventTypeInfo
from camera_runtime.exceptions import ConfigError
from camera_runtime.interfaces import Action, ActionRequest
from camera_runtime.schedule import ARMING_SCHEDULE, ArmingSchedule

from .transport import MQTT_SCHEMA, TRANSPORT_KEYS, ReachedResource

#: Manual 8.2: "5s, 10s, 30s, 1min, 2min, 5min, 10min, Manual" (0).
DELAYS = (0, 5, 10, 30, 60, 120, 300, 600)
OUTPUT_SCHEMA = vol.Schema(
    {
        **TRANSPORT_KEYS,
        vol.Optional("delay", default=0): vol.In(DELAYS),
        vol.Optional("arming_schedule", default="always"): ARMING_SCHEDULE,
    }
)
INPUT_SCHEMA = vol.Schema(
    {
        # Its state arrives on ``mqtt.state_topic`` or at ``POST .../resources/{id}/input``.
        vol.Optional("mqtt"): MQTT_SCHEMA,
        vol.Optional("mode", default="normally_open"): vol.In(["normally_open", "normally_closed"]),
        vol.Optional("arming_schedule", default="always"): ARMING_SCHEDULE,
        vol.Optional("armed", default=True): bool,
        vol.Optional("device_class", default="safety"): str,
        # The event type it raises: inputs sharing one are one binary sensor in Home
        # Assistant (on while any alarms); a type of its own gives it a sensor of its own.
        vol.Optional("event_type", default="alarm_input"): vol.All(
            str, vol.Match(KEY.pattern, msg="event types are lowercase keys")
        ),
    }
)
_CLOSED = {"closed", "close", "on", "1", "true"}
_OPEN = {"open", "off", "0", "false"}


class AlarmOutput(ReachedResource):
    kind: ClassVar[str] = "alarm_output"
    ACTIONS: ClassVar[tuple[str, ...]] = ("alarm_output", "clear_alarm_output")
    CONFIG_SCHEMA: ClassVar[vol.Schema] = OUTPUT_SCHEMA

    def __init__(self, options: Mapping[str, Any], resource_id: str = "", name: str = "") -> None:
        super().__init__(options, resource_id, name)
        self.on = False
        self.since = 0.0
        self._clear: asyncio.TimerHandle | None = None
        self._clearing: asyncio.Task[Any] | None = None

    async def stop(self) -> None:
        if self._clear is not None:
            self._clear.cancel()
        await super().stop()

    def state(self) -> dict[str, Any]:
        return {"on": self.on, "since": self.since or None, "delay": self.options["delay"]}

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        if request.action == "clear_alarm_output":
            return await self._set(False, request)
        schedule: ArmingSchedule = self.options["arming_schedule"]
        if request.event is not None and not schedule.is_armed(time.time()):
            return {"skipped": "outside the alarm output's arming schedule"}
        result = await self._set(True, request)
        if self._clear is not None:
            self._clear.cancel()
        if self.options["delay"]:
            loop = asyncio.get_running_loop()
            self._clear = loop.call_later(self.options["delay"], self._auto_clear)
        return result

    def _auto_clear(self) -> None:
        self._clear = None
        self._clearing = asyncio.create_task(self._set(False, None))

    async def _set(self, on: bool, request: ActionRequest | None) -> dict[str, Any]:
        command = "on" if on else "off"
        event = request.event if request is not None else None
        body = {
            "resource": self.resource_id,
            "state": command,
            "event": None if event is None else {"id": event.id, "type": event.type},
        }
        sent = await self.transport.send("alarm_output" if on else "clear_alarm_output", body)
        if on != self.on:
            self.on, self.since = on, time.time()
        return {"state": command, **sent}


class AlarmInput(ReachedResource):
    kind: ClassVar[str] = "alarm_input"
    ACTIONS: ClassVar[tuple[str, ...]] = ("arm_alarm_input", "disarm_alarm_input")
    CONFIG_SCHEMA: ClassVar[vol.Schema] = INPUT_SCHEMA

    def __init__(self, options: Mapping[str, Any], resource_id: str = "", name: str = "") -> None:
        super().__init__(options, resource_id, name)
        self.armed = bool(options["armed"])
        self.closed: bool | None = None

    def event_types(self) -> tuple[EventTypeInfo, ...]:
        name = self.options["event_type"]
        label = "Alarm input" if name == "alarm_input" else f"Alarm input {self.name}"
        return (EventTypeInfo(name, label, self.options["device_class"]),)

    def notifications(self) -> bool:
        return self.armed

    def state(self) -> dict[str, Any]:
        return {
            "armed": self.armed,
            "mode": self.options["mode"],
            "contact": None if self.closed is None else ("closed" if self.closed else "open"),
            "alarm": self._alarm(),
        }

    def _alarm(self) -> bool:
        if self.closed is None:
            return False
        return self.closed if self.options["mode"] == "normally_open" else not self.closed

    def on_state(self, payload: bytes) -> None:
        text = payload.decode("utf-8", "replace").strip()
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        try:
            self._contact(data.get("state") if isinstance(data, Mapping) else data)
        except ConfigError:
            return  # not a contact state: ignored

    async def receive(self, payload: Mapping[str, Any]) -> None:
        self._contact(payload.get("state"))

    def _contact(self, state: Any) -> None:
        word = str(state).strip().lower() if isinstance(state, str | bool | int) else ""
        if isinstance(state, bool):
            word = "on" if state else "off"
        if word not in _CLOSED | _OPEN:
            raise ConfigError("state: expected closed or open (ON or OFF)")
        self.closed = word in _CLOSED
        self._update()

    def _update(self) -> None:
        assert self.context is not None
        schedule: ArmingSchedule = self.options["arming_schedule"]
        alarm = self._alarm() and self.armed and schedule.is_armed(time.time())
        data = {"mode": self.options["mode"], "contact": "closed" if self.closed else "open"}
        self.context.raise_event(self.options["event_type"], alarm, data)

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        self.armed = request.action == "arm_alarm_input"
        if not self.armed and self.context is not None:
            self.context.raise_event(self.options["event_type"], False, {})
        return {"armed": self.armed}


@hookimpl
def register_actions(register: Callable[[type[Action]], None]) -> None:
    """``alarm_output`` and ``alarm_input`` under ``linkage.resources[].type``."""
    register(AlarmOutput)
    register(AlarmInput)
