"""``detect.process``: a channel's picture detectors run in the detection process. Their events
are those inline; a detector's start error is reported the same way; pictures the process is
behind on, or that come while it starts, are skipped and counted, never queued or waited for;
a process that dies, or does not come up, ends what was open and is started again; a channel
in a worker process has its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Mapping
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime import detection, detection_process, hookimpl
from camera_runtime.capabilities import EventTypeInfo
from camera_runtime.config import validate_config
from camera_runtime.detection_process import SLOTS, Change, DetectionProcess
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.interfaces import Detector, DetectorContext
from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime.runtime import Runtime
from tests.polling import eventually

from .fakes import FakePlugins, ScriptedSource
from .test_channel import Recorder

WAIT = 30.0


class WhereDetector(Detector):
    """An instant event for every picture: which process looked, and what it saw."""

    kind: ClassVar[str] = "where"
    EVENT_TYPES: ClassVar[tuple[EventTypeInfo, ...]] = (EventTypeInfo("where", "Where"),)

    def process(self, image: Any, timestamp: float) -> list[tuple[EventPhase, Event]]:
        data = {"pid": os.getpid(), "mean": float(image.mean()), "shape": list(image.shape)}
        event = Event(self.context.channel_id, "where", timestamp, end=timestamp, data=data)
        return [(EventPhase.NEW, event), (EventPhase.END, event)]


class GateDetector(WhereDetector):
    """``WhereDetector`` that, at its first picture, opens the FIFO ``at`` for writing and then
    ``gate`` for reading: each blocks until the test opens its other end, so the test knows
    when the detection process has reached the detector and holds it there as long as it
    likes, with no timing involved."""

    kind: ClassVar[str] = "gate"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema({vol.Required("at"): str, "gate": str})

    def __init__(self, options: Mapping[str, Any], context: DetectorContext) -> None:
        super().__init__(options, context)
        self._opened: list[int] = []

    def process(self, image: Any, timestamp: float) -> list[tuple[EventPhase, Event]]:
        if not self._opened:
            self._opened.append(os.open(self.options["at"], os.O_WRONLY))
            self._opened.append(os.open(self.options["gate"], os.O_RDONLY))
        return super().process(image, timestamp)


class BrokenDetector(WhereDetector):
    """A plugin with a bug: every picture raises."""

    kind: ClassVar[str] = "broken"

    def process(self, image: Any, timestamp: float) -> list[tuple[EventPhase, Event]]:
        raise RuntimeError("a bug")


class Plugins:
    @hookimpl
    def register_detectors(self, register: Any) -> None:
        register(WhereDetector)
        register(BrokenDetector)


def config(process: bool, **source: Any) -> dict[str, Any]:
    return {
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam",
                "source": {"type": "scripted", "width": 320, "height": 180, "fps": 50.0, **source},
                "detect": {"width": 160, "fps": 25, "process": process},
                "detectors": {"bright": {}, "where": {}},
            }
        ],
    }


def of(updates: list[EventUpdate], type_: str) -> list[EventUpdate]:
    return [u for u in updates if u.event.type == type_]


@pytest.fixture(autouse=True)
def open_camera() -> None:
    ScriptedSource.opens_allowed.set()


@contextlib.asynccontextmanager
async def started(tmp_path: Path, data: dict[str, Any]) -> AsyncIterator[tuple[Runtime, Recorder]]:
    runtime = runtime_from_data(data, data_dir=tmp_path, extra_plugins=[FakePlugins(), Plugins()])
    seen = Recorder()
    runtime.subscribe_events(seen)
    await runtime.start()
    try:
        yield runtime, seen
    finally:
        await runtime.stop()


async def ended(runtime: Runtime) -> None:
    channel = runtime.channels["cam"]
    assert await asyncio.get_running_loop().run_in_executor(None, channel.join, WAIT)


@pytest.mark.parametrize("process", [False, True])
async def test_events_are_those_inline(tmp_path: Path, process: bool) -> None:
    async with started(tmp_path, config(process, frames=50, bright_from=20)) as (runtime, seen):
        await ended(runtime)
        channel = runtime.channels["cam"]
        bright = of(seen.updates, "bright")
        # still bright at the end of the script: its end comes from the channel's finish,
        # from the detection process too, before the channel has ended
        assert [u.phase for u in bright] == [EventPhase.NEW, EventPhase.END]
        assert bright[0].event.id == bright[1].event.id and bright[1].event.end is not None
        assert bright[0].demux_time is not None
        where = [u.event.data for u in of(seen.updates, "where") if u.phase is EventPhase.NEW]
        # 25 of the 50 pictures, less any skipped (the process was behind, or not up yet)
        assert len(where) == channel.detections > 15
        assert channel.detections + channel.detections_skipped == 25
        # a reading of the channel where pictures can be skipped (MQTT, Home Assistant)
        readings = {s["key"]: s["value"] for s in channel.status()["sensors"]}
        expected = {"detections_skipped": channel.detections_skipped, "detection_restarts": 0}
        assert readings == (expected if process else {})
        assert {tuple(d["shape"]) for d in where} == {(90, 160)}
        assert {d["mean"] for d in where} == {30.0, 200.0}  # the pictures as they were sent
        pids = {d["pid"] for d in where}
        assert (pids == {os.getpid()}) is not process
    assert DetectionProcess._shared is None  # the last channel gone, the process went with it


async def test_a_detector_that_cannot_start_says_why_as_inline(tmp_path: Path) -> None:
    data = config(True, bright_from=0)
    data["channels"][0]["detectors"]["bright"] = {"fail": True}
    async with started(tmp_path, data) as (runtime, seen):
        await seen.wait_for(lambda u: bool(of(u, "where")))  # the other detector runs there
        status = runtime.channel_status("cam")["detectors"]
        assert status["bright"]["error"] == "cannot work at 160x90"
        assert status["where"]["error"] == ""
        assert of(seen.updates, "bright") == []


async def test_a_dead_process_ends_open_events_and_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detection, "RESTART_DELAY", 0.0)
    data = config(True, bright_from=0)
    del data["channels"][0]["detectors"]["where"]
    async with started(tmp_path, data) as (runtime, seen):
        await seen.wait_for(lambda u: bool(of(u, "bright")))
        shared = DetectionProcess._shared
        assert shared is not None and shared.pid is not None
        first, pid = of(seen.updates, "bright")[0].event, shared.pid
        shared.kill()
        await seen.wait_for(lambda u: len(of(u, "bright")) >= 3)
        end, again = of(seen.updates, "bright")[1:3]
        assert (end.phase, end.event.id) == (EventPhase.END, first.id)  # ended, not left open
        assert end.event.end is not None
        assert again.phase is EventPhase.NEW and again.event.id != first.id  # detecting again
        assert shared.restarts == 1 and shared.pid not in (None, pid)
        # the channel's reading (MQTT, Home Assistant) says so
        readings = {s["key"]: s["value"] for s in runtime.channels["cam"].status()["sensors"]}
        assert readings["detection_restarts"] == 1


def held_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The detection processes started from now wait before Python starts (their command, a
    shell script, reads a line from the FIFO this returns), until the test writes one."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    held = tmp_path / "held-python"
    held.write_text(f'#!/bin/sh\nread go < "{gate}"\nexec "{sys.executable}" "$@"\n')
    held.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(held))
    return gate


async def test_the_feed_does_not_wait_for_the_process_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the process is held before it starts, the channel's pictures go on, not
    detected on and counted as skipped, and its detectors say why; once the process is up
    they are detected on."""
    gate = held_start(tmp_path, monkeypatch)
    async with started(tmp_path, config(True)) as (runtime, seen):
        channel = runtime.channels["cam"]
        await eventually(lambda: channel.detections_skipped >= 10, WAIT)
        status = runtime.channel_status("cam")["detectors"]
        assert status["where"]["error"] == "the detection process is starting"
        assert channel.detections == 0 and of(seen.updates, "where") == []
        await asyncio.to_thread(gate.write_text, "go\n")
        await seen.wait_for(lambda u: bool(of(u, "where")))
        assert runtime.channel_status("cam")["detectors"]["where"]["error"] == ""
        assert channel.detections > 0 and channel.detections_skipped >= 10


