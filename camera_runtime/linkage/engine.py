"""The linkage engine: builds the linked resources (action plugins), watches the event bus,
fires the rules an event matches, and changes rules through the config (validated, written
back, applied), so the file, the API and the web page always agree.

A rule fires on a ``new`` event whose type is its triggering event and whose source is its
source: a channel (the event's ``channel``) or a declared resource (the event's
``data["source"]``). It stays inactive, and says why, while its source has notifications off
(a disarmed channel, a disarmed alarm input, a resource declared with ``notifications:
false``) or does not raise its event.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from ..capabilities import EventTypeInfo
from ..exceptions import CameraRuntimeError, ConfigError, NotFoundError
from ..interfaces import Action, RuntimeView
from ..model import DEVICE, Event, EventPhase, EventUpdate
from ..registry import PluginRegistry
from .firing import LINKAGE_FAILED, LINKAGE_FIRED, OWN_EVENTS, Firing

_LOGGER = logging.getLogger(__name__)

#: Writes a new ``linkage`` section as the config would (validate, write back) and returns
#: the validated section in force.
Adopt = Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]


class _Context:
    """What one resource gets from the engine (``interfaces.ActionContext``)."""

    def __init__(self, engine: Linkage, resource_id: str) -> None:
        self._engine = engine
        self._id = resource_id

    @property
    def runtime(self) -> RuntimeView:
        return self._engine.runtime

    def raise_event(self, event_type: str, active: bool, data: Mapping[str, Any]) -> None:
        self._engine.source_event(self._id, event_type, active, data)


class Linkage:
    """One runtime's linkage. ``start`` with the validated section, ``stop`` with the runtime;
    ``publish`` puts events on the runtime's bus; ``adopt`` and ``written`` change the config."""

    def __init__(
        self,
        runtime: RuntimeView,
        registry: PluginRegistry,
        publish: Callable[[EventUpdate], None],
        adopt: Adopt,
        written: Callable[[], Any],
    ) -> None:
        self.runtime = runtime
        self.registry = registry
        self.publish = publish
        self._adopt = adopt
        self._written = written
        self.firing = Firing(runtime, publish)
        self._section: Mapping[str, Any] = {"resources": [], "rules": [], "retry": {}}
        self._resources: dict[str, Action] = {}
        self._channel: Action | None = None
        self._active: dict[tuple[str, str], Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, section: Mapping[str, Any]) -> None:
        """Build and start every resource, then watch the bus. A resource that cannot start
        is logged and shows its error; the others and the rules go on."""
        if "channel" in self.registry.kinds("action"):
            channel = self.registry.get("action", "channel")({})
            assert isinstance(channel, Action)
            self._channel = channel
        await self._build(section)
        self._unsubscribe = self.runtime.subscribe_events(self.on_event)

    async def _build(self, section: Mapping[str, Any]) -> None:
        self._section = section
        self.firing.configure(section.get("retry", {}))
        for spec in section.get("resources", []):
            cls = self.registry.get("action", spec["type"])
            options = {k: v for k, v in spec.items() if k not in ("id", "type", "name")}
            assert issubclass(cls, Action)
            resource = cls(options, spec["id"], spec.get("name", spec["id"]))
            self._resources[spec["id"]] = resource
            try:
                await resource.start(_Context(self, spec["id"]))
            except CameraRuntimeError as err:
                _LOGGER.error("linked resource %s cannot start: %s", spec["id"], err.message)

    async def _teardown(self) -> None:
        for resource in self._resources.values():
            try:
                await resource.stop()
            except Exception:  # one resource failing to stop must not keep the others
                _LOGGER.exception("linked resource %s failed to stop", resource.resource_id)
        self._resources = {}
        for key in list(self._active):
            self._end(key)

    async def stop(self) -> None:
        """Stop watching, let running actions finish (cancelled after 5 s), stop resources."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=5.0)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self._teardown()

    def apply(self, section: Mapping[str, Any]) -> None:
        """A new validated section whose rules changed (the resources are the file's, read at
        start: the API changes rules only)."""
        self._section = section
        self.firing.configure(section.get("retry", {}))

    # ------------------------------------------------------------------ events

    def on_event(self, update: EventUpdate) -> None:
        """From the bus: fire every active rule the new event matches (as tasks)."""
        event = update.event
        if update.phase is not EventPhase.NEW or event.type in OWN_EVENTS:
            return
        source = event.channel if event.channel != DEVICE else event.data.get("source")
        for rule in self._section.get("rules", []):
            if rule["source"] != source or rule["event"] != event.type:
                continue
            if self.inactive_reason(rule):
                continue
            links = [(self._resource(link["resource"]), link) for link in rule["actions"]]
            task = asyncio.create_task(self.firing.fire(rule, event, links))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def source_event(
        self, resource_id: str, event_type: str, active: bool, data: Mapping[str, Any]
    ) -> None:
        """A resource's own event starts or ends (on the loop)."""
        key = (resource_id, event_type)
        if active and key not in self._active:
            event = Event(DEVICE, event_type, time.time(), data={**data, "source": resource_id})
            self._active[key] = event
            self.publish(EventUpdate(EventPhase.NEW, replace(event, data=dict(event.data))))
        elif not active:
            self._end(key)

    def _end(self, key: tuple[str, str]) -> None:
        event = self._active.pop(key, None)
        if event is not None:
            event.end = time.time()
            self.publish(EventUpdate(EventPhase.END, event))

    # ------------------------------------------------------------------ reading

    def _resource(self, ref: str) -> Action:
        resource = self._resources.get(ref)
        if resource is not None:
            return resource
        if self._channel is not None and ref in self.runtime.channel_ids():
            return self._channel
        raise NotFoundError(f"no linked resource {ref!r}", "resource_not_found")

    def _source_events(self, ref: str) -> tuple[list[str], bool] | None:
        """The event types ``ref`` raises and whether its notifications are on."""
        if ref in self._resources:
            resource = self._resources[ref]
            return [t.name for t in resource.event_types()], resource.notifications()
        try:
            status = self.runtime.channel_status(ref)
        except NotFoundError:
            return None
        return [t["name"] for t in status["event_types"]], status["armed"]

    def inactive_reason(self, rule: Mapping[str, Any]) -> str:
        """Why the rule cannot fire now (``""`` when it can)."""
        if not rule.get("enabled", True):
            return "the rule is disabled"
        found = self._source_events(rule["source"])
        if found is None:
            return f"the source {rule['source']!r} is gone"
        types, notifications = found
        if not notifications:
            return (
                f"the source {rule['source']!r} has notifications off (disarmed): "
                "the linkage actions will not run"
            )
        if rule["event"] not in types:
            return f"the source {rule['source']!r} raises no {rule['event']!r} event"
        return ""

    def rules(self) -> list[dict[str, Any]]:
        out = []
        for rule in self._section.get("rules", []):
            reason = self.inactive_reason(rule)
            out.append({**copy.deepcopy(rule), "active": not reason, "inactive_reason": reason})
        return out

    def resources(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self._channel is not None:
            for status in self.runtime.channel_statuses():
                out.append(self._describe(status["id"], status["name"], self._channel))
        for ref, resource in self._resources.items():
            out.append(self._describe(ref, resource.name, resource))
        return out

    def _describe(self, ref: str, name: str, resource: Action) -> dict[str, Any]:
        found = self._source_events(ref)
        return {
            "id": ref,
            "name": name,
            "type": resource.kind,
            "actions": list(resource.ACTIONS),
            "camera": resource.CAMERA,
            "event_types": found[0] if found else [],
            "notifications": found[1] if found else False,
            "state": resource.state() if resource is not self._channel else {},
        }

    def event_types(self) -> list[dict[str, Any]]:
        """The device-level event types: the engine's own, then each source's (one entry per
        name, listing the resources that raise it)."""
        declared: dict[str, tuple[EventTypeInfo, list[str]]] = {
            LINKAGE_FIRED.name: (LINKAGE_FIRED, []),
            LINKAGE_FAILED.name: (LINKAGE_FAILED, []),
        }
        for ref, resource in self._resources.items():
            for info in resource.event_types():
                declared.setdefault(info.name, (info, []))[1].append(ref)
        return [
            {**info.as_dict(), "detector": None, "sources": sources}
            for info, sources in declared.values()
        ]

    def status(self) -> dict[str, Any]:
        return {**self.firing.counters.as_dict(), "running": len(self._tasks)}

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        events = await self.runtime.events(type=LINKAGE_FIRED.name, limit=limit)
        return [event.as_dict() for event in events]

    # ------------------------------------------------------------------ commands

    async def run(
        self, resource: str, action: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        target = self._resource(resource)
        if action not in target.ACTIONS:
            message = f"action: {action!r} is not an action of a {target.kind}: {', '.join(target.ACTIONS)}"
            raise ConfigError(message, [message])
        return await self.firing.run(target, resource, action, dict(params or {}), None)

    async def receive(self, resource: str, payload: Mapping[str, Any]) -> None:
        target = self._resources.get(resource)
        if target is None:
            raise NotFoundError(f"no linked resource {resource!r}", "resource_not_found")
        await target.receive(payload)

    def _written_section(self) -> dict[str, Any]:
        section = self._written()
        return copy.deepcopy(dict(section)) if isinstance(section, Mapping) else {}

    def _rule_index(self, rules: list[Any], rule_id: str) -> int:
        for index, rule in enumerate(rules):
            if isinstance(rule, Mapping) and rule.get("id") == rule_id:
                return index
        raise NotFoundError(f"no linkage rule {rule_id!r}", "rule_not_found")

    async def _change(self, rules: list[Any]) -> None:
        section = self._written_section()
        section["rules"] = rules
        self.apply(await self._adopt(section))

    def _rule(self, rule_id: str) -> dict[str, Any]:
        return next(rule for rule in self.rules() if rule["id"] == rule_id)

    async def add_rule(self, data: Mapping[str, Any]) -> dict[str, Any]:
        rule = dict(data)
        rule.setdefault("id", f"rule-{uuid.uuid4().hex[:8]}")
        rules = list(self._written_section().get("rules") or [])
        if any(isinstance(r, Mapping) and r.get("id") == rule["id"] for r in rules):
            message = f"linkage.rules.id: a rule {rule['id']!r} already exists"
            raise ConfigError(message, [message])
        await self._change([*rules, rule])
        return self._rule(str(rule["id"]))

    async def replace_rule(self, rule_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        rules = list(self._written_section().get("rules") or [])
        rules[self._rule_index(rules, rule_id)] = {**data, "id": rule_id}
        await self._change(rules)
        return self._rule(rule_id)

    async def delete_rule(self, rule_id: str) -> None:
        rules = list(self._written_section().get("rules") or [])
        del rules[self._rule_index(rules, rule_id)]
        await self._change(rules)


__all__ = ["Linkage"]
