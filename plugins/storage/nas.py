"""The ``nas`` storage backend (manual 5.1.3 Net HDD): pictures written to a network share the
host has mounted (NFS, SMB/CIFS) at ``path``.

The runtime does not mount shares itself: the host does (``/etc/fstab``, a systemd mount), so
credentials stay with the system. What the runtime checks is that the share is *there*: with
``require_mount`` (the default) the folder must be a mount point, else a share that dropped
would have the pictures silently fill the local disk under the empty mount folder. While it
is away, pictures wait in the upload queue and go when it returns. Each file is written under
a temporary name, synced and renamed: the share never shows half a picture.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError, NotFoundError
from camera_runtime.interfaces import StorageBackend


class NasBackend(StorageBackend):
    """Writes into a mounted network share."""

    kind: ClassVar[str] = "nas"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Required("path"): vol.All(str, vol.Match(r"^/", msg="an absolute path")),
            vol.Optional("require_mount", default=True): bool,
        }
    )

    @property
    def root(self) -> Path:
        return Path(self.options["path"])

    def _available(self) -> Path:
        root = self.root
        if not root.is_dir():
            raise CameraRuntimeError(f"the NAS folder {root} is not there")
        if self.options["require_mount"] and not os.path.ismount(root):
            raise CameraRuntimeError(
                f"the NAS share is not mounted at {root} (mount it, or set require_mount: false)"
            )
        if not os.access(root, os.W_OK | os.X_OK):
            raise CameraRuntimeError(f"the NAS folder {root} is not writable by this user")
        return root

    def _store(self, name: str, data: bytes | Path) -> str:
        """Write ``data``, or copy the file at that path (in blocks, never whole)."""
        root = self._available()
        target = root.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        with open(partial, "wb") as f:
            if isinstance(data, Path):
                with data.open("rb") as source:
                    shutil.copyfileobj(source, f, 1024 * 1024)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, target)
        return name

    async def store(self, name: str, data: bytes, content_type: str) -> str:
        return await self._write(name, data)

    async def store_file(self, name: str, path: Path, content_type: str) -> str:
        return await self._write(name, path)

    async def _write(self, name: str, data: bytes | Path) -> str:
        try:
            return await asyncio.to_thread(self._store, name, data)
        except OSError as err:
            raise CameraRuntimeError(
                f"cannot write to the NAS at {self.root}: {err.strerror or err}"
            ) from None

    async def delete(self, item_id: str) -> None:
        path = self._available().joinpath(*item_id.split("/"))
        if ".." in item_id.split("/") or not path.is_file():
            raise NotFoundError(f"the NAS has no {item_id}")
        await asyncio.to_thread(path.unlink)

    async def check(self) -> None:
        await asyncio.to_thread(self._available)


@hookimpl
def register_storage_backends(register: Callable[[type[StorageBackend]], None]) -> None:
    """Make ``nas`` available as an upload target's ``type``."""
    register(NasBackend)
