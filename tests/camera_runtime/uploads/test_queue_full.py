"""The upload queue's own file on a full disk (a real 2 MB tmpfs, mounted by the fixture):
a picture it cannot take is no internal error but the ``storage_error`` exception (source
``upload queue``), logged once and counted (``unqueued``); the pictures queued before stay
queued and are uploaded once the disk has room and the NAS is back, and the exception ends.
A damaged queue file at start is the same exception, and the queue opens once it is fixed."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import time
from pathlib import Path

import av
import pytest

from camera_runtime.model import EventPhase, EventUpdate
from camera_runtime.recording.remux import remux_mp4
from camera_runtime.registry import build_plugins
from camera_runtime.storage_health import StorageHealth
from camera_runtime.uploads.naming import Picture
from camera_runtime.uploads.queue import FILES_FOLDER, QUEUE_FILE
from camera_runtime.uploads.settings import UPLOADS_SCHEMA
from camera_runtime.uploads.uploader import QUEUE_SOURCE, Uploads

from ..api.test_streams import make_ts
from ..recording.test_disk_full import small_disk

__all__ = ["small_disk"]  # the fixture, used by name


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as err:
        assert err.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


PICTURE = Picture("Home", 1, "10.0.0.7", "gate", 1, time.time(), "MANUAL")


def nas_uploads(nas: Path, data_dir: Path, health: StorageHealth) -> Uploads:
    """Uploads to the NAS folder ``nas``, their queue in ``data_dir``, reporting to
    ``health``."""
    section = UPLOADS_SCHEMA(
        {
            "targets": [{"id": "nas1", "type": "nas", "path": str(nas), "require_mount": False}],
            "device_ip": "10.0.0.7",
        }
    )
    return Uploads(
        section,
        build_plugins()[1],
        data_dir,
        lambda source, error, pending, dropped: health.report(
            source, error, pending=pending, dropped=dropped
        ),
    )


async def test_a_full_disk_under_the_queue_is_a_storage_error_and_loses_nothing_queued(
    small_disk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="camera_runtime.storage_health")
    nas = tmp_path / "nas"  # not there yet: the pictures wait in the queue
    updates: list[EventUpdate] = []
    health = StorageHealth(updates.append)
    uploads = nas_uploads(nas, small_disk, health)
    await uploads.start()
    try:
        jpeg = os.urandom(100_000)
        for k in range(2):
            shot = dataclasses.replace(PICTURE, time=PICTURE.time + k)
            assert await uploads.offer_picture(shot, jpeg) == ["nas1"]
        await uploads.wait_for(lambda s: s["nas1"]["failures"] >= 1)
        assert uploads.status()["nas1"]["pending"] == 2

        filler = fill(small_disk)
        later = dataclasses.replace(PICTURE, time=PICTURE.time + 2)
        assert await uploads.offer_picture(later, jpeg) == []  # not raised: reported
        status = uploads.status()["nas1"]
        assert (status["unqueued"], status["pending"]) == (1, 2)
        error = health.failing[QUEUE_SOURCE]
        assert error.startswith("the upload queue cannot queue a picture:")
        assert "full" in error
        last = updates[-1]
        assert last.event.type == "storage_error" and last.phase is not EventPhase.END
        assert last.event.data["sources"][QUEUE_SOURCE]["dropped"] == 1
        assert caplog.text.count("storage error: upload queue cannot write") == 1

        filler.unlink()
        nas.mkdir()
        assert (await uploads.test("nas1"))["ok"] is True  # the waiting retry goes now
        await uploads.wait_for(lambda s: s["nas1"]["uploaded"] == 2)
        assert health.failing == {}
        assert updates[-1].phase is EventPhase.END
        stored = sorted(p for p in nas.rglob("*.jpg"))
        assert len(stored) == 2 and all(p.read_bytes() == jpeg for p in stored)
        assert "storage recovered: upload queue writes again" in caplog.text
    finally:
        await uploads.stop()


async def test_a_damaged_queue_file_is_a_storage_error_until_it_opens(tmp_path: Path) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    damaged = data / QUEUE_FILE
    damaged.write_bytes(b"not a database" * 1000)
    updates: list[EventUpdate] = []
    health = StorageHealth(updates.append)
    uploads = nas_uploads(nas, data, health)
    await uploads.start()  # starts: the failure is reported, not raised
    try:
        assert health.failing[QUEUE_SOURCE].startswith("the upload queue cannot open its file")
        assert await uploads.offer_picture(PICTURE, b"\xff\xd8one") == []
        assert uploads.status()["nas1"]["unqueued"] == 1
        assert updates[0].event.type == "storage_error"

        damaged.unlink()  # fixed: the next picture opens a new queue
        assert await uploads.offer_picture(PICTURE, b"\xff\xd8two") == ["nas1"]
        await uploads.wait_for(lambda s: s["nas1"]["uploaded"] == 1)
        assert health.failing == {} and updates[-1].phase is EventPhase.END
        assert [p.read_bytes() for p in nas.rglob("*.jpg")] == [b"\xff\xd8two"]
    finally:
        await uploads.stop()


async def test_a_clip_the_full_disk_cannot_take_is_counted_and_reported(
    small_disk: Path, tmp_path: Path
) -> None:
    """The clip's MP4 is made in the queue's folder: on a full disk the remux fails, the clip
    is counted as not queued and reported; with room again the next clip is queued, uploaded
    and its file deleted."""
    segment = make_ts(tmp_path / "segment.ts", (160, 120))  # 2 s, a real recording's format
    nas = tmp_path / "nas"
    nas.mkdir()
    updates: list[EventUpdate] = []
    health = StorageHealth(updates.append)
    section = UPLOADS_SCHEMA(
        {
            "targets": [
                {
                    "id": "nas1",
                    "type": "nas",
                    "path": str(nas),
                    "require_mount": False,
                    "content": ["clips"],
                },
                {"id": "pics", "type": "nas", "path": str(nas), "require_mount": False},
            ],
            "device_ip": "10.0.0.7",
        }
    )
    uploads = Uploads(
        section,
        build_plugins()[1],
        small_disk,
        lambda source, error, pending, dropped: health.report(
            source, error, pending=pending, dropped=dropped
        ),
    )
    await uploads.start()
    clip = dataclasses.replace(PICTURE, event_type="motion")
    try:
        filler = fill(small_disk)
        assert await uploads.offer_clip(clip, lambda out: remux_mp4([(segment, 0.0)], out)) == []
        assert uploads.status()["nas1"]["clips"]["unqueued"] == 1
        assert health.failing[QUEUE_SOURCE].startswith("a clip cannot be made for upload:")
        assert updates[-1].event.type == "storage_error"

        filler.unlink()
        taken = await uploads.offer_clip(clip, lambda out: remux_mp4([(segment, 0.0)], out))
        assert taken == ["nas1"]  # not the pictures-only target
        await uploads.wait_for(lambda s: s["nas1"]["clips"]["uploaded"] == 1)
        assert health.failing == {}
        (stored,) = nas.rglob("*.mp4")
        assert stored.name.endswith("_MOTION.mp4")
        with av.open(str(stored)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 50  # 2 s at 25 fps
        assert not list((small_disk / FILES_FOLDER).iterdir())
    finally:
        await uploads.stop()
