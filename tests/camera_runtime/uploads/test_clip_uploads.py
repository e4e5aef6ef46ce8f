"""Clip upload in a running runtime: a finished event clip (its segments all closed) reaches a
real FTP server (pyftpdlib on 127.0.0.1) as one MP4 named by the manual's rule, which PyAV
decodes to the frames of the clip's segments; a target taking pictures only gets none; while
the server is away the clip waits on disk as a file and goes when it returns; the queue's
bound counts clips and deletes the file of a dropped one."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import av
import pytest

from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.runtime import Runtime
from camera_runtime.uploads.queue import FILES_FOLDER
from tests.camera_runtime.api.test_streams import make_ts
from tests.ftp_server import FtpServer, ftp_server, ftp_target
from tests.polling import eventually

__all__ = ["ftp_server"]  # the fixture, used by name

CLIP_NAME = re.compile(r"^10\.0\.0\.7_01_\d{17}_(MOTION|CLIP)\.mp4$")


@pytest.fixture(scope="module")
def main_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_ts(tmp_path_factory.mktemp("clip-uploads") / "main.ts", (160, 120))


def config(clip: Path, targets: list[dict[str, Any]], **uploads: Any) -> dict[str, Any]:
    source = {"type": "file", "path": str(clip), "loop": True}
    record = {
        "enabled": True,
        "record_type": "event",
        "events": ["motion"],
        "pre_record": 0.5,
        "post_record": 0.5,
        "segment_length": 1,
    }
    return {
        "zeroconf": {"enabled": False},
        "device": {"name": "Home"},
        "channels": [{"id": "gate", "source": source, "record": record}],
        "uploads": {"targets": targets, "device_ip": "10.0.0.7", **uploads},
    }


async def started(data: dict[str, Any], folder: Path) -> Runtime:
    runtime = runtime_from_data(data, data_dir=folder)
    await runtime.start()
    recorder = runtime.recordings.recorders["gate"]
    await eventually(lambda: recorder.ring.packets > 25, within=20)  # a second in the ring
    return runtime


def uploaded(server: FtpServer) -> list[str]:
    return [f for f in server.files() if not f.rsplit("/", 1)[-1].startswith(".")]


def frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


async def motion_clip(runtime: Runtime) -> None:
    """A motion event on the channel, 1 s long: its clip opens, then ends after post-record."""
    recorder = runtime.recordings.recorders["gate"]
    event = Event("gate", "motion", time.time())
    runtime.publish_event(EventUpdate(EventPhase.NEW, event))
    await eventually(lambda: recorder.recording, within=20)
    await eventually(lambda: recorder.segments_written >= 1, within=20)  # a 1 s segment
    event.end = time.time()
    runtime.publish_event(EventUpdate(EventPhase.END, event))


async def test_an_event_clip_arrives_as_one_mp4_named_by_the_rule(
    tmp_path: Path, ftp_server: FtpServer, main_clip: Path
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    targets = [
        ftp_target(
            ftp_server,
            "ftp1",
            directory="cams",
            content=["pictures", "clips"],
            naming={"structure": "child", "child": "camera_no"},
        ),
        {"id": "pics", "type": "nas", "path": str(nas), "require_mount": False},
    ]
    runtime = await started(config(main_clip, targets), tmp_path / "data")
    try:
        await motion_clip(runtime)
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["clips"]["uploaded"] == 1)
        (path,) = uploaded(ftp_server)
        folders, name = path.rsplit("/", 1)
        assert folders == "cams/Home/01" and CLIP_NAME.match(name) and name.endswith("MOTION.mp4")
        ((clip),) = (await runtime.recordings_of("gate"))["clips"]
        # Named by the clip's start (the event minus pre-record), in local time.
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(clip["start"]))
        assert name.split("_")[2].startswith(stamp)
        # The MP4 holds every picture of the clip's segments, no more, no less.
        segments = runtime.recordings.index.segments("gate", clip["start"], clip["end"])
        assert segments
        expected = sum(frames(runtime.recordings.root / s.path) for s in segments)
        assert expected >= 25  # a second at least: the event's, and pre and post-record
        mp4 = ftp_server.root / path
        with av.open(str(mp4)) as container:
            assert container.format.name.startswith("mov")
        assert frames(mp4) == expected
        status = runtime.uploads.status()
        assert status["ftp1"]["clips"] == {"pending": 0, "uploaded": 1, "dropped": 0, "unqueued": 0}
        assert status["ftp1"]["content"] == ["pictures", "clips"]
        # The pictures-only target got no clip, and the queued file is gone once uploaded.
        assert status["pics"]["clips"]["uploaded"] == 0 and status["pics"]["uploaded"] == 0
        assert not [p for p in nas.rglob("*") if p.is_file()]
        assert not list((tmp_path / "data" / FILES_FOLDER).iterdir())
    finally:
        await runtime.stop()


async def test_a_clip_waits_while_the_server_is_away_and_goes_when_it_returns(
    tmp_path: Path, ftp_server: FtpServer, main_clip: Path
) -> None:
    targets = [ftp_target(ftp_server, "ftp1", content=["clips"])]
    runtime = await started(config(main_clip, targets), tmp_path / "data")
    queued = tmp_path / "data" / FILES_FOLDER
    try:
        ftp_server.stop()
        clip = await runtime.record_clip("gate", 0.5, 1.0)
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["failures"] >= 1)
        status = runtime.uploads.status()["ftp1"]
        assert status["state"] == "failing" and status["clips"]["pending"] == 1
        (waiting,) = queued.iterdir()  # one file on disk, named by no user
        assert waiting.suffix == ".mp4" and waiting.stat().st_size > 0
        ftp_server.start()  # back on the same port
        await runtime.uploads.test("ftp1")  # the manual's Test: the waiting retry goes now
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["clips"]["uploaded"] == 1)
        (path,) = uploaded(ftp_server)
        assert CLIP_NAME.match(path) and path.endswith("_CLIP.mp4")
        segments = runtime.recordings.index.segments("gate", clip["start"], clip["start"] + 1.5)
        assert frames(ftp_server.root / path) == sum(
            frames(runtime.recordings.root / s.path) for s in segments
        )
        assert runtime.uploads.status()["ftp1"]["state"] == "ok"
        assert not list(queued.iterdir())
    finally:
        await runtime.stop()


async def test_the_queue_bound_counts_clips_and_deletes_a_dropped_one(
    tmp_path: Path, ftp_server: FtpServer, main_clip: Path
) -> None:
    ftp_server.stop()
    targets = [ftp_target(ftp_server, "ftp1", content=["pictures", "clips"])]
    runtime = await started(config(main_clip, targets, max_items=1), tmp_path / "data")
    queued = tmp_path / "data" / FILES_FOLDER
    try:
        await runtime.record_clip("gate", 0.5, 0.5)
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["clips"]["pending"] == 1)
        assert len(list(queued.iterdir())) == 1
        await runtime.capture("gate")  # the bound is one item: the clip goes for it
        status = runtime.uploads.status()["ftp1"]
        assert (status["dropped"], status["clips"]["dropped"], status["pending"]) == (1, 1, 1)
        assert status["clips"]["pending"] == 0
        assert not list(queued.iterdir())  # the dropped clip's file is deleted with it
    finally:
        await runtime.stop()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (["pictures", "movies"], r"uploads\.targets\[0\]\.content\.1: value must be one of"),
        ([], r"uploads\.targets\[0\]\.content"),
        ("clips", r"uploads\.targets\[0\]\.content"),
    ],
)
def test_bad_content_types_are_refused_with_their_key(
    tmp_path: Path, content: Any, message: str
) -> None:
    target = {"id": "x", "type": "nas", "path": "/mnt", "content": content}
    with pytest.raises(ConfigError, match=message):
        runtime_from_data({"uploads": {"targets": [target]}}, data_dir=tmp_path)


async def test_a_manual_recording_ended_by_the_stop_is_uploaded_after_a_restart(
    tmp_path: Path, ftp_server: FtpServer, main_clip: Path
) -> None:
    """The stop ends the recording: its clip is queued before the recordings close, waits on
    disk while the server is away, and goes after the restart."""
    data = config(main_clip, [ftp_target(ftp_server, "ftp1", content=["clips"])])
    ftp_server.stop()
    runtime = await started(data, tmp_path / "data")
    try:
        await runtime.record_start("gate")
        recorder = runtime.recordings.recorders["gate"]
        await eventually(lambda: recorder.segments_written >= 1, within=20)
    finally:
        await runtime.stop()
    ftp_server.start()
    runtime = await started(data, tmp_path / "data")
    try:
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["clips"]["uploaded"] == 1)
        (path,) = uploaded(ftp_server)
        assert path.endswith("_MANUAL.mp4") and frames(ftp_server.root / path) >= 25
    finally:
        await runtime.stop()


async def test_a_clip_a_crash_kept_from_the_queue_is_queued_at_the_next_start(
    tmp_path: Path, ftp_server: FtpServer, main_clip: Path
) -> None:
    """A crash between a clip's end and its queueing is stood for by a runtime whose clip
    listener is gone: the clip is closed in the index but never handed on; the next start
    hands it on."""
    data = config(main_clip, [ftp_target(ftp_server, "ftp1", content=["clips"])])
    runtime = await started(data, tmp_path / "data")
    try:
        runtime.recordings.on_clip = lambda clip: None  # the hand-over never happens
        await runtime.record_clip("gate", 0.5, 1.0)
        recorder = runtime.recordings.recorders["gate"]
        await eventually(lambda: not recorder.open_clip_ids() and not recorder.recording, 20)
        assert runtime.uploads.status()["ftp1"]["clips"]["pending"] == 0
    finally:
        await runtime.stop()
    assert uploaded(ftp_server) == []
    runtime = await started(data, tmp_path / "data")
    try:
        await runtime.uploads.wait_for(lambda s: s["ftp1"]["clips"]["uploaded"] == 1)
        (path,) = uploaded(ftp_server)
        assert path.endswith("_CLIP.mp4")
        assert runtime.recordings.index.unhanded_clips() == []
    finally:
        await runtime.stop()


async def test_clips_recorded_while_no_target_took_clips_are_not_uploaded_later(
    tmp_path: Path, ftp_server: FtpServer, main_clip: Path
) -> None:
    runtime = await started(
        config(main_clip, [ftp_target(ftp_server, "ftp1")]), tmp_path / "data"
    )  # pictures only
    try:
        await runtime.record_clip("gate", 0.5, 0.5)
        recorder = runtime.recordings.recorders["gate"]
        await eventually(lambda: not recorder.open_clip_ids() and not recorder.recording, 20)
    finally:
        await runtime.stop()
    data = config(main_clip, [ftp_target(ftp_server, "ftp1", content=["clips"])])
    runtime = await started(data, tmp_path / "data")
    try:
        assert runtime.recordings.index.unhanded_clips() == []
        assert runtime.uploads.status()["ftp1"]["clips"]["pending"] == 0
    finally:
        await runtime.stop()
    assert uploaded(ftp_server) == []
