"""Writing the YAML config file back, for channels added or removed while running.

The file is replaced atomically (a reader sees the old or the new file, never a part) and the
previous version is kept as ``<name>.bak``. YAML comments are not kept: the README says so.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .exceptions import StorageError


def write_yaml_file(path: str | Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``data`` as YAML, keeping the old file as ``.bak``; blocking.

    The file keeps its permissions and owner (a config with passwords is often 0600), and a
    symlinked config is written where the link points, so the link stays.
    """
    p = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    tmp = p.with_name(p.name + ".tmp")
    try:
        old = p.stat() if p.exists() else None
        # Created private, then given the old file's mode: never readable by others meanwhile.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if old is not None:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
            with contextlib.suppress(PermissionError):  # only root may give files away
                os.chown(tmp, old.st_uid, old.st_gid)
            backup = p.with_name(p.name + ".bak")
            backup.unlink(missing_ok=True)
            os.link(p, backup)
        os.replace(tmp, p)
    except OSError as err:
        raise StorageError(f"cannot write the configuration {p}: {err}") from err


__all__ = ["write_yaml_file"]
