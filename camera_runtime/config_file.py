"""Writing the YAML config file back, for channels added or removed while running.

The file is replaced atomically (a reader sees the old or the new file, never a part) and the
previous version is kept as ``<name>.bak``. YAML comments are not kept: the README says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .exceptions import StorageError


def write_yaml_file(path: str | Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``data`` as YAML, keeping the old file as ``.bak``; blocking."""
    p = Path(path)
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    tmp = p.with_name(p.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if p.exists():
            backup = p.with_name(p.name + ".bak")
            backup.unlink(missing_ok=True)
            os.link(p, backup)
        os.replace(tmp, p)
    except OSError as err:
        raise StorageError(f"cannot write the configuration {p}: {err}") from err


__all__ = ["write_yaml_file"]