async def test_a_process_that_does_not_come_up_is_killed_and_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that has not said it is up in ``START_TIMEOUT`` is stuck: killed, counted as
    a restart, and started again; the next one, let through, detects."""
    gate = held_start(tmp_path, monkeypatch)
    monkeypatch.setattr(detection_process, "START_TIMEOUT", 0.5)
    monkeypatch.setattr(detection, "RESTART_DELAY", 0.0)
    async with started(tmp_path, config(True)) as (runtime, seen):

        def restarted() -> bool:
            shared = DetectionProcess._shared
            return shared is not None and shared.restarts >= 1

        await eventually(restarted, WAIT)
        monkeypatch.setattr(detection_process, "START_TIMEOUT", WAIT)  # the next may come up
        await asyncio.to_thread(gate.write_text, "go\n")
        await seen.wait_for(lambda u: bool(of(u, "where")))
        readings = {s["key"]: s["value"] for s in runtime.channels["cam"].status()["sensors"]}
        assert readings["detection_restarts"] >= 1


def test_pictures_the_process_is_behind_on_are_skipped_and_counted(tmp_path: Path) -> None:
    at, gate = tmp_path / "at", tmp_path / "gate"
    os.mkfifo(at)
    os.mkfifo(gate)
    delivered: list[Change] = []
    done = threading.Event()

    demux_times: list[float | None] = []

    def deliver(changes: list[Change], demux_time: float | None) -> None:
        delivered.extend(changes)
        demux_times.append(demux_time)
        if len(delivered) == 2 * (SLOTS + 1):
            done.set()

    process = DetectionProcess()
    try:
        lane = process.lane("cam", deliver, lambda: None)
        lane.start(8, 4, 10.0)
        assert lane.build(GateDetector, {"at": str(at), "gate": str(gate)}) is None
        pictures = [np.full((4, 8), i, np.uint8) for i in range(SLOTS + 3)]
        assert lane.picture(pictures[0], 0.0, 0.0)
        with open(at, "rb"):  # the process copied the first picture out and waits at the gate
            sent = [lane.picture(p, float(i), float(i)) for i, p in enumerate(pictures[1:], 1)]
            # the next ones fill the slots, the last two find none
            assert sent == [True] * SLOTS + [False, False] and lane.skipped == 2
            with open(gate, "wb"):
                assert done.wait(WAIT)
        means = [event.data["mean"] for _kind, phase, event in delivered if phase.value == "new"]
        assert means == [float(i) for i in range(SLOTS + 1)]  # in order, each as it was sent
        assert demux_times == [float(i) for i in range(SLOTS + 1)]  # each with its own times
        assert lane.picture(pictures[0], 9.0, 9.0)  # the slots are free again

        class Local(WhereDetector):  # not importable by its name: said, not raised
            kind: ClassVar[str] = "local"

        error = lane.build(Local, {})
        assert error is not None and error.startswith("AttributeError: ")
        lane.close()
    finally:
        process.stop()


def test_the_process_takes_as_many_pictures_as_the_bell_counted_oldest_first() -> None:
    """A busy slot is taken once the channel's bell has counted it, never on its busy byte
    alone: on a weakly ordered CPU that byte may be seen before the picture written ahead of
    it, while the bell's write and read go through the kernel. The oldest come first, whatever
    their slots."""
    memory = SharedMemory(create=True, size=detection_process._size(8, 4))
    reader, bell = os.pipe()
    os.set_blocking(reader, False)
    channel = detection_process._Channel(memory.name, 8, 4, 10.0, "cam", reader)
    slots, busy, header = detection_process._slots(memory, 8, 4)
    try:
        for sequence, slot in enumerate((5, 2, 9), 1):  # handed over in this order
            slots[slot][:] = sequence
            header[slot] = (sequence, float(sequence), float("nan"))
            busy[slot] = 1
        assert channel.handed_over() == []  # busy, but nothing rung yet: nothing taken
        os.write(bell, b"\1\1")
        assert channel.handed_over() == [5, 2]
        channel.take(cast(Connection, None), "cam")  # no detector: no change to send
        assert [busy[5], busy[2], busy[9]] == [0, 0, 1]
        assert channel.handed_over() == []  # the third not rung yet
        os.write(bell, b"\1")
        assert channel.handed_over() == [9]
    finally:
        del slots, header
        busy.release()
        channel.close()
        memory.close()
        memory.unlink()
        os.close(bell)


def test_a_picture_for_a_process_that_just_died_is_skipped_never_the_feed_s_error() -> None:
    """Between the process's death and its reader thread hearing of it (held off here by the
    process's lock, which ``_ended`` takes), the bell's pipe has no reader: the picture is
    skipped and counted, its slot freed, and the broken pipe never reaches the feed."""
    process = DetectionProcess()
    try:
        lane = process.lane("cam", lambda changes, demux_time: None, lambda: None)
        lane.start(8, 4, 10.0)
        pid = process.pid
        assert pid is not None
        with process._lock:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + WAIT
            while True:  # reaped by the reader thread, which then waits for the lock
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                assert time.monotonic() < deadline, "the killed process was not reaped"
                time.sleep(0.01)
            assert process.pid == pid  # not heard of yet
            picture = np.zeros((4, 8), np.uint8)
            assert not lane.picture(picture, 0.0, 0.0)
            assert not lane.picture(picture, 0.1, 0.1)
            assert lane.skipped == 2
            assert not any(lane._busy)  # both slots freed: none waits for a reader
        lane.close()
    finally:
        process.stop()


def test_detect_process_is_off_by_default_and_checked() -> None:
    registry = collect_registry(create_plugin_manager(extra_plugins=[FakePlugins()]))
    channel: dict[str, Any] = {"id": "cam", "source": {"type": "scripted"}}
    assert not validate_config({"channels": [channel]}, registry, ()).channel("cam").detect_process
    data = {"channels": [{**channel, "detect": {"process": True}}]}
    assert validate_config(data, registry, ()).channel("cam").detect_process
    with pytest.raises(ConfigError) as info:
        validate_config({"channels": [{**channel, "detect": {"process": "yes"}}]}, registry, ())
    assert info.value.errors == ["channels[0].detect.process: expected bool"]


def test_a_stuck_process_is_killed_and_taken_for_dead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at, gate = tmp_path / "at", tmp_path / "gate"
    os.mkfifo(at)
    os.mkfifo(gate)
    lost = threading.Event()
    process = DetectionProcess()
    try:
        lane = process.lane("cam", lambda changes, demux_time: None, lost.set)
        lane.start(8, 4, 10.0)
        assert lane.build(GateDetector, {"at": str(at), "gate": str(gate)}) is None
        monkeypatch.setattr(detection_process, "CALL_TIMEOUT", 0.2)
        picture = np.zeros((4, 8), np.uint8)
        assert lane.picture(picture, 0.0, 0.0)
        with open(at, "rb"):  # the process waits at a gate that never opens
            assert [lane.picture(picture, 0.0, 0.0) for _ in range(SLOTS)] == [True] * SLOTS
            deadline = time.monotonic() + WAIT
            # pictures keep coming and none is taken: after CALL_TIMEOUT the process is killed
            while not lost.wait(0.05) and time.monotonic() < deadline:
                assert not lane.picture(picture, 0.0, 0.0)
        assert lost.is_set() and not lane.started and process.pid is None
        lane.close()  # the shared memory goes with the lane, the process gone or not
    finally:
        process.stop()


async def test_channels_share_the_process_and_options_apply_there(tmp_path: Path) -> None:
    data = config(True, bright_from=0)
    second = {**data["channels"][0], "id": "cam2"}
    second["detectors"] = {"where": {}, "broken": {}}  # a plugin's bug stays its own
    data["channels"].append(second)
    async with started(tmp_path, data) as (runtime, seen):

        def where(channel: str) -> list[EventUpdate]:
            return [u for u in of(seen.updates, "where") if u.event.channel == channel]

        await seen.wait_for(lambda u: bool(of(u, "bright")) and len(where("cam2")) > 10)
        pids = {u.event.data["pid"] for u in of(seen.updates, "where")}
        assert len(pids) == 1 and os.getpid() not in pids  # one process for both channels
        assert runtime.channel_status("cam2")["detectors"]["broken"]["error"] == ""

        # an option changed while running: the detector is finished and built anew there
        await runtime.set_detector("cam", "bright", options={"level": 255, "fail": False})
        await seen.wait_for(lambda u: len(of(u, "bright")) == 2)
        assert [u.phase for u in of(seen.updates, "bright")] == [EventPhase.NEW, EventPhase.END]
        count = len(where("cam"))
        await seen.wait_for(lambda u: len(where("cam")) >= count + 10)  # detecting on
        assert len(of(seen.updates, "bright")) == 2  # nothing is over 255
        assert {u.event.data["pid"] for u in of(seen.updates, "where")} == pids
