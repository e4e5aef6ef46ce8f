"""The runtime with ``workers.channels_per_process``: channels run in spawned worker processes
and the runtime's faces see them as before: status, events in the history, arming kept across
a restart, channels added and removed; ePTZ channels stay in the runtime's process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import pytest

from camera_runtime.channel import Channel
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import ChannelUpdate, EventPhase, EventUpdate
from camera_runtime.runtime import Runtime
from camera_runtime.workers.remote import RemoteChannel

from ...plugins.sources.helpers import make_h264
from .helpers import kill_worker

SYNTHETIC = {"type": "synthetic", "width": 320, "height": 180, "fps": 25, "scene": "yard"}
WAIT = 60.0


def config(per_process: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "zeroconf": {"enabled": False},
        "workers": {"channels_per_process": per_process},
        "channels": [
            {"id": "a", "source": SYNTHETIC, "detectors": {"motion": {}}},
            {"id": "b", "source": SYNTHETIC, "detectors": {"motion": {}}},
            {"id": "p", "source": SYNTHETIC, "ptz": {"enabled": True}},
        ],
        **extra,
    }


async def wait_until(runtime: Runtime, check: Any) -> None:
    """Wait for ``check()`` to hold, re-checked on every channel update."""
    changed = asyncio.Event()
    unsubscribe = runtime.subscribe_channels(lambda update: changed.set())
    try:
        async with asyncio.timeout(WAIT):
            while not check():
                await changed.wait()
                changed.clear()
    finally:
        unsubscribe()


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = runtime_from_data(config(), data_dir=tmp_path / "data")
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def first_event(runtime: Runtime, check: Callable[[EventUpdate], bool]) -> EventUpdate:
    """The first event update on the runtime's bus from now on that ``check`` accepts."""
    found: list[EventUpdate] = []
    seen = asyncio.Event()

    def on_event(update: EventUpdate) -> None:
        if not found and check(update):
            found.append(update)
            seen.set()

    unsubscribe = runtime.subscribe_events(on_event)
    try:
        async with asyncio.timeout(WAIT):
            await seen.wait()
    finally:
        unsubscribe()
    return found[0]


def worker_pid(runtime: Runtime, channel_id: str) -> int | None:
    channel: Channel | RemoteChannel = runtime.channels[channel_id]
    return channel.worker.pid if isinstance(channel, RemoteChannel) else None


async def test_channels_run_in_workers(runtime: Runtime) -> None:
    pids = {worker_pid(runtime, c) for c in ("a", "b")}
    assert None not in pids and len(pids) == 2 and os.getpid() not in pids
    assert worker_pid(runtime, "p") is None  # ePTZ: in the runtime's process
    await wait_until(
        runtime,
        lambda: all(runtime.channel_status(c)["state"] == "online" for c in ("a", "b", "p")),
    )
    status = runtime.channel_status("a")
    assert status["width"] == 320 and status["height"] == 180
    assert {c["key"] for c in status["controls"]} >= {"arming", "capture", "display_info"}
    assert "motion" in {e["name"] for e in status["event_types"]}
    assert runtime.has_picture("a")

    # events of a worker's channel reach the runtime's bus and its history
    first = await first_event(
        runtime, lambda u: u.event.channel == "a" and u.phase is EventPhase.NEW
    )
    await runtime.history.flush()
    stored = await runtime.event(first.event.id)
    assert stored is not None and stored.channel == "a"


async def test_switches_and_settings_apply_and_are_kept(tmp_path: Path) -> None:
    runtime = runtime_from_data(config(), data_dir=tmp_path / "data")
    await runtime.start()
    try:
        changes: list[ChannelUpdate] = []
        unsubscribe = runtime.subscribe_channels(changes.append)
        await runtime.set_armed("a", False)
        assert runtime.channel_status("a")["armed"] is False
        await wait_until(
            runtime, lambda: any(u.channel == "a" and u.status["armed"] is False for u in changes)
        )
        unsubscribe()
        await runtime.set_detector("a", "motion", enabled=True, options={"sensitivity": 80})
        assert runtime.channels["a"].detectors["motion"].options["sensitivity"] == 80
        with pytest.raises(ConfigError):  # the schema still refuses, nothing changes
            await runtime.set_detector("a", "motion", options={"sensitivity": 500})
        assert runtime.channels["a"].detectors["motion"].options["sensitivity"] == 80
    finally:
        await runtime.stop()
    again = runtime_from_data(config(), data_dir=tmp_path / "data")
    await again.start()
    try:
        assert again.channel_status("a")["armed"] is False
        assert again.channels["a"].detectors["motion"].options["sensitivity"] == 80
    finally:
        await again.stop()


async def test_channels_added_and_removed(runtime: Runtime) -> None:
    status = await runtime.add_channel({"id": "c", "source": SYNTHETIC})
    assert status["id"] == "c"
    pid = worker_pid(runtime, "c")
    assert pid is not None and pid not in {worker_pid(runtime, x) for x in ("a", "b")}
    workers = runtime.channels.workers
    assert workers is not None and len(workers.workers) == 3
    await runtime.remove_channel("c")
    assert "c" not in runtime.channels and len(workers.workers) == 2  # its worker stopped


async def test_a_worker_carries_several_channels(tmp_path: Path) -> None:
    runtime = runtime_from_data(config(per_process=16), data_dir=tmp_path / "data")
    await runtime.start()
    try:
        assert worker_pid(runtime, "a") == worker_pid(runtime, "b") is not None
        workers = runtime.device_info()["workers"]
        assert workers is not None and workers["channels_per_process"] == 16
        (process,) = workers["processes"]
        assert process["pid"] == worker_pid(runtime, "a") and process["alive"] is True
        assert process["channels"] == ["a", "b"]
        await wait_until(
            runtime, lambda: all(runtime.channel_status(c)["fps"] > 0 for c in ("a", "b"))
        )
    finally:
        await runtime.stop()
    assert runtime.channels.workers is None


