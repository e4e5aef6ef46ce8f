"""The linkage engine as faces see it (``RuntimeView.linkage``): rules, resources, the record
of fired rules, and the commands the API and MQTT reach."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class LinkageView(Protocol):
    """Rules are changed as a whole section is (validated, written back to the config file,
    then applied): ``ConfigError`` names each bad key and changes nothing."""

    def rules(self) -> list[dict[str, Any]]:
        """Every rule with ``active`` and, when inactive, ``inactive_reason``."""

    def resources(self) -> list[dict[str, Any]]:
        """Every linked resource (channels included): type, actions, event types, state."""

    def status(self) -> dict[str, Any]:
        """Counters: rules fired, actions done, retried and failed."""

    async def log(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest fired rules: when, which event, which actions, each one's outcome."""

    async def add_rule(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Add a rule (its ``id`` is made up when not given); returns it with its status."""

    async def replace_rule(self, rule_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a rule, keeping its id (``NotFoundError`` for an unknown one)."""

    async def delete_rule(self, rule_id: str) -> None:
        """Remove a rule (``NotFoundError`` for an unknown one)."""

    async def run(
        self, resource: str, action: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run one linkage action by hand (a manual alarm output, clearing it, opening a
        door), with the same retries as a rule; returns its outcome."""

    async def receive(self, resource: str, payload: Mapping[str, Any]) -> None:
        """An HTTP call to a resource that is a source (an alarm input's state, a doorbell)."""


__all__ = ["LinkageView"]
