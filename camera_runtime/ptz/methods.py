"""The Runtime's ePTZ commands (library first: the API, MQTT, the client and linkage call
these): moves, presets, patrols, patterns, 3D positioning and count pixel, by channel.

Every payload is checked by its schema (``settings``): ``ConfigError`` names each bad key and
changes nothing. Saving, renaming and deleting write ``ptz.json`` first (``book``); when that
fails the change is refused with ``StorageError`` and reported as a storage error.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from ..channel import BoundControl, Channel
from ..channels import Channels
from ..config import checked
from ..config_yaml import format_path
from ..exceptions import ConfigError, NotFoundError
from ..storage_health import StorageHealth
from .book import PtzBook, patrol_points, pattern_as_data, pattern_from_data
from .controls import CALL_PRESET, RUN_PATTERN, START_PATROL, number_of, preset_of
from .motion import Move, PtzMotion
from .settings import (
    ABSOLUTE_SCHEMA,
    BOX_SCHEMA,
    MOVE_SCHEMA,
    NAME,
    PATROL,
    PATROL_SCHEMA,
    PATTERN,
    POINT_SCHEMA,
    PRESET,
)
from .window import Window, box_zoom, centre_on, count_pixel

#: The storage source the storage-error exception names for ``ptz.json``.
PTZ_STORAGE = "ptz presets"


class PtzMethods:
    """Mixed into ``Runtime``: needs its ``channels``, ``ptz_book``, ``storage`` and
    ``_writer``."""

    channels: Channels
    ptz_book: PtzBook
    storage: StorageHealth
    _writer: Executor

    # ----------------------------------------------------------------- wiring

    def _ptz_prepare(self, channel: Channel) -> None:
        """Give a new channel's window its saved presets, patrols and patterns."""
        channel.ptz.catalogue = lambda: self.ptz_book.of(channel.id)

    def _ptz(self, channel_id: str) -> tuple[Channel, PtzMotion]:
        channel = self.channels.find(channel_id)
        if not channel.ptz.enabled:
            raise NotFoundError(
                f"channel {channel_id!r} has no ePTZ (set ptz.enabled in its config)",
                "ptz_not_enabled",
            )
        return channel, channel.ptz

    async def _ptz_change(self, channel: Channel, change: Any) -> None:
        await self.storage.guard(
            PTZ_STORAGE, self.ptz_book.update(channel.id, change, self._writer)
        )
        channel.ptz.changed()

    def _preset(self, channel_id: str, number: Any) -> tuple[int, dict[str, Any]]:
        number = checked(PRESET, number, ["preset"], "preset number")
        found = self.ptz_book.of(channel_id)["presets"].get(str(number))
        if found is None:
            raise NotFoundError(
                f"channel {channel_id!r} has no preset {number}", "preset_not_found"
            )
        return number, found

    # ----------------------------------------------------------------- status

    def ptz_status(self, channel_id: str) -> dict[str, Any]:
        """Where the window is, what moves it, and the channel's saved presets, patrols and
        patterns (numbers as in the manual)."""
        _channel, motion = self._ptz(channel_id)
        blocks = self.ptz_book.of(channel_id)
        return {
            **motion.status(),
            "preset": motion.preset,
            "max_zoom": motion.max_zoom,
            "presets": [
                {"number": int(n), **p} for n, p in sorted(blocks["presets"].items(), key=_num)
            ],
            "patrols": [
                {"number": int(n), "presets": p}
                for n, p in sorted(blocks["patrols"].items(), key=_num)
            ],
            "patterns": [
                {"number": int(n), "length": p["length"], "steps": len(p["steps"])}
                for n, p in sorted(blocks["patterns"].items(), key=_num)
            ],
        }

    # ----------------------------------------------------------------- moves

    async def ptz_move(self, channel_id: str, data: Any) -> dict[str, Any]:
        """Start a continuous move (``pan``/``tilt``/``zoom`` directions -1..1, ``speed``
        1-7); all zero stops."""
        _, motion = self._ptz(channel_id)
        move = checked(MOVE_SCHEMA, data, ["move"], "move")
        motion.move(Move(move["pan"], move["tilt"], move["zoom"], move["speed"]))
        return motion.status()

    async def ptz_stop(self, channel_id: str) -> dict[str, Any]:
        """Stop a continuous move, a patrol or a pattern: the window stays where it is."""
        _, motion = self._ptz(channel_id)
        motion.stop_programs()
        motion.move(Move())
        return motion.status()

    async def ptz_absolute(self, channel_id: str, data: Any) -> dict[str, Any]:
        """Move the window's centre (``pan``, ``tilt`` 0..1) and/or ``zoom`` (1 to the
        channel's ``max_zoom``); a zoom above it is refused, not clamped."""
        _, motion = self._ptz(channel_id)
        target = checked(ABSOLUTE_SCHEMA, data, ["absolute"], "absolute move")
        if target.get("zoom", 1.0) > motion.max_zoom:
            message = f"absolute.zoom: at most {motion.max_zoom:g} on this channel"
            raise ConfigError("invalid absolute move", [message])
        now = motion.window
        window = Window(
            target.get("pan", now.pan), target.get("tilt", now.tilt), target.get("zoom", now.zoom)
        )
        motion.goto(window)
        return motion.status()

    async def position_3d(self, channel_id: str, data: Any) -> dict[str, Any]:
        """3D positioning (manual 3.1.13) on what the viewer sees: ``{"x", "y"}`` centres that
        point; ``{"x0", "y0", "x1", "y1"}`` (a box in drag order) zooms in on it when dragged
        towards the lower right, out when dragged towards the upper left."""
        _, motion = self._ptz(channel_id)
        if not motion.fitted:  # what the viewer sees is not known before the first picture
            raise NotFoundError(f"channel {channel_id!r} has no picture yet", "no_frame")
        now, extent = motion.window, motion.extent
        if isinstance(data, dict) and "x" in data:
            point = checked(POINT_SCHEMA, data, ["position"], "3D positioning")
            motion.goto(centre_on(now, point["x"], point["y"], motion.max_zoom, extent))
        else:
            box = checked(BOX_SCHEMA, data, ["position"], "3D positioning")
            corners = (box["x0"], box["y0"], box["x1"], box["y1"])
            motion.goto(box_zoom(now, *corners, motion.max_zoom, extent))
        return motion.status()

    def count_pixel(self, channel_id: str, data: Any) -> dict[str, int]:
        """Count pixel (manual 3.1.7): a box on the live picture in pixels (any channel)."""
        channel = self.channels.find(channel_id)
        box = checked(BOX_SCHEMA, data, ["box"], "box")
        status = channel.status()
        width, height = status["width"], status["height"]
        if not width or not height:
            raise NotFoundError(f"channel {channel_id!r} has no picture yet", "no_frame")
        if not channel.ptz.enabled:
            return count_pixel(Window(), box["x0"], box["y0"], box["x1"], box["y1"], width, height)
        motion = channel.ptz
        corners = (box["x0"], box["y0"], box["x1"], box["y1"])
        return count_pixel(motion.window, *corners, width, height, motion.pixel_scale)

    # ----------------------------------------------------------------- presets

    async def save_preset(self, channel_id: str, number: Any, name: Any = None) -> dict[str, Any]:
        """Save where the window is as preset ``number`` (1-256), replacing one saved there;
        ``name`` defaults to the old name or ``Preset <n>``."""
        channel, motion = self._ptz(channel_id)
        number = checked(PRESET, number, ["preset"], "preset number")
        old = self.ptz_book.of(channel_id)["presets"].get(str(number), {})
        name = checked(
            NAME,
            name if name is not None else old.get("name", f"Preset {number}"),
            ["name"],
            "preset name",
        )
        entry = {"name": name, **motion.window.as_dict()}

        def change(blocks: dict[str, dict[str, Any]]) -> None:
            blocks["presets"][str(number)] = entry

        await self._ptz_change(channel, change)
        return {"number": number, **entry}

    async def call_preset(self, channel_id: str, number: Any) -> dict[str, Any]:
        """Move the window to preset ``number`` (``NotFoundError`` if none is saved there);
        the linkage action "call preset"."""
        _, motion = self._ptz(channel_id)
        number, preset = self._preset(channel_id, number)
        motion.goto(Window.from_dict(preset), preset=number)
        return motion.status()

    async def rename_preset(self, channel_id: str, number: Any, name: Any) -> dict[str, Any]:
        channel, _ = self._ptz(channel_id)
        number, preset = self._preset(channel_id, number)
        name = checked(NAME, name, ["name"], "preset name")

        def change(blocks: dict[str, dict[str, Any]]) -> None:
            blocks["presets"][str(number)]["name"] = name

        await self._ptz_change(channel, change)
        return {"number": number, **preset, "name": name}

    async def delete_preset(self, channel_id: str, number: Any) -> None:
        """Delete a preset; refused while a patrol uses it (name the patrols)."""
        channel, _ = self._ptz(channel_id)
        number, _ = self._preset(channel_id, number)
        users = [
            n
            for n, points in self.ptz_book.of(channel_id)["patrols"].items()
            if any(p["preset"] == number for p in points)
        ]
        if users:
            raise ConfigError(
                f"preset {number} is in patrol {', '.join(sorted(users, key=int))}: "
                "change or delete the patrol first"
            )

        def change(blocks: dict[str, dict[str, Any]]) -> None:
            del blocks["presets"][str(number)]

        await self._ptz_change(channel, change)
        if channel.ptz.preset == number:
            channel.ptz.preset = None

    # ----------------------------------------------------------------- patrols

    async def set_patrol(self, channel_id: str, number: Any, points: Any) -> dict[str, Any]:
        """Save patrol ``number`` (1-8): 1 to 32 ``{"preset", "dwell" 1-30 s, "speed"
        1-40}``, each preset saved."""
        channel, _ = self._ptz(channel_id)
        number = checked(PATROL, number, ["patrol"], "patrol number")
        points = checked(PATROL_SCHEMA, points, ["presets"], "patrol")
        presets = self.ptz_book.of(channel_id)["presets"]
        missing = [
            f"{format_path(['presets', i, 'preset'])}: no preset {p['preset']}"
            for i, p in enumerate(points)
            if str(p["preset"]) not in presets
        ]
        if missing:
            raise ConfigError("invalid patrol", missing)

        def change(blocks: dict[str, dict[str, Any]]) -> None:
            blocks["patrols"][str(number)] = points

        await self._ptz_change(channel, change)
        return {"number": number, "presets": points}

    async def delete_patrol(self, channel_id: str, number: Any) -> None:
        """Delete a patrol (stopped first when it runs)."""
        await self._delete_program(channel_id, "patrols", PATROL, number)

    async def start_patrol(self, channel_id: str, number: Any) -> dict[str, Any]:
        """Run patrol ``number`` until stopped: the linkage action "call patrol"."""
        _, motion = self._ptz(channel_id)
        number = self._saved(channel_id, "patrols", PATROL, number)
        blocks = self.ptz_book.of(channel_id)
        motion.patrol(number, patrol_points(blocks["patrols"][str(number)], blocks["presets"]))
        return motion.status()

    async def stop_patrol(self, channel_id: str) -> dict[str, Any]:
        """Stop a running patrol or pattern (the window stays where it is)."""
        _, motion = self._ptz(channel_id)
        motion.stop_programs()
        return motion.status()

    # ----------------------------------------------------------------- patterns

    async def start_pattern_recording(self, channel_id: str) -> dict[str, Any]:
        """Record the moves made from now on (continuous, absolute, presets, 3D positioning)."""
        _, motion = self._ptz(channel_id)
        motion.start_recording()
        return motion.status()

    async def save_pattern(self, channel_id: str, number: Any) -> dict[str, Any]:
        """End the recording and save it as pattern ``number`` (1-4)."""
        channel, motion = self._ptz(channel_id)
        number = checked(PATTERN, number, ["pattern"], "pattern number")
        recorded = motion.stop_recording()
        if recorded is None:
            raise ConfigError(f"channel {channel_id!r} is not recording a pattern (start it first)")
        data = pattern_as_data(recorded)

        def change(blocks: dict[str, dict[str, Any]]) -> None:
            blocks["patterns"][str(number)] = data

        await self._ptz_change(channel, change)
        return {"number": number, "length": data["length"], "steps": len(data["steps"])}

    async def run_pattern(self, channel_id: str, number: Any) -> dict[str, Any]:
        """Replay pattern ``number`` once: the linkage action "call pattern"."""
        _, motion = self._ptz(channel_id)
        number = self._saved(channel_id, "patterns", PATTERN, number)
        pattern = pattern_from_data(self.ptz_book.of(channel_id)["patterns"][str(number)])
        motion.replay(number, pattern)
        return motion.status()

    async def delete_pattern(self, channel_id: str, number: Any) -> None:
        """Delete a pattern (stopped first when it runs)."""
        await self._delete_program(channel_id, "patterns", PATTERN, number)

    async def _delete_program(self, channel_id: str, block: str, schema: Any, number: Any) -> None:
        """Delete a saved patrol or pattern (``block``), stopping it when it runs."""
        channel, motion = self._ptz(channel_id)
        number = self._saved(channel_id, block, schema, number)
        if motion.status()[block[:-1]] == number:
            motion.stop_programs()

        def change(blocks: dict[str, dict[str, Any]]) -> None:
            del blocks[block][str(number)]

        await self._ptz_change(channel, change)

    def _saved(self, channel_id: str, block: str, schema: Any, number: Any) -> int:
        what = block[:-1]
        number = checked(schema, number, [what], f"{what} number")
        if str(number) not in self.ptz_book.of(channel_id)[block]:
            raise NotFoundError(
                f"channel {channel_id!r} has no {what} {number}", f"{what}_not_found"
            )
        return int(number)

    # ----------------------------------------------------------------- declared controls

    async def ptz_control(self, channel_id: str, bound: BoundControl, value: Any) -> dict[str, Any]:
        """Run one of the channel's ePTZ controls (``controls.py``): the preset select's
        option, or a patrol, pattern or stop button (``value`` ``None``)."""
        sets = bound.control.sets
        if sets == CALL_PRESET:
            presets = self.ptz_book.of(channel_id)["presets"]
            return await self.call_preset(channel_id, preset_of(value, presets))
        if sets == START_PATROL:
            return await self.start_patrol(channel_id, number_of(bound.control.key))
        if sets == RUN_PATTERN:
            return await self.run_pattern(channel_id, number_of(bound.control.key))
        return await self.stop_patrol(channel_id)


def _num(item: tuple[str, Any]) -> int:
    return int(item[0])


__all__ = ["PTZ_STORAGE", "PtzMethods"]
