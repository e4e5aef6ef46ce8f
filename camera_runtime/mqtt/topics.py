"""The MQTT topic tree, in one place, and the sanitising of names that become topic levels.

Channel ids, event types and detector kinds end up as topic levels (and in Home Assistant
discovery ids). A level made from a name keeps only ``[A-Za-z0-9_-]``: every other character
(``/``, ``+``, ``#``, ``.``, CR, LF, NUL, spaces...) becomes ``_``, so no name can add a level,
a wildcard, a ``..`` or a control character to a topic (security case B7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

#: Levels directly under a channel that are not event types; an event type with one of these
#: names would collide with them, so its state topic gets a ``event_`` prefix instead.
#: (Controls live one level deeper, ``<channel>/<key>/set`` and ``/state``: no clash.)
RESERVED_CHANNEL_LEVELS = frozenset(
    {"availability", "status", "events", "snapshot", "info", "error"}
)

ON, OFF = "ON", "OFF"
#: A button's command payload.
PRESS = "PRESS"
ONLINE, OFFLINE = "online", "offline"


def segment(name: str) -> str:
    """``name`` as one safe topic level: only ``[A-Za-z0-9_-]``, never empty, at most 64 chars."""
    cleaned = _UNSAFE.sub("_", name)[:64]
    return cleaned or "_"


@dataclass(frozen=True)
class Topics:
    """Every topic the bridge uses, for one runtime (``<prefix>/<device_id>/...``)."""

    prefix: str
    device_id: str
    discovery_prefix: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{segment(self.device_id)}"

    # --- runtime-wide
    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def info(self) -> str:
        return f"{self.base}/info"

    @property
    def error(self) -> str:
        return f"{self.base}/error"

    @property
    def command_filter(self) -> str:
        """Subscription for every command: ``<base>/<channel>/<feature>/set``."""
        return f"{self.base}/+/+/set"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth / last-will topic."""
        return f"{self.discovery_prefix}/status"

    # --- per channel (the device's own events, channel ``""``, live at the base)
    def channel(self, channel: str) -> str:
        return f"{self.base}/{segment(channel)}" if channel else self.base

    def channel_availability(self, channel: str) -> str:
        return f"{self.channel(channel)}/availability"

    def channel_status(self, channel: str) -> str:
        return f"{self.channel(channel)}/status"

    def events(self, channel: str) -> str:
        return f"{self.channel(channel)}/events"

    def snapshot(self, channel: str) -> str:
        return f"{self.channel(channel)}/snapshot"

    def event_state(self, channel: str, event_type: str) -> str:
        """Retained ON/OFF per event type (Frigate's ``<camera>/motion``)."""
        level = segment(event_type)
        if level in RESERVED_CHANNEL_LEVELS:
            level = f"event_{level}"
        return f"{self.channel(channel)}/{level}"

    def rule_state(self, channel: str, event_type: str, rule_id: int) -> str:
        """Retained ON/OFF of one declared rule of an event type (a smart event's line or
        region): a level under its event type's state, ``.../<type>/rule_<id>``."""
        return f"{self.event_state(channel, event_type)}/rule_{int(rule_id)}"

    def rule_attributes(self, channel: str, event_type: str, rule_id: int) -> str:
        """Retained JSON attributes of one rule (``rule_states.RuleStates.attributes``)."""
        return f"{self.rule_state(channel, event_type, rule_id)}/attributes"

    def command(self, channel: str, feature: str) -> str:
        return f"{self.channel(channel)}/{segment(feature)}/set"

    def state(self, channel: str, feature: str) -> str:
        return f"{self.channel(channel)}/{segment(feature)}/state"

    def parse_command(self, topic: str) -> tuple[str, str] | None:
        """``<base>/<channel>/<feature>/set`` -> (channel level, feature), else None."""
        head = f"{self.base}/"
        if not topic.startswith(head) or not topic.endswith("/set"):
            return None
        parts = topic[len(head) : -len("/set")].split("/")
        if len(parts) != 2:
            return None
        return parts[0], parts[1]

    # --- Home Assistant discovery
    def node_id(self, channel: str | None = None) -> str:
        """Discovery object id (HA allows ``[a-zA-Z0-9_-]``): one per runtime and per channel."""
        node = f"camera_runtime_{segment(self.device_id)}"
        return node if channel is None else f"{node}_{segment(channel)}"

    def discovery(self, channel: str | None = None) -> str:
        return f"{self.discovery_prefix}/device/{self.node_id(channel)}/config"


__all__ = [
    "OFF",
    "OFFLINE",
    "ON",
    "ONLINE",
    "PRESS",
    "RESERVED_CHANNEL_LEVELS",
    "Topics",
    "segment",
]
