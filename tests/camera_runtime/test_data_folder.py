"""The data folder: one runtime at a time (with a clear message naming the holder, and no stale
lock after a kill -9), private folders and files, the device id kept across restarts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from camera_runtime.data_folder import LOCK_FILE, DataFolderInUseError, DataFolderLock
from camera_runtime.host import compose, runtime_from_data
from tests.ports import free_port

SYNTHETIC = {"type": "synthetic", "width": 64, "height": 48, "fps": 10}


def config() -> dict[str, object]:
    return {"zeroconf": {"enabled": False}, "channels": [{"id": "cam", "source": SYNTHETIC}]}


async def test_a_second_runtime_on_the_same_folder_refuses_to_start(tmp_path: Path) -> None:
    first = runtime_from_data(config(), data_dir=tmp_path)
    second = runtime_from_data(config(), data_dir=tmp_path)
    await first.start()
    try:
        with pytest.raises(DataFolderInUseError) as info:
            await second.start()
        assert f"the data folder {tmp_path} is in use by another runtime in this process" in str(
            info.value
        )
        assert "--data-dir" in str(info.value)
        assert not second.channels or all(c.state == "stopped" for c in second.channels.values())
    finally:
        await first.stop()
    third = runtime_from_data(config(), data_dir=tmp_path)
    await third.start()  # free again once the first stopped
    await third.stop()


def test_the_holder_is_named_and_a_killed_holder_leaves_no_lock(tmp_path: Path) -> None:
    """A runtime killed with SIGKILL cannot clean up: the kernel drops its lock, and the next
    start takes the folder (the message in between names the process)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from camera_runtime.data_folder import DataFolderLock
                DataFolderLock(Path({str(tmp_path)!r})).acquire()
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataFolderInUseError, match=f"in use by process {holder.pid}"):
            DataFolderLock(tmp_path).acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert (tmp_path / LOCK_FILE).exists()  # the file stays; the lock went with the process
    lock = DataFolderLock(tmp_path)
    lock.acquire()
    lock.release()


async def test_everything_the_runtime_writes_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    data = {**config(), "mqtt": {"host": "127.0.0.1", "port": free_port(), "discovery": False}}
    runtime = runtime_from_data(data, data_dir=folder)
    faces = compose(runtime, api=False)
    assert faces.mqtt is not None
    await runtime.start()
    try:
        await runtime.set_armed("cam", False)
        channel = runtime.channels["cam"]
        while channel.slot.frame is None:
            await __import__("asyncio").sleep(0.02)
        await runtime.capture("cam")
    finally:
        await runtime.stop()
    paths = [folder, *folder.rglob("*")]
    names = {p.relative_to(folder).as_posix() for p in paths}
    assert {"device.json", "events.sqlite3", "overrides.json", "mqtt-outbox.sqlite3"} <= names
    assert any(name.startswith("captures/") for name in names)
    loose = [
        f"{p.relative_to(tmp_path)} {stat.filemode(p.stat().st_mode)}"
        for p in paths
        if p.stat().st_mode & 0o077
    ]
    assert loose == []
