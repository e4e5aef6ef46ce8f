"""The ``ftp`` storage backend (manual 5.1.2): pictures uploaded to an FTP server, or FTPS
(explicit TLS, ``tls: true``), by user name and password or anonymously.

Each upload is written under a temporary name and renamed, so the server never shows half a
picture; missing folders are created. The standard library's ``ftplib`` runs in a worker
thread, one connection per upload: simple, and what cameras do. Messages name the server,
never the credentials.
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError, NotFoundError
from camera_runtime.interfaces import StorageBackend

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("host"): vol.All(str, vol.Length(min=1, max=253)),
        vol.Optional("port", default=21): vol.All(int, vol.Range(min=1, max=65535)),
        # The manual's *Anonymous*: no user name, so no device information is sent.
        vol.Optional("anonymous", default=False): bool,
        vol.Inclusive("username", "credentials"): vol.All(str, vol.Length(min=1, max=128)),
        vol.Inclusive("password", "credentials"): vol.All(str, vol.Length(max=128)),
        vol.Optional("tls", default=False): bool,
        vol.Optional("passive", default=True): bool,
        # The upload directory on the server, below which the directory structure starts.
        vol.Optional("directory", default=""): vol.All(str, vol.Length(max=255)),
    }
)


def _anonymous_or_named(options: Mapping[str, Any]) -> Mapping[str, Any]:
    if not options["anonymous"] and "username" not in options:
        raise vol.Invalid("give a username and password, or anonymous: true", path=["username"])
    return options


class FtpBackend(StorageBackend):
    """Uploads to one FTP server."""

    kind: ClassVar[str] = "ftp"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(vol.All(CONFIG_SCHEMA, _anonymous_or_named))

    def _where(self) -> str:
        return f"FTP server {self.options['host']}:{self.options['port']}"

    def _connect(self) -> ftplib.FTP:
        o = self.options
        ftp: ftplib.FTP
        if o["tls"]:
            ftp = ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=20)
        else:
            ftp = ftplib.FTP(timeout=20)
        try:
            ftp.connect(o["host"], o["port"])
            if o["anonymous"]:
                ftp.login()
            else:
                ftp.login(o["username"], o["password"])
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()  # the pictures travel encrypted too
            ftp.set_pasv(o["passive"])
        except BaseException:
            ftp.close()
            raise
        return ftp

    def _run[T](self, work: Callable[[ftplib.FTP], T]) -> T:
        """Connect, do ``work``, quit; FTP and network errors become a user's message."""
        try:
            ftp = self._connect()
            try:
                return work(ftp)
            finally:
                try:
                    ftp.quit()
                except (OSError, EOFError, ftplib.Error):
                    ftp.close()
        except ftplib.error_perm as err:
            raise CameraRuntimeError(f"{self._where()} refused: {_reply(err)}") from None
        except (ftplib.Error, EOFError) as err:
            raise CameraRuntimeError(f"{self._where()} failed: {_reply(err)}") from None
        except ssl.SSLError as err:
            raise CameraRuntimeError(f"{self._where()}: TLS failed ({err.reason})") from None
        except (TimeoutError, OSError) as err:
            raise CameraRuntimeError(
                f"{self._where()} cannot be reached: {err.strerror or type(err).__name__}"
            ) from None

    def _store(self, name: str, data: bytes | Path) -> str:
        """Upload ``data``, or the file at that path read as it is sent."""
        base = [p for p in self.options["directory"].split("/") if p]
        parts = [*base, *name.split("/")]
        folders, filename = parts[:-1], parts[-1]

        def upload(ftp: ftplib.FTP) -> str:
            for folder in folders:
                try:
                    ftp.cwd(folder)
                except ftplib.error_perm:
                    ftp.mkd(folder)
                    ftp.cwd(folder)
            partial = f".{filename}.part"
            if isinstance(data, Path):
                with data.open("rb") as source:
                    ftp.storbinary(f"STOR {partial}", source)
            else:
                ftp.storbinary(f"STOR {partial}", io.BytesIO(data))
            ftp.rename(partial, filename)
            return "/".join([*folders, filename])

        return self._run(upload)

    async def store(self, name: str, data: bytes, content_type: str) -> str:
        return await asyncio.to_thread(self._store, name, data)

    async def store_file(self, name: str, path: Path, content_type: str) -> str:
        return await asyncio.to_thread(self._store, name, path)

    async def delete(self, item_id: str) -> None:
        def remove(ftp: ftplib.FTP) -> None:
            try:
                ftp.delete(item_id)
            except ftplib.error_perm as err:
                raise NotFoundError(f"{self._where()} has no {item_id}: {_reply(err)}") from None

        await asyncio.to_thread(self._run, remove)

    async def check(self) -> None:
        await asyncio.to_thread(self._run, lambda ftp: ftp.voidcmd("NOOP"))


def _reply(err: BaseException) -> str:
    text = str(err).strip()
    return text[:200] if text else type(err).__name__


@hookimpl
def register_storage_backends(register: Callable[[type[StorageBackend]], None]) -> None:
    """Make ``ftp`` available as an upload target's ``type``."""
    register(FtpBackend)
