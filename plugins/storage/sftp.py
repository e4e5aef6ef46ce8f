"""The ``sftp`` storage backend (manual 5.1.2: "FTP and SFTP are selectable. The files
uploading is encrypted by using SFTP protocol"): pictures uploaded over SSH.

The server's host key is always verified: against ``host_key`` (the key itself, as in a
``known_hosts`` line: ``ssh-ed25519 AAAA...``) or the ``known_hosts`` file. A server whose key
is not known is refused with the key's fingerprint in the message, so the user can check it
and add it; a camera that uploads to whoever answers would hand its pictures to a machine in
the middle. The login is a password or a private key file. Each file is written under a
temporary name and renamed; missing folders are created. asyncssh does the protocol (SSH is no
protocol to write again): it is asyncio-native, so no thread is needed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import asyncssh
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError, NotFoundError
from camera_runtime.interfaces import StorageBackend

#: Seconds to connect and log in.
CONNECT_TIMEOUT = 20.0

_SCHEMA = vol.Schema(
    {
        vol.Required("host"): vol.All(str, vol.Length(min=1, max=253)),
        vol.Optional("port", default=22): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Required("username"): vol.All(str, vol.Length(min=1, max=128)),
        vol.Exclusive("password", "login"): vol.All(str, vol.Length(max=128)),
        vol.Exclusive("private_key", "login"): vol.All(
            str, vol.Match(r"^/", msg="an absolute path")
        ),
        # The server's public key (``ssh-ed25519 AAAA...``); else the known_hosts file.
        vol.Exclusive("host_key", "host"): vol.All(str, vol.Length(min=16, max=4096)),
        vol.Exclusive("known_hosts", "host"): vol.All(
            str, vol.Match(r"^/", msg="an absolute path")
        ),
        # The upload directory on the server, below which the directory structure starts.
        vol.Optional("directory", default=""): vol.All(str, vol.Length(max=255)),
    }
)


def _complete(options: Mapping[str, Any]) -> Mapping[str, Any]:
    if "password" not in options and "private_key" not in options:
        raise vol.Invalid("give a password or a private_key", path=["password"])
    if "host_key" not in options and "known_hosts" not in options:
        raise vol.Invalid(
            "give the server's host_key (as in a known_hosts line) or a known_hosts file: "
            "the server's identity is always checked",
            path=["host_key"],
        )
    return options


class SftpBackend(StorageBackend):
    """Uploads to one SFTP server."""

    kind: ClassVar[str] = "sftp"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(vol.All(_SCHEMA, _complete))

    def _where(self) -> str:
        return f"SFTP server {self.options['host']}:{self.options['port']}"

    def _known_hosts(self) -> Any:
        o = self.options
        if "host_key" in o:
            try:
                key = asyncssh.import_public_key(o["host_key"])
            except (asyncssh.KeyImportError, ValueError) as err:
                raise CameraRuntimeError(f"{self._where()}: host_key is not a key: {err}") from None
            return ([key], [], [])
        return o["known_hosts"]

    async def _session[T](self, work: Callable[[asyncssh.SFTPClient], Any]) -> T:
        """Connect, log in, run ``work`` on an SFTP session; errors in words, no secrets."""
        o = self.options
        login: dict[str, Any] = (
            {"password": o["password"], "client_keys": None}
            if "password" in o
            else {"client_keys": [o["private_key"]]}
        )
        try:
            async with (
                asyncssh.connect(
                    o["host"],
                    o["port"],
                    username=o["username"],
                    known_hosts=self._known_hosts(),
                    connect_timeout=CONNECT_TIMEOUT,
                    agent_path=None,
                    **login,
                ) as connection,
                connection.start_sftp_client() as sftp,
            ):
                result: T = await work(sftp)
                return result
        except asyncssh.HostKeyNotVerifiable as err:
            raise CameraRuntimeError(
                f"{self._where()}: its host key is not the one configured ({err.reason}): "
                "check it with the server's administrator, then set host_key"
            ) from None
        except asyncssh.PermissionDenied:
            raise CameraRuntimeError(f"{self._where()} refused the login") from None
        except asyncssh.SFTPError as err:
            raise CameraRuntimeError(f"{self._where()} failed: {err.reason}") from None
        except (asyncssh.Error, OSError, TimeoutError) as err:
            reason = getattr(err, "strerror", None) or getattr(err, "reason", None)
            raise CameraRuntimeError(
                f"{self._where()} cannot be reached: {reason or type(err).__name__}"
            ) from None

    def _path(self, name: str) -> str:
        base = [p for p in self.options["directory"].split("/") if p]
        return posixpath.join(*base, *name.split("/"))

    async def store(self, name: str, data: bytes, content_type: str) -> str:
        return await self._upload(name, data)

    async def store_file(self, name: str, path: Path, content_type: str) -> str:
        return await self._upload(name, path)

    async def _upload(self, name: str, data: bytes | Path) -> str:
        """Write ``data``, or the local file at that path (asyncssh sends it in blocks)."""
        path = self._path(name)
        folder, filename = posixpath.split(path)
        partial = posixpath.join(folder, f".{filename}.part")

        async def upload(sftp: asyncssh.SFTPClient) -> str:
            if folder:
                await sftp.makedirs(folder, exist_ok=True)
            if isinstance(data, Path):
                await sftp.put(str(data), partial)
            else:
                async with sftp.open(partial, "wb") as f:
                    await f.write(data)
            if await sftp.exists(path):  # plain SFTP rename does not replace
                await sftp.remove(path)
            await sftp.rename(partial, path)
            return path

        return await self._session(upload)

    async def delete(self, item_id: str) -> None:
        async def remove(sftp: asyncssh.SFTPClient) -> None:
            if ".." in item_id.split("/") or not await sftp.isfile(item_id):
                raise NotFoundError(f"{self._where()} has no {item_id}")
            await sftp.remove(item_id)

        await self._session(remove)

    async def check(self) -> None:
        async def reach(sftp: asyncssh.SFTPClient) -> None:
            folder = self.options["directory"].strip("/") or "."
            await sftp.makedirs(folder, exist_ok=True)

        await self._session(reach)


@hookimpl
def register_storage_backends(register: Callable[[type[StorageBackend]], None]) -> None:
    """Make ``sftp`` available as an upload target's ``type``."""
    register(SftpBackend)
