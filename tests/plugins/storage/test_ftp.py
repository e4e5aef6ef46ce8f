"""The ``ftp`` storage backend against a real FTP server on 127.0.0.1 (pyftpdlib)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from camera_runtime.exceptions import CameraRuntimeError
from camera_runtime_plugins.storage.ftp import FtpBackend
from tests.ftp_server import PASSWORD, USER, FtpServer, ftp_server
from tests.ports import free_port

__all__ = ["ftp_server"]  # the fixture, used by name


def backend(server: FtpServer | None, **options: Any) -> FtpBackend:
    port = server.port if server is not None else free_port()
    base = {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD}
    return FtpBackend(FtpBackend.CONFIG_SCHEMA({**base, **options}))


async def test_a_picture_lands_whole_in_its_folders(ftp_server: FtpServer) -> None:
    store = backend(ftp_server, directory="cams/upload")
    stored = await store.store("Front/01/pic.jpg", b"\xff\xd8jpeg\xff\xd9", "image/jpeg")
    assert stored == "cams/upload/Front/01/pic.jpg"
    assert ftp_server.files() == ["cams/upload/Front/01/pic.jpg"]  # no .part left behind
    assert (ftp_server.root / stored).read_bytes() == b"\xff\xd8jpeg\xff\xd9"
    await store.check()
    await store.delete(stored)
    assert ftp_server.files() == []


async def test_anonymous_upload(ftp_server: FtpServer) -> None:
    store = FtpBackend(
        FtpBackend.CONFIG_SCHEMA({"host": "127.0.0.1", "port": ftp_server.port, "anonymous": True})
    )
    await store.store("a.jpg", b"x", "image/jpeg")
    assert ftp_server.files() == ["a.jpg"]


async def test_a_wrong_password_says_so_without_the_password(ftp_server: FtpServer) -> None:
    store = backend(ftp_server, password="Wr0ng-secret")
    with pytest.raises(CameraRuntimeError, match="refused") as caught:
        await store.store("a.jpg", b"x", "image/jpeg")
    assert "Wr0ng-secret" not in caught.value.message and USER not in caught.value.message


async def test_a_server_that_is_not_there_cannot_be_reached() -> None:
    with pytest.raises(CameraRuntimeError, match="cannot be reached: Connection refused"):
        await backend(None).check()


@pytest.mark.parametrize(
    "options",
    [
        {"host": "127.0.0.1"},  # neither credentials nor anonymous
        {"host": "127.0.0.1", "username": "u"},  # a user without a password
        {"host": "127.0.0.1", "anonymous": True, "port": 70000},
        {"host": ""},
    ],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(vol.Invalid):
        FtpBackend.CONFIG_SCHEMA(options)


async def test_a_file_is_sent_as_it_is_read(ftp_server: FtpServer, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # larger than any one block
    store = backend(ftp_server, directory="cams")
    stored = await store.store_file("Front/01/clip.mp4", clip, "video/mp4")
    assert stored == "cams/Front/01/clip.mp4"
    assert ftp_server.files() == [stored]  # no .part left behind
    assert (ftp_server.root / stored).read_bytes() == clip.read_bytes()
