"""The runtime's data folder: one runtime at a time, private to its user, and what identifies
the runtime across restarts (its device id).

Everything the runtime keeps lives in one folder (``--data-dir``): the device id, the event
history, run-time settings, captures, the credential store, the MQTT outbox. Folders are
created ``0700`` and files ``0600``: the history and the pictures are nobody else's business
on a shared machine. A running runtime holds ``runtime.lock`` (``flock``): a second one on
the same folder refuses to start and says which process holds it; the kernel drops the lock
when its holder dies, so a killed runtime never blocks the next start.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import stat
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .exceptions import StorageError

_LOGGER = logging.getLogger(__name__)

DEVICE_FILE = "device.json"
LOCK_FILE = "runtime.lock"


class DataFolderInUseError(StorageError):
    """Another runtime (another process, or another runtime in this one) uses the folder."""

    translation_key_default = "data_folder_in_use"


def private_folder(path: Path) -> None:
    """Create ``path`` (and missing parents) private to this user; an existing folder the
    runtime owns is made private too. Blocking."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a folder given by its owner: leave it be
        os.chmod(path, 0o700)


def private_file(path: Path) -> None:
    """Create ``path`` empty and private if it does not exist yet (before SQLite opens it: its
    journal files then take the same mode). Blocking."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def write_private(path: Path, data: bytes, *, like: os.stat_result | None = None) -> None:
    """Replace ``path`` atomically with ``data``, private to this user and on the disk when it
    returns (file and folder synced); a reader sees the old or the new file. With ``like``
    (the user's own file, a config with passwords often 0600) the new file takes that file's
    mode and owner instead, set before it appears. Blocking; ``OSError`` when it cannot (the
    old file is then untouched)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if like is not None:
            os.chmod(tmp, stat.S_IMODE(like.st_mode))
            with contextlib.suppress(PermissionError):  # only root may give files away
                os.chown(tmp, like.st_uid, like.st_gid)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class DataFolderLock:
    """``runtime.lock`` in a data folder, held while a runtime uses the folder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the folder, or raise ``DataFolderInUseError`` naming its holder. Blocking."""
        private_folder(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise DataFolderInUseError(
                f"the data folder {self.path.parent} is in use by {holder}: stop that runtime "
                "first, or give this one its own data folder (--data-dir)"
            ) from None
        except OSError:
            os.close(fd)
            raise
        mine: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "command": " ".join(sys.argv)[:200],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(mine).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the folder go (the file stays: it says who held it last)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    pid = holder.get("pid")
    if not isinstance(pid, int):
        return "another runtime"
    where = f"process {pid}"
    if holder.get("host") and holder["host"] != socket.gethostname():
        where += f" on {holder['host']}"
    if pid == os.getpid():
        where = "another runtime in this process"
    started = holder.get("started")
    if isinstance(started, int | float):
        where += f", started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}"
    if holder.get("command"):
        where += f" ({holder['command']})"
    return where


def load_device_id(data_dir: Path) -> str:
    """A stable id for the runtime in ``data_dir`` (Home Assistant's unique id), made on the
    first start; blocking. ``StorageError`` when the file exists but cannot be read."""
    private_folder(data_dir)
    path = data_dir / DEVICE_FILE
    try:
        stored = json.loads(path.read_text())
        device_id = stored.get("id") if isinstance(stored, dict) else None
        if isinstance(device_id, str) and device_id:
            return device_id
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        raise StorageError(
            f"{path} is unreadable ({err}); remove it to get a new device id"
        ) from err
    device_id = uuid.uuid4().hex
    write_private(path, json.dumps({"id": device_id}).encode())
    return device_id


def read_channels_file(path: Path, lost: str) -> dict[str, dict[str, Any]]:
    """The ``channels`` mapping of a JSON file the runtime keeps per channel (run-time
    settings, ePTZ presets): ``{}`` when there is none. An unreadable file is logged, saying
    what is ``lost``, and read as empty: it loses settings, never the runtime. Blocking."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        _LOGGER.warning("%s is unreadable (%s): %s", path, err, lost)
        return {}
    channels = data.get("channels") if isinstance(data, dict) else None
    if not isinstance(channels, dict):
        return {}
    return {str(k): v for k, v in channels.items() if isinstance(v, dict)}


def write_channels_file(path: Path, channels: Any, what: str) -> None:
    """Write ``{"channels": channels}`` atomically (``write_private``); ``StorageError``
    naming ``what`` and the file (not the folder: the message reaches API clients). Blocking."""
    try:
        write_private(path, json.dumps({"channels": channels}, indent=1).encode())
    except OSError as err:
        raise StorageError(f"cannot save {what} ({path.name}): {err.strerror or err}") from err


__all__ = [
    "DEVICE_FILE",
    "LOCK_FILE",
    "DataFolderInUseError",
    "DataFolderLock",
    "load_device_id",
    "private_file",
    "private_folder",
    "read_channels_file",
    "write_channels_file",
    "write_private",
]
