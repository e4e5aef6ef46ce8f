"""The ``sftp`` storage backend against a real SSH/SFTP server on 127.0.0.1 (asyncssh's)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import voluptuous as vol

from camera_runtime.exceptions import CameraRuntimeError
from camera_runtime_plugins.storage.sftp import SftpBackend
from tests.ports import free_port

USER, PASSWORD = "camera", "Sftp-s3cret!"


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True  # a password is always asked for

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


@dataclass
class SftpServer:
    root: Path
    port: int
    host_key: str  # the public key, as in a known_hosts line


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    root = tmp_path / "sftp"
    root.mkdir()
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(
        _Server,
        "127.0.0.1",
        0,
        server_host_keys=[key],
        sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(root).encode()),
    )
    port = server.sockets[0].getsockname()[1]
    yield SftpServer(root, port, key.export_public_key().decode().strip())
    server.close()
    await server.wait_closed()


def backend(server: SftpServer, **options: Any) -> SftpBackend:
    base = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "password": PASSWORD,
        "host_key": server.host_key,
    }
    return SftpBackend(SftpBackend.CONFIG_SCHEMA({**base, **options}))


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_a_picture_lands_whole_in_its_folders(sftp_server: SftpServer) -> None:
    store = backend(sftp_server, directory="cams")
    await store.check()
    stored = await store.store("Home/01/pic.jpg", b"\xff\xd8jpeg\xff\xd9", "image/jpeg")
    assert stored == "cams/Home/01/pic.jpg"
    assert files(sftp_server.root) == ["cams/Home/01/pic.jpg"]  # no .part left behind
    assert (sftp_server.root / stored).read_bytes() == b"\xff\xd8jpeg\xff\xd9"
    await store.store("Home/01/pic.jpg", b"again", "image/jpeg")  # the same name again
    assert (sftp_server.root / stored).read_bytes() == b"again"
    await store.delete(stored)
    assert files(sftp_server.root) == []


async def test_a_server_with_another_host_key_is_refused(sftp_server: SftpServer) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    with pytest.raises(CameraRuntimeError, match="host key is not the one configured"):
        await backend(sftp_server, host_key=other).store("a.jpg", b"x", "image/jpeg")
    assert files(sftp_server.root) == []


async def test_a_wrong_password_says_so_without_the_password(sftp_server: SftpServer) -> None:
    with pytest.raises(CameraRuntimeError, match="refused the login") as caught:
        await backend(sftp_server, password="Wr0ng-secret").check()
    assert "Wr0ng-secret" not in caught.value.message


async def test_a_server_that_is_not_there_cannot_be_reached(sftp_server: SftpServer) -> None:
    store = backend(sftp_server, port=free_port())
    with pytest.raises(CameraRuntimeError, match="cannot be reached"):
        await store.check()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": "h", "username": "u", "password": "p"}, "host_key"),  # identity unchecked
        ({"host": "h", "username": "u", "host_key": "ssh-ed25519 AAAAC3Nza"}, "password"),
        ({"host": "h", "username": "u", "password": "p", "known_hosts": "rel"}, "absolute"),
    ],
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(vol.Invalid, match=message):
        SftpBackend.CONFIG_SCHEMA(options)


async def test_a_file_is_sent_as_it_is_read(sftp_server: SftpServer, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # many SFTP blocks
    store = backend(sftp_server, directory="cams")
    stored = await store.store_file("Home/01/clip.mp4", clip, "video/mp4")
    assert stored == "cams/Home/01/clip.mp4"
    assert files(sftp_server.root) == [stored]  # no .part left behind
    assert (sftp_server.root / stored).read_bytes() == clip.read_bytes()
