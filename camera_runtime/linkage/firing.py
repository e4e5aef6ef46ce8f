"""Carrying a fired rule out: each linkage action with its retries, the record of the firing
(the ``linkage_fired`` event: when, which event, which actions, each one's outcome) and the
``linkage_action_failed`` exception for an action that failed after its retries.

Nothing is dropped silently: an action that still fails after ``attempts`` tries is logged
(its message only: a resource's options, where credentials live, are never logged), raised as
an exception event that every face carries, and counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..capabilities import EventTypeInfo
from ..exceptions import CameraRuntimeError
from ..interfaces import Action, ActionRequest, RuntimeView
from ..logsafe import escape
from ..model import DEVICE, Event, EventPhase, EventUpdate

_LOGGER = logging.getLogger(__name__)

LINKAGE_FIRED = EventTypeInfo("linkage_fired", "Linkage rule fired")
LINKAGE_FAILED = EventTypeInfo(
    "linkage_action_failed", "Linkage action failed", device_class="problem", exception=True
)
#: The engine's own events never trigger a rule (a rule cannot feed itself).
OWN_EVENTS = frozenset({LINKAGE_FIRED.name, LINKAGE_FAILED.name})


@dataclass
class Counters:
    fired: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "fired": self.fired,
            "done": self.done,
            "retried": self.retried,
            "failed": self.failed,
        }


class Firing:
    """Runs actions for the engine: ``attempts`` tries in all, waiting ``backoff`` s, then
    twice as long..., between them; ``publish`` puts the record and failures on the bus."""

    def __init__(self, runtime: RuntimeView, publish: Callable[[EventUpdate], None]) -> None:
        self.runtime = runtime
        self.publish = publish
        self.counters = Counters()
        self.attempts = 3
        self.backoff = 1.0

    def configure(self, retry: Mapping[str, Any]) -> None:
        self.attempts = int(retry.get("attempts", 3))
        self.backoff = float(retry.get("backoff", 1.0))

    async def run(
        self,
        resource: Action,
        target: str,
        action: str,
        params: Mapping[str, Any],
        event: Event | None,
        rule: str = "",
    ) -> dict[str, Any]:
        """One action with its retries; returns its outcome (``ok`` or ``failed``, attempts,
        seconds taken, what it produced or the last error). Never raises but on cancel."""
        started = time.monotonic()
        error = ""
        for attempt in range(1, self.attempts + 1):
            request = ActionRequest(self.runtime, action, target, event, params)
            try:
                result = await resource.execute(request)
            except CameraRuntimeError as err:
                error = err.message
            except Exception as err:  # a plugin's bug is reported like a failure, not lost
                _LOGGER.exception("linkage action %s on %s raised", action, target)
                error = f"{type(err).__name__} in the {resource.kind} action"
            else:
                self.counters.done += 1
                return {
                    "resource": target,
                    "action": action,
                    "outcome": "ok",
                    "attempts": attempt,
                    "seconds": round(time.monotonic() - started, 4),
                    "result": result,
                }
            if attempt < self.attempts:
                self.counters.retried += 1
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        self.counters.failed += 1
        _LOGGER.error(
            "linkage action %s on %s failed after %d attempt(s): %s",
            action,
            target,
            self.attempts,
            escape(error),
        )
        outcome = {
            "resource": target,
            "action": action,
            "outcome": "failed",
            "attempts": self.attempts,
            "seconds": round(time.monotonic() - started, 4),
            "error": error,
        }
        now = time.time()
        failure = Event(DEVICE, LINKAGE_FAILED.name, now, data={"rule": rule, **outcome})
        self.publish(EventUpdate(EventPhase.NEW, replace(failure)))
        failure.end = time.time()
        self.publish(EventUpdate(EventPhase.END, failure))
        return outcome

    async def fire(
        self,
        rule: Mapping[str, Any],
        event: Event,
        links: list[tuple[Action, Mapping[str, Any]]],
    ) -> Event:
        """Every action of ``rule`` at once for ``event``; the ``linkage_fired`` record starts
        when the rule fires and ends with each action's outcome."""
        self.counters.fired += 1
        record = Event(
            DEVICE,
            LINKAGE_FIRED.name,
            time.time(),
            data={
                "rule": rule["id"],
                "name": rule.get("name", ""),
                "trigger": {
                    "id": event.id,
                    "type": event.type,
                    "channel": event.channel,
                    "source": rule["source"],
                    "start": event.start,
                },
                "actions": [
                    {"resource": link["resource"], "action": link["action"], "outcome": "pending"}
                    for _, link in links
                ],
            },
        )
        self.publish(EventUpdate(EventPhase.NEW, replace(record, data=dict(record.data))))
        outcomes = await asyncio.gather(
            *(
                self.run(
                    resource, link["resource"], link["action"], link["params"], event, rule["id"]
                )
                for resource, link in links
            )
        )
        record.data["actions"] = list(outcomes)
        record.end = time.time()
        self.publish(EventUpdate(EventPhase.END, record))
        return record


__all__ = ["LINKAGE_FAILED", "LINKAGE_FIRED", "OWN_EVENTS", "Counters", "Firing"]
