"""Settings changed while running (arming switch, detector on/off and options), kept across restarts.

A camera keeps what its user switched: disarming a channel from Home Assistant must survive a
restart. The config file stays the user's; these overrides live beside the event history in
the data folder (``overrides.json``), written atomically, and are applied over the config at
start. An override the config no longer accepts (the channel or detector is gone, an option is
now invalid) is dropped with a warning rather than stopping the runtime.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from .channel import Channel
from .config import _plugin_options
from .exceptions import ConfigError, StorageError
from .registry import PluginRegistry

_LOGGER = logging.getLogger(__name__)

FILENAME = "overrides.json"


class Overrides:
    """``{channel: {"armed": bool, "detectors": {kind: {"enabled": bool, "options": {...}}}}}``.

    Only what was changed is stored: options hold the keys a user set, not the whole schema,
    so an edit of the config file still applies to everything else.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILENAME
        self.channels: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as err:
            # Unreadable overrides lose switch positions, never the runtime: say so and go on.
            _LOGGER.warning(
                "%s is unreadable (%s): run-time settings start from the config", self.path, err
            )
            return
        channels = data.get("channels") if isinstance(data, dict) else None
        if isinstance(channels, dict):
            self.channels = {str(k): v for k, v in channels.items() if isinstance(v, dict)}

    def _write(self, channels: dict[str, dict[str, Any]]) -> None:
        """Write ``channels`` atomically; blocking."""
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"channels": channels}, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as err:
            raise StorageError(f"cannot save run-time settings to {self.path}: {err}") from err

    async def update(
        self,
        change: Callable[[dict[str, dict[str, Any]]], None],
        apply: Callable[[], None],
        writer: Executor,
    ) -> None:
        """Make ``change`` to a copy of the overrides, write the copy on ``writer``, and only
        then keep it and ``apply`` the setting to the channel: a failed write raises
        ``StorageError`` and changes nothing, on disk or in the running channel. Changes are
        serialised, so they are written and applied in the order they were made."""
        async with self._lock:
            updated = copy.deepcopy(self.channels)
            change(updated)
            await asyncio.get_running_loop().run_in_executor(writer, self._write, updated)
            self.channels = updated
            apply()

    def channel(self, channel_id: str) -> dict[str, Any]:
        return self.channels.get(channel_id, {})

    def apply(self, channel: Channel, registry: PluginRegistry) -> None:
        """Set a new channel's switches and options from what was stored for it."""
        stored = self.channel(channel.id)
        if isinstance(stored.get("armed"), bool):
            channel.armed = stored["armed"]
        detectors = stored.get("detectors")
        for kind, entry in (detectors if isinstance(detectors, dict) else {}).items():
            if kind not in channel.detectors or not isinstance(entry, dict):
                continue
            enabled = entry.get("enabled")
            try:
                options = merged_options(registry, channel, kind, entry.get("options") or {})
            except ConfigError as err:
                _LOGGER.warning(
                    "%s: stored %s options dropped, the config's apply: %s",
                    channel.id,
                    kind,
                    "; ".join(err.errors),
                )
                options = None
            channel.set_detector(
                kind, enabled=enabled if isinstance(enabled, bool) else None, options=options
            )


def armed_change(channel_id: str, armed: bool) -> Callable[[dict[str, dict[str, Any]]], None]:
    """The change that stores a channel's arming switch."""

    def change(channels: dict[str, dict[str, Any]]) -> None:
        channels.setdefault(channel_id, {})["armed"] = armed

    return change


def detector_change(
    channel_id: str, kind: str, enabled: bool | None, options: Mapping[str, Any] | None
) -> Callable[[dict[str, dict[str, Any]]], None]:
    """The change that stores a detector's switch and the options a user set."""

    def change(channels: dict[str, dict[str, Any]]) -> None:
        entry = channels.setdefault(channel_id, {}).setdefault("detectors", {}).setdefault(kind, {})
        if enabled is not None:
            entry["enabled"] = enabled
        if options:
            entry["options"] = {**entry.get("options", {}), **options}

    return change


def forget_change(channel_id: str) -> Callable[[dict[str, dict[str, Any]]], None]:
    """The change that drops a removed channel's overrides."""

    def change(channels: dict[str, dict[str, Any]]) -> None:
        channels.pop(channel_id, None)

    return change


def merged_options(
    registry: PluginRegistry, channel: Channel, kind: str, options: Mapping[str, Any]
) -> dict[str, Any]:
    """The detector's current options with ``options`` over them, checked by its schema."""
    if not isinstance(options, Mapping):
        raise ConfigError("options must be a mapping")
    current = channel.detectors[kind].options
    path = ["channels", channel.id, "detectors", kind]
    merged, errors = _plugin_options(registry, "detector", kind, {**current, **options}, path)
    if merged is None:
        raise ConfigError(f"invalid {kind} options for channel {channel.id!r}", errors)
    return merged


__all__ = [
    "FILENAME",
    "Overrides",
    "armed_change",
    "detector_change",
    "forget_change",
    "merged_options",
]
