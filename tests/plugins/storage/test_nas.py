"""The ``nas`` storage backend: a share the host mounted, checked before every write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from camera_runtime.exceptions import CameraRuntimeError, NotFoundError
from camera_runtime_plugins.storage.nas import NasBackend


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def nas(path: Path, require_mount: bool = False) -> NasBackend:
    return NasBackend(NasBackend.CONFIG_SCHEMA({"path": str(path), "require_mount": require_mount}))


async def test_a_picture_is_written_whole_into_the_share(tmp_path: Path) -> None:
    store = nas(tmp_path)
    assert await store.store("Front/01/p.jpg", b"jpeg", "image/jpeg") == "Front/01/p.jpg"
    assert files(tmp_path) == ["Front/01/p.jpg"]
    await store.delete("Front/01/p.jpg")
    with pytest.raises(NotFoundError):
        await store.delete("Front/01/p.jpg")
    with pytest.raises(NotFoundError):
        await store.delete("../outside")


async def test_an_unmounted_share_is_refused_rather_than_filling_the_local_disk(
    tmp_path: Path,
) -> None:
    store = nas(tmp_path, require_mount=True)  # a plain folder, not a mount point
    with pytest.raises(CameraRuntimeError, match="not mounted"):
        await store.store("p.jpg", b"jpeg", "image/jpeg")
    with pytest.raises(CameraRuntimeError, match="not mounted"):
        await store.check()
    assert files(tmp_path) == []


async def test_a_mount_point_passes_the_mount_check() -> None:
    root = nas(Path("/"), require_mount=True)  # "/" is always a mount point
    if writable(Path("/")):
        await root.check()
    else:
        with pytest.raises(CameraRuntimeError, match="not writable"):
            await root.check()


async def test_a_missing_share_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CameraRuntimeError, match="is not there"):
        await nas(tmp_path / "gone").store("p.jpg", b"jpeg", "image/jpeg")


async def test_a_file_is_copied_in_blocks(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    share = tmp_path / "share"
    share.mkdir()
    store = nas(share)
    assert await store.store_file("Front/01/c.mp4", clip, "video/mp4") == "Front/01/c.mp4"
    assert files(share) == ["Front/01/c.mp4"]
    assert (share / "Front/01/c.mp4").read_bytes() == clip.read_bytes()
