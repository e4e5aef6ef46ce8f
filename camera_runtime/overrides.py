"""Settings changed while running (arming switch, detector and image stage on/off and options,
any declared control, target cropping), kept across restarts.

A camera keeps what its user switched: disarming a channel from Home Assistant must survive a
restart. The config file stays the user's; these overrides live beside the event history in
the data folder (``overrides.json``), written atomically, and are applied over the config at
start. A change is written before it applies: when the file cannot be written the change is
refused (``StorageError``) and nothing changes, on disk or in the channel. An override the
config no longer accepts (the channel, detector or stage is gone, an option is now invalid) is
dropped at start with a warning rather than stopping the runtime.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .capabilities import ControlKind, options_with
from .channel import DISPLAY_INFO, Channel
from .config import changed_cropping, cropping_as_data, plugin_options
from .data_folder import read_channels_file, write_channels_file
from .exceptions import ConfigError, NotFoundError
from .registry import PluginRegistry

_LOGGER = logging.getLogger(__name__)

FILENAME = "overrides.json"

Stored = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Point:
    """Where the plugins of one extension point live in a channel and in ``overrides.json``."""

    key: str  # their block in a channel's stored overrides (as in the config)
    what: str  # how messages name one
    code: str  # the error code of a kind the channel does not have

    def configs(self, channel: Channel) -> Mapping[str, Any]:
        return channel.detectors if self.key == "detectors" else channel.stages

    def set(
        self,
        channel: Channel,
        kind: str,
        enabled: bool | None,
        options: Mapping[str, Any] | None,
    ) -> None:
        setter = channel.set_detector if self.key == "detectors" else channel.set_stage
        setter(kind, enabled=enabled, options=options)


#: The extension points whose plugins a channel holds, own controls and keep overrides.
POINTS = {
    "detector": _Point("detectors", "detector", "detector_not_found"),
    "image_stage": _Point("image", "image stage", "image_stage_not_found"),
}


#: A channel's stored target cropping: the keys a user set, as config data.
CROPPING = "target_cropping"


class Overrides:
    """``{channel: {"armed": bool, "detectors": {kind: {"enabled": bool, "options": {...}}},
    "image": {kind: {...the same...}}, "target_cropping": {key: value}, "display_info": bool}}``.

    Only what was changed is stored: options hold the keys a user set, not the whole schema,
    so an edit of the config file still applies to everything else. Changes are serialised:
    written and applied in the order they were made, each write on ``writer``.
    """

    def __init__(self, data_dir: Path, registry: PluginRegistry) -> None:
        self.path = Path(data_dir) / FILENAME
        self.channels: Stored = {}
        self._registry = registry
        self._lock = asyncio.Lock()

    def load(self) -> None:
        # Unreadable overrides lose switch positions, never the runtime.
        self.channels = read_channels_file(self.path, "run-time settings start from the config")

    def _write(self, channels: Stored) -> None:
        """Write ``channels`` atomically; blocking."""
        write_channels_file(self.path, channels, "run-time settings")

    async def _update(
        self, change: Callable[[Stored], None], apply: Callable[[], None], writer: Executor
    ) -> None:
        """Make ``change`` to a copy, write the copy, and only then keep it and ``apply``."""
        async with self._lock:
            updated = copy.deepcopy(self.channels)
            change(updated)
            await asyncio.get_running_loop().run_in_executor(writer, self._write, updated)
            self.channels = updated
            apply()

    # ------------------------------------------------------------------ changes

    async def set_armed(self, channel: Channel, armed: bool, writer: Executor) -> None:
        """The channel's arming switch."""

        def change(stored: Stored) -> None:
            stored.setdefault(channel.id, {})["armed"] = armed

        def apply() -> None:
            channel.armed = armed

        await self._update(change, apply, writer)

    async def set_display_info(self, channel: Channel, on: bool, writer: Executor) -> None:
        """The channel's display info switch (manual 4.2: detection boxes on the stream)."""

        def change(stored: Stored) -> None:
            stored.setdefault(channel.id, {})[DISPLAY_INFO.key] = on

        def apply() -> None:
            channel.display_info = on

        await self._update(change, apply, writer)

    async def set_detector(
        self,
        channel: Channel,
        kind: str,
        enabled: bool | None,
        options: Mapping[str, Any] | None,
        writer: Executor,
    ) -> None:
        """A detector's switch and/or some of its options (merged into the current ones and
        checked by its schema first: ``ConfigError`` changes nothing)."""
        await self.set_plugin(channel, "detector", kind, enabled, options, writer)

    async def set_stage(
        self,
        channel: Channel,
        kind: str,
        enabled: bool | None,
        options: Mapping[str, Any] | None,
        writer: Executor,
    ) -> None:
        """An image stage's switch and/or some of its options, as ``set_detector``."""
        await self.set_plugin(channel, "image_stage", kind, enabled, options, writer)

    async def set_plugin(
        self,
        channel: Channel,
        point: str,
        kind: str,
        enabled: bool | None,
        options: Mapping[str, Any] | None,
        writer: Executor,
    ) -> None:
        """The switch and/or options of a channel's plugin at ``point`` (``detector`` or
        ``image_stage``)."""
        where = POINTS[point]
        merged = self.checked_options(channel, point, kind, options)

        def change(stored: Stored) -> None:
            entry = stored.setdefault(channel.id, {}).setdefault(where.key, {})
            entry = entry.setdefault(kind, {})
            if enabled is not None:
                entry["enabled"] = enabled
            if options:
                entry["options"] = {**entry.get("options", {}), **options}

        def apply() -> None:
            where.set(channel, kind, enabled, merged)

        await self._update(change, apply, writer)

    def checked_options(
        self, channel: Channel, point: str, kind: str, options: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """The options a change of the channel's plugin ``kind`` at ``point`` would give it:
        ``options`` merged into its current ones and checked by its schema (``None`` when
        none are given). ``NotFoundError`` for a kind the channel has not, ``ConfigError``
        naming each bad key."""
        where = POINTS[point]
        if kind not in where.configs(channel):
            raise NotFoundError(f"channel {channel.id!r} has no {kind!r} {where.what}", where.code)
        return merged_options(self._registry, channel, kind, options, point) if options else None

    async def set_control(self, channel: Channel, key: str, value: Any, writer: Executor) -> None:
        """A declared control: the value is checked by the control (its kind, range and step),
        then set on its owner: the channel itself, a detector or an image stage."""
        bound = channel.control(key)
        if bound.control.kind is ControlKind.BUTTON:
            raise ConfigError(f"{key} is a button: press it, it holds no value")
        value = bound.control.parse(value)
        if bound.owner is None and bound.control.sets == DISPLAY_INFO.sets:
            await self.set_display_info(channel, value, writer)
        elif bound.owner is None:  # the channel's own: the arming switch
            await self.set_armed(channel, value, writer)
        elif bound.control.sets == "enabled":
            await self.set_plugin(channel, bound.point, bound.owner, value, None, writer)
        else:
            current = POINTS[bound.point].configs(channel)[bound.owner].options
            options = options_with(current, bound.control.sets, value)
            await self.set_plugin(channel, bound.point, bound.owner, None, options, writer)

    async def set_target_cropping(
        self, channel: Channel, changes: Mapping[str, Any], writer: Executor
    ) -> None:
        """Some of the channel's target cropping keys (checked with the rest by the config's
        schema first: ``ConfigError`` names each bad key and changes nothing)."""
        path = ["channels", channel.id, CROPPING]
        cropping = changed_cropping(channel.target_cropping, changes, path)
        as_data = cropping_as_data(cropping)  # stored as the config file writes it
        given = {key: as_data[key] for key in changes}

        def change(stored: Stored) -> None:
            entry = stored.setdefault(channel.id, {})
            entry[CROPPING] = {**entry.get(CROPPING, {}), **given}

        await self._update(change, lambda: channel.set_target_cropping(cropping), writer)

    async def forget(self, channel_id: str, writer: Executor) -> None:
        """Drop a removed channel's overrides."""

        def change(stored: Stored) -> None:
            stored.pop(channel_id, None)

        await self._update(change, lambda: None, writer)

    # ------------------------------------------------------------------ at start

    def apply(self, channel: Channel) -> None:
        """Set a new channel's switches and options from what was stored for it."""
        stored = self.channels.get(channel.id, {})
        if isinstance(stored.get("armed"), bool):
            channel.armed = stored["armed"]
        if isinstance(stored.get(DISPLAY_INFO.key), bool):
            channel.display_info = stored[DISPLAY_INFO.key]
        if isinstance(stored.get(CROPPING), dict):
            path = ["channels", channel.id, CROPPING]
            try:
                cropping = changed_cropping(channel.target_cropping, stored[CROPPING], path)
            except ConfigError as err:
                _LOGGER.warning(
                    "%s: stored target cropping dropped, the config's applies: %s",
                    channel.id,
                    "; ".join(err.errors),
                )
            else:
                channel.set_target_cropping(cropping)
        for point, where in POINTS.items():
            block = stored.get(where.key)
            for kind, entry in (block if isinstance(block, dict) else {}).items():
                if kind not in where.configs(channel) or not isinstance(entry, dict):
                    continue
                enabled = entry.get("enabled")
                given = entry.get("options") or {}
                try:
                    options = merged_options(self._registry, channel, kind, given, point)
                except ConfigError as err:
                    _LOGGER.warning(
                        "%s: stored %s options dropped, the config's apply: %s",
                        channel.id,
                        kind,
                        "; ".join(err.errors),
                    )
                    options = None
                where.set(channel, kind, enabled if isinstance(enabled, bool) else None, options)


def merged_options(
    registry: PluginRegistry,
    channel: Channel,
    kind: str,
    options: Mapping[str, Any],
    point: str = "detector",
) -> dict[str, Any]:
    """The plugin's current options with ``options`` over them, checked by its schema."""
    if not isinstance(options, Mapping):
        raise ConfigError("options must be a mapping")
    where = POINTS[point]
    current = where.configs(channel)[kind].options
    path = ["channels", channel.id, where.key, kind]
    merged, errors = plugin_options(registry, point, kind, {**current, **options}, path)
    if merged is None:
        raise ConfigError(f"invalid {kind} options for channel {channel.id!r}", errors)
    return merged


__all__ = ["CROPPING", "FILENAME", "POINTS", "Overrides", "merged_options"]