async def test_a_killed_worker_is_restarted(runtime: Runtime) -> None:
    await wait_until(runtime, lambda: runtime.channel_status("a")["state"] == "online")
    old = worker_pid(runtime, "a")
    other = worker_pid(runtime, "b")
    await runtime.set_armed("a", False)
    losses = await kill_worker(runtime, "a")
    new, end = losses[0], losses[-1]
    assert new.phase is EventPhase.NEW and "exited (code -9)" in new.event.data["reason"]
    assert end.event.data["recovered"] is True
    assert worker_pid(runtime, "a") not in (None, old)
    assert worker_pid(runtime, "b") == other  # the other worker ran on
    await wait_until(runtime, lambda: runtime.channel_status("a")["state"] == "online")
    assert runtime.channel_status("a")["armed"] is False
    workers = runtime.channels.workers
    assert workers is not None and workers.restarts == 1
    # the restart is seen, not only logged: the device information and its readings
    info = runtime.device_info()
    assert info["workers"] is not None and info["workers"]["restarts"] == 1
    readings = {s["key"]: s["value"] for s in info["sensors"]}
    assert readings["worker_restarts"] == 1 and readings["worker_processes"] == 2
    pids = {p["pid"] for p in info["workers"]["processes"]}
    assert pids == {worker_pid(runtime, "a"), other}


async def test_a_worker_channel_streams_records_and_snapshots(tmp_path: Path) -> None:
    """Everything the runtime serves of a channel, for one in a worker: the main stream
    passed through over MPEG-TS, continuous recording of it, a snapshot of the sub-stream."""
    clip = make_h264(tmp_path / "main.ts", "-bf", "0")
    source = {"type": "file", "path": str(clip), "loop": True, "realtime": True}
    data = {
        "zeroconf": {"enabled": False},
        "workers": {"channels_per_process": 4},
        "channels": [
            {
                "id": "yard",
                "source": source,
                "substream": {"type": "synthetic", "width": 320, "height": 180, "fps": 10},
                "record": {"enabled": True, "record_type": "continuous", "stream": "main"},
            }
        ],
    }
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    await runtime.start()
    try:
        assert worker_pid(runtime, "yard") is not None
        await wait_until(runtime, lambda: runtime.channel_status("yard")["state"] == "online")
        stream = await runtime.stream("yard", "main", "ts")
        received = b""
        try:
            async with asyncio.timeout(WAIT):
                async for chunk in stream.chunks():
                    received += chunk
                    if len(received) > 50_000:
                        break
        finally:
            stream.close()
        with av.open(io.BytesIO(received)) as container:
            got = [bytes(p) for p in container.demux(video=0) if p.size]
        with av.open(str(clip)) as container:
            source_packets = [bytes(p) for p in container.demux(video=0) if p.size]
        start = source_packets.index(got[0])
        assert all(
            p == source_packets[(start + i) % len(source_packets)] for i, p in enumerate(got[:-1])
        )
        jpeg = await runtime.snapshot("yard", 160, 90)
        assert jpeg[:2] == b"\xff\xd8"
        status = runtime.channel_status("yard")
        assert status["recording"] is True
        assert {c["key"] for c in status["controls"]} >= {"manual_record", "record_clip"}
    finally:
        await runtime.stop()
    # what the worker relayed was written: a closed segment PyAV decodes
    again = runtime_from_data({**data, "workers": {}}, data_dir=tmp_path / "data")
    await again.start()
    try:
        segments = (await again.recordings_of("yard"))["segments"]
        assert segments
        files = await again.playback_files("yard", segments[0]["start"], segments[-1]["end"])
        with av.open(str(files[0])) as container:
            assert sum(1 for _ in container.decode(video=0)) > 10
    finally:
        await again.stop()


def detection_processes(parent: int) -> list[int]:
    """The detection processes ``parent`` started (``detect.process``), from ``/proc``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = stat.with_name("cmdline").read_bytes()
            if ppid == parent and b"camera_runtime.detection_process" in command:
                found.append(int(stat.parent.name))
    return found


async def test_a_worker_channel_detects_in_a_detection_process_of_its_own(
    tmp_path: Path,
) -> None:
    data = config()
    data["channels"][0]["detect"] = {"process": True}
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    await runtime.start()
    try:
        await first_event(runtime, lambda u: u.event.channel == "a" and u.event.type == "motion")
        worker = worker_pid(runtime, "a")
        assert worker is not None
        assert len(detection_processes(worker)) == 1  # a child of the worker, not a daemon's
        assert detection_processes(os.getpid()) == []
        other = worker_pid(runtime, "b")
        assert other is not None and detection_processes(other) == []  # inline there
        # its skipped pictures are a reading of the channel, as in the runtime's process
        channel = runtime.channels["a"]
        readings = {s["key"]: s for s in channel.status()["sensors"]}
        skipped = readings["detections_skipped"]["value"]  # before the process was up
        detections = channel.detections
        await wait_until(runtime, lambda: channel.detections >= detections + 5)
        # it keeps up: no more
        assert {s["key"]: s["value"] for s in channel.status()["sensors"]}[
            "detections_skipped"
        ] == skipped
        assert readings["detections_skipped"]["state_class"] == "total_increasing"
        assert readings["detection_restarts"]["value"] == 0
        assert "detections_skipped" not in str(runtime.channels["b"].status()["sensors"])
    finally:
        await runtime.stop()
