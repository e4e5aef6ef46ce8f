"""Uploads in a running runtime: captures reach a real FTP server (pyftpdlib on 127.0.0.1)
and a NAS folder under the manual's names; while the server is away they wait on disk, the
device raises ``storage_error`` and counts, and they go when it returns, also after a restart."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventPhase, EventUpdate
from camera_runtime.runtime import Runtime
from tests.ftp_server import PASSWORD, FtpServer, ftp_server, ftp_target

__all__ = ["ftp_server"]  # the fixture, used by name

NAME = re.compile(r"^10\.0\.0\.7_01_\d{17}_(MANUAL|MOTION)\.jpg$")


def config(ftp: FtpServer, nas: Path | None = None, **uploads: Any) -> dict[str, Any]:
    naming = {"structure": "child", "child": "camera_no"}
    targets = [ftp_target(ftp, "ftp1", directory="cams", naming=naming)]
    if nas is not None:
        targets.append({"id": "nas1", "type": "nas", "path": str(nas), "require_mount": False})
    return {
        "device": {"name": "Home"},
        "channels": [{"id": "gate", "source": {"type": "synthetic", "width": 320, "height": 180}}],
        "uploads": {"targets": targets, "device_ip": "10.0.0.7", **uploads},
    }


async def started(data: dict[str, Any], folder: Path) -> Runtime:
    runtime = runtime_from_data(data, data_dir=folder)
    await runtime.start()
    channel = runtime.channels["gate"]
    await asyncio.get_running_loop().run_in_executor(None, channel.slot.wait_newer, 0, 20.0)
    return runtime


def uploaded(server: FtpServer) -> list[str]:
    return [f for f in server.files() if not f.rsplit("/", 1)[-1].startswith(".")]


async def test_a_capture_reaches_the_ftp_server_and_the_nas(
    tmp_path: Path, ftp_server: FtpServer
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    runtime = await started(config(ftp_server, nas), tmp_path / "data")
    try:
        capture = await runtime.capture("gate")
        assert capture["uploads"] == ["ftp1", "nas1"]
        await runtime.uploads.wait_for(
            lambda s: s["ftp1"]["uploaded"] == 1 and s["nas1"]["uploaded"] == 1
        )
        ((path),) = uploaded(ftp_server)
        folders, name = path.rsplit("/", 1)
        assert folders == "cams/Home/01" and NAME.match(name)
        (nas_file,) = [p for p in nas.rglob("*") if p.is_file()]
        assert nas_file.relative_to(nas).as_posix() == name  # the default: the root directory
        assert nas_file.read_bytes()[:2] == b"\xff\xd8"
        status = runtime.uploads.status()["ftp1"]
        assert (status["state"], status["pending"], status["failures"]) == ("ok", 0, 0)
    finally:
        await runtime.stop()


async def test_pictures_wait_while_the_server_is_away_and_go_when_it_returns(
    tmp_path: Path, ftp_server: FtpServer
) -> None:
    runtime = await started(config(ftp_server), tmp_path / "data")
    updates: list[EventUpdate] = []
    runtime.subscribe_events(updates.append)
    try:
        ftp_server.stop()
        await runtime.capture("gate")
        await runtime.capture("gate", "motion")
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["failures"] >= 1)
        status = runtime.uploads.status()["ftp1"]
        assert status["state"] == "failing" and status["pending"] == 2
        assert "cannot be reached" in status["last_error"] and PASSWORD not in str(status)
        new = next(u for u in updates if u.event.type == "storage_error")
        assert new.phase is EventPhase.NEW
        # The first attempt may come before or after the second picture is queued.
        assert new.event.data["sources"]["upload ftp1"]["pending"] in (1, 2)
        assert runtime.device_info()["storage"]["ok"] is False
        # The storage sensors: two pictures wait; a server away is not the local storage's
        # error.
        readings = {r["key"]: r["value"] for r in runtime.device_info()["sensors"]}
        assert readings["uploads_pending"] == 2 and readings["storage_status"] == "normal"

        ftp_server.start()  # back on the same port
        await runtime.uploads.test("ftp1")  # the manual's Test: the waiting retry goes now
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["uploaded"] == 2)
        names = sorted(p.rsplit("/", 1)[1] for p in uploaded(ftp_server))
        assert [n.rsplit("_", 1)[1] for n in names] == ["MANUAL.jpg", "MOTION.jpg"]
        assert [u.phase for u in updates if u.event.type == "storage_error"][-1] is EventPhase.END
        assert runtime.uploads.status()["ftp1"]["state"] == "ok"
    finally:
        await runtime.stop()


async def test_the_queue_survives_a_restart(tmp_path: Path, ftp_server: FtpServer) -> None:
    folder = tmp_path / "data"
    ftp_server.stop()
    runtime = await started(config(ftp_server), folder)
    try:
        await runtime.capture("gate")
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["failures"] >= 1)
    finally:
        await runtime.stop()
    ftp_server.start()
    runtime = await started(config(ftp_server), folder)
    try:
        assert runtime.uploads.status()["ftp1"]["pending"] in (0, 1)
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["uploaded"] == 1)
        assert len(uploaded(ftp_server)) == 1
    finally:
        await runtime.stop()


async def test_a_full_queue_drops_the_oldest_and_counts_them(
    tmp_path: Path, ftp_server: FtpServer
) -> None:
    ftp_server.stop()
    runtime = await started(config(ftp_server, max_items=2), tmp_path / "data")
    try:
        for _ in range(3):
            await runtime.capture("gate")
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["dropped"] == 1)
        assert runtime.uploads.status()["ftp1"]["pending"] == 2, runtime.uploads.status()
    finally:
        await runtime.stop()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"id": "x", "type": "dropbox"}, r"uploads\.targets\[0\]\.type: no storage_backend of type 'dropbox'"),
        ({"id": "x", "type": "ftp"}, r"uploads\.targets\[0\]\.host: required key not provided"),
        ({"id": "X!", "type": "nas", "path": "/mnt"}, r"uploads\.targets\[0\]\.id"),
        ({"id": "x", "type": "nas", "path": "relative"}, r"uploads\.targets\[0\]\.path: an absolute path"),
        ({"id": "x", "type": "nas", "path": "/m", "content": ["videos"]}, r"uploads\.targets\[0\]\.content"),
        ({"id": "x", "type": "nas", "path": "/m", "naming": {"filing_interval_days": 31}}, r"filing_interval_days"),
    ],
)  # fmt: skip
def test_bad_targets_are_refused_with_their_key(
    tmp_path: Path, target: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        runtime_from_data({"uploads": {"targets": [target]}}, data_dir=tmp_path)


def test_two_targets_with_one_id_are_refused(tmp_path: Path) -> None:
    nas = {"id": "x", "type": "nas", "path": "/mnt"}
    with pytest.raises(ConfigError, match=r"uploads\.targets\[1\]\.id: 'x' is used twice"):
        runtime_from_data({"uploads": {"targets": [nas, nas]}}, data_dir=tmp_path)
