"""The config as the user wrote it, and writing the YAML file back for channels added or
removed while running.

The file is replaced atomically (a reader sees the old or the new file, never a part) and the
previous version is kept as ``.bak``. YAML comments are not kept: the docs say so.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import yaml

from .data_folder import write_private
from .exceptions import StorageError


def write_yaml_file(path: str | Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``data`` as YAML, keeping the old file as ``.bak``; blocking.

    The file keeps its permissions and owner (a new one is private), and a symlinked config
    is written where the link points, so the link stays.
    """
    p = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    try:
        old = p.stat() if p.exists() else None
        if old is not None:
            backup = p.with_name(p.name + ".bak")
            backup.unlink(missing_ok=True)
            os.link(p, backup)
        write_private(p, text.encode(), like=old)
    except OSError as err:
        raise StorageError(f"cannot write the configuration {p}: {err}") from err


class ConfigFile:
    """The configuration as the user wrote it (``data``: no defaults filled in), the file it
    was read from (``path``; ``None``: the host owns the config, and changes last until the
    runtime stops), and the top-level keys given outside the file (``overlay``: the CLI's
    ``--mqtt-*`` options), which apply whenever the config is validated again and are never
    written to the file. ``lock`` serialises changes: check, validate, write, apply.
    """

    def __init__(self, data: Mapping[str, Any], path: Path | None = None) -> None:
        self.data: dict[str, Any] = copy.deepcopy(dict(data))
        self.path = path
        self.overlay: dict[str, Any] = {}
        self.lock = asyncio.Lock()

    def _channels(self) -> list[Any]:
        listed = self.data.get("channels")
        return list(listed) if isinstance(listed, list) else []

    def with_channel(self, channel: Mapping[str, Any]) -> dict[str, Any]:
        """The data with ``channel`` appended to ``channels`` (``data`` is not changed)."""
        return {**copy.deepcopy(self.data), "channels": [*self._channels(), dict(channel)]}

    def without_channel(self, channel_id: str) -> dict[str, Any]:
        """The data without the channel ``channel_id`` (``data`` is not changed)."""
        kept = [
            c
            for c in copy.deepcopy(self._channels())
            if not (isinstance(c, Mapping) and c.get("id") == channel_id)
        ]
        return {**copy.deepcopy(self.data), "channels": kept}

    def effective(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with the overlay over it: what is validated."""
        return {**data, **self.overlay}

    async def adopt(self, data: dict[str, Any], writer: Executor) -> None:
        """Write ``data`` back to the file (when there is one) on ``writer``, then keep it;
        ``StorageError`` (nothing changed) when the file cannot be written."""
        if self.path is not None:
            await asyncio.get_running_loop().run_in_executor(
                writer, write_yaml_file, self.path, data
            )
        self.data = data


__all__ = ["ConfigFile", "write_yaml_file"]
