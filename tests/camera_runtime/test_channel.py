"""The channel pipeline: detection at the detect size and rate, arming, video loss and recovery."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from camera_runtime.channel import BACKOFF_START, ChannelState, jittered, next_backoff
from camera_runtime.detection import detect_size
from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventPhase, EventUpdate
from camera_runtime.runtime import Runtime

from .fakes import BrightDetector, FakePlugins, ScriptedSource


class Recorder:
    """Collects bus updates and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.updates: list[EventUpdate] = []
        self._changed = asyncio.Event()

    def __call__(self, update: EventUpdate) -> None:
        self.updates.append(update)
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[list[EventUpdate]], bool], seconds: float = 20
    ) -> None:
        async with asyncio.timeout(seconds):
            while not predicate(self.updates):
                self._changed.clear()
                await self._changed.wait()

    def phases(self, type_: str) -> list[str]:
        return [u.phase.value for u in self.updates if u.event.type == type_]


def config(**source: Any) -> dict[str, Any]:
    return {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "scripted", "width": 640, "height": 360, **source},
                "detect": {"width": 160, "fps": 60},
                "detectors": {"bright": {}},
            }
        ]
    }


@pytest.fixture
def open_camera() -> None:
    ScriptedSource.opens_allowed.set()
    ScriptedSource.open_attempts = 0


@contextlib.asynccontextmanager
async def started(tmp_path: Path, data: dict[str, Any]) -> AsyncIterator[tuple[Runtime, Recorder]]:
    runtime = runtime_from_data(data, data_dir=tmp_path, extra_plugins=[FakePlugins()])
    recorder = Recorder()
    runtime.bus.subscribe(recorder)
    await runtime.start()
    try:
        yield runtime, recorder
    finally:
        await runtime.stop()


def test_detect_size_keeps_the_aspect_and_never_upscales() -> None:
    assert detect_size(1920, 1080, 320) == (320, 180)
    assert detect_size(1280, 720, 320) == (320, 180)
    assert detect_size(200, 150, 320) == (200, 150)
    assert detect_size(640, 480, 320) == (320, 240)


@pytest.mark.usefixtures("open_camera")
async def test_detectors_get_the_small_luma_picture_and_raise_events(tmp_path: Path) -> None:
    async with started(tmp_path, config(bright_from=20)) as (runtime, recorder):
        await recorder.wait_for(lambda u: any(x.event.type == "bright" for x in u))
        channel = runtime.channels["cam"]
        detector = channel.detection._detectors["bright"]
        assert isinstance(detector, BrightDetector)
        assert set(detector.sizes) == {(90, 160)}
        assert channel.state is ChannelState.ONLINE
        update = next(u for u in recorder.updates if u.event.type == "bright")
        assert update.phase is EventPhase.NEW and update.demux_time is not None
        await runtime.history.flush()
        stored = await runtime.history.query(channel="cam", type="bright")
        assert [e.id for e in stored] == [update.event.id]


@pytest.mark.usefixtures("open_camera")
async def test_detection_follows_the_detect_fps(tmp_path: Path) -> None:
    data = config(frames=100, fps=200.0)  # 0.5 s of video
    data["channels"][0]["detect"]["fps"] = 10
    async with started(tmp_path, data) as (runtime, _recorder):
        channel = runtime.channels["cam"]
        assert await asyncio.get_running_loop().run_in_executor(None, channel.join, 20.0)
        assert channel.state is ChannelState.ENDED
        assert channel.frames == 100
        assert 5 <= channel.detections <= 6  # 10 per second of video


async def test_disarmed_channels_raise_no_detection_events(tmp_path: Path) -> None:
    ScriptedSource.opens_allowed.clear()  # unreachable until the channel is disarmed
    async with started(tmp_path, config(bright_from=0, frames=60)) as (runtime, recorder):
        await recorder.wait_for(lambda u: recorder.phases("video_loss") == ["new"])
        await runtime.set_armed("cam", False)
        ScriptedSource.opens_allowed.set()
        await recorder.wait_for(lambda u: recorder.phases("video_loss") == ["new", "end"])
        channel = runtime.channels["cam"]
        assert await asyncio.get_running_loop().run_in_executor(None, channel.join, 20.0)
        assert channel.detections > 10  # every frame was bright and looked at...
        assert recorder.phases("bright") == []  # ...but disarmed: no event, not even its end
        assert recorder.phases("video_loss") == ["new", "end"]  # exceptions are not armed


async def test_outside_the_arming_schedule_events_are_suppressed_with_their_end(
    tmp_path: Path,
) -> None:
    ScriptedSource.opens_allowed.set()
    today = dt.datetime.now().strftime("%A").lower()
    other = "monday" if today != "monday" else "tuesday"
    data = config(bright_from=10, frames=60)
    data["channels"][0]["detectors"]["bright"]["arming_schedule"] = {other: ["00:00-24:00"]}
    async with started(tmp_path, data) as (runtime, recorder):
        channel = runtime.channels["cam"]
        assert await asyncio.get_running_loop().run_in_executor(None, channel.join, 20.0)
        assert channel.detections > 10  # the bright frames were looked at...
        assert recorder.phases("bright") == []  # ...but neither the start nor the end was raised


