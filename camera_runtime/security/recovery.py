"""The host's way out of the illegal login lock (issue #10, item 12): lift a lock, or set a new
admin password without the old one, keeping every API token. The camera's password recovery,
done by whoever can reach the data folder on the host, with the runtime stopped.

These edit ``<data_dir>/security.json`` offline: a running runtime keeps its own copy in memory
and would write it back over the change. When the runtime holds ``<data_dir>/runtime.lock``
(``flock``), they refuse; the lock file is held during the edit so a runtime cannot start
half-way through it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..data_folder import DataFolderInUseError, DataFolderLock
from ..exceptions import CameraRuntimeError
from .credentials import ADMIN, WeakPasswordError, password_problem
from .store import SECURITY_FILE, Security


class RuntimeRunningError(CameraRuntimeError):
    """The runtime using this data folder is running: stop it first."""

    translation_key_default = "runtime_running"


@dataclass(frozen=True)
class LockState:
    address: str
    seconds_left: float


@contextlib.contextmanager
def runtime_stopped(data_dir: Path) -> Iterator[None]:
    """Hold the data folder's ``runtime.lock`` for the duration (so no runtime starts half-way
    through the edit); ``RuntimeRunningError`` naming the runtime that holds it."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise CameraRuntimeError(f"{folder} does not exist: is it the right data folder?")
    lock = DataFolderLock(folder)
    try:
        lock.acquire()
    except DataFolderInUseError as err:
        raise RuntimeRunningError(f"{err.message}; then try again") from None
    try:
        yield
    finally:
        lock.release()


def _open(data_dir: Path) -> Security:
    path = Path(data_dir) / SECURITY_FILE
    if not path.is_file():
        raise CameraRuntimeError(f"{path} does not exist: is {data_dir} the right data folder?")
    # No configured duration here: keep every lock's time left exactly as stored (inf: never
    # capped), so lifting one lock does not shorten the others.
    security = Security(path, lock_duration=math.inf)
    security.load()
    return security


def lock_states(data_dir: Path) -> list[LockState]:
    """The active illegal login locks stored in ``data_dir``."""
    security = _open(data_dir)
    return [
        LockState(address, security.lock.remaining(address))
        for address in sorted(security.lock.export())
    ]


async def unlock(data_dir: Path, address: str | None = None) -> list[str]:
    """Lift the lock of ``address`` (every address when ``None``); the addresses that were
    locked. Audited."""
    with runtime_stopped(data_dir):
        security = _open(data_dir)
        try:
            return await security.clear_locks(address, by="the host (camera-runtime security)")
        finally:
            security.close()


async def reset_admin_password(data_dir: Path, password: str) -> list[str]:
    """Set a new admin password without the old one and lift every lock. API tokens stay
    valid (they never depended on the password); the strength rule applies. Audited."""
    problem = password_problem(password, ADMIN)
    if problem:
        raise WeakPasswordError(problem)
    with runtime_stopped(data_dir):
        security = _open(data_dir)
        try:
            if not security.activated:
                raise CameraRuntimeError(
                    "the device is not activated yet: start it and set the password then"
                )
            await security.set_admin_password(password)
            return await security.clear_locks(by="the host (camera-runtime security)")
        finally:
            security.close()


__all__ = [
    "LockState",
    "RuntimeRunningError",
    "lock_states",
    "reset_admin_password",
    "runtime_stopped",
    "unlock",
]