@pytest.mark.usefixtures("open_camera")
async def test_video_loss_and_recovery(tmp_path: Path) -> None:
    async with started(tmp_path, config(fail_after=10)) as (runtime, recorder):
        await recorder.wait_for(
            lambda u: "new" in [x.phase.value for x in u if x.event.type == "video_loss"]
        )
        channel = runtime.channels["cam"]
        assert channel.state is ChannelState.OFFLINE
        assert "dropped" in channel.last_error
        loss = next(u.event for u in recorder.updates if u.event.type == "video_loss")
        ScriptedSource.opens_allowed.set()  # the camera comes back
        await recorder.wait_for(
            lambda u: recorder.phases("video_loss") == ["new", "end"], seconds=30
        )
        end = [u for u in recorder.updates if u.event.type == "video_loss"][-1]
        assert end.event.id == loss.id and end.event.end is not None and end.event.data["recovered"]
        await runtime.history.flush()
        stored = await runtime.history.get(loss.id)
        assert stored is not None and stored.end == end.event.end


def test_reconnect_backoff_doubles_up_to_30_seconds() -> None:
    waits = [BACKOFF_START]
    for _ in range(7):
        waits.append(next_backoff(waits[-1]))
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]


def test_reconnect_waits_are_jittered_so_cameras_do_not_move_in_lockstep() -> None:
    assert jittered(10, lambda: 0.0) == pytest.approx(8)
    assert jittered(10, lambda: 1.0) == pytest.approx(12)
    waits = {round(jittered(30), 6) for _ in range(50)}
    assert len(waits) > 40 and min(waits) >= 24 and max(waits) <= 36


async def test_an_unreachable_camera_at_start_is_video_loss_and_retried_with_backoff(
    tmp_path: Path,
) -> None:
    ScriptedSource.opens_allowed.clear()
    ScriptedSource.open_attempts = 0
    ScriptedSource.open_times.clear()
    ScriptedSource.opened = threading.Semaphore(0)
    async with started(tmp_path, config()) as (runtime, recorder):
        await recorder.wait_for(lambda u: recorder.phases("video_loss") == ["new"])
        assert runtime.channels["cam"].state is ChannelState.OFFLINE
        loop = asyncio.get_running_loop()
        for _ in range(3):  # the first attempt and two retries
            assert await loop.run_in_executor(None, ScriptedSource.opened.acquire, True, 10.0)
        first, second, third = ScriptedSource.open_times[:3]
        assert 0.8 <= second - first < 1.6  # waited 1 s (give or take 20 %)...
        assert 1.6 <= third - second < 2.8  # ...then twice as long
        assert recorder.phases("video_loss") == ["new"]  # one loss, however many retries


@pytest.mark.usefixtures("open_camera")
async def test_a_finite_source_ends_its_events_and_the_channel(tmp_path: Path) -> None:
    async with started(tmp_path, config(bright_from=5, frames=40)) as (runtime, recorder):
        await recorder.wait_for(lambda u: recorder.phases("bright") == ["new", "end"])
        channel = runtime.channels["cam"]
        assert await asyncio.get_running_loop().run_in_executor(None, channel.join, 20.0)
        assert channel.state is ChannelState.ENDED


@pytest.mark.usefixtures("open_camera")
async def test_a_detector_can_be_disabled_and_enabled_while_running(tmp_path: Path) -> None:
    async with started(tmp_path, config(bright_from=0)) as (runtime, recorder):
        await recorder.wait_for(lambda u: recorder.phases("bright") == ["new"])
        runtime.channels["cam"].set_detector("bright", enabled=False)
        await recorder.wait_for(lambda u: recorder.phases("bright") == ["new", "end"])
        runtime.channels["cam"].set_detector("bright", enabled=True)
        await recorder.wait_for(lambda u: recorder.phases("bright") == ["new", "end", "new"])


@pytest.mark.usefixtures("open_camera")
async def test_resending_the_current_detector_state_changes_nothing(tmp_path: Path) -> None:
    async with started(tmp_path, config(bright_from=0)) as (runtime, recorder):
        await recorder.wait_for(lambda u: recorder.phases("bright") == ["new"])
        channel = runtime.channels["cam"]
        detector = channel.detection._detectors["bright"]
        channel.set_detector("bright", enabled=True)
        seq, _ = channel.slot.seq, None
        await asyncio.get_running_loop().run_in_executor(
            None, channel.slot.wait_newer, seq + 20, 10.0
        )
        assert channel.detection._detectors["bright"] is detector
        assert recorder.phases("bright") == ["new"]


@pytest.mark.usefixtures("open_camera")
async def test_a_detector_that_cannot_start_is_reported_and_the_video_goes_on(
    tmp_path: Path,
) -> None:
    data = config(bright_from=0, frames=50)
    data["channels"][0]["detectors"]["bright"]["fail"] = True
    async with started(tmp_path, data) as (runtime, recorder):
        channel = runtime.channels["cam"]
        assert await asyncio.get_running_loop().run_in_executor(None, channel.join, 20.0)
        assert channel.frames == 50 and channel.state is ChannelState.ENDED
        bright = channel.status()["detectors"]["bright"]
        assert (bright["enabled"], bright["error"]) == (True, "cannot work at 160x90")
        assert recorder.updates == []  # neither a false video loss nor a detection


async def test_a_video_loss_still_active_at_stop_is_ended_unrecovered(tmp_path: Path) -> None:
    ScriptedSource.opens_allowed.clear()
    async with started(tmp_path, config()) as (_, recorder):
        await recorder.wait_for(lambda u: recorder.phases("video_loss") == ["new"])
    await recorder.wait_for(lambda u: recorder.phases("video_loss") == ["new", "end"], seconds=5)
    end = recorder.updates[-1].event
    assert end.end is not None and end.data["recovered"] is False
