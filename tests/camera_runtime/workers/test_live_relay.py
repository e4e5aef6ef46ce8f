"""The live view of a channel in a real spawned worker, as the runtime reads it through its
``RemoteChannel``: snapshots decode at the size asked, MJPEG viewers share one worker
subscription that ends when they leave, and a dead worker ends the streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

import cv2
import numpy as np
import pytest

from camera_runtime.channel import ChannelState
from camera_runtime.exceptions import InvalidValueError, NoFrameError, WorkerGoneError
from camera_runtime.host import validate
from camera_runtime.workers.live_relay import RemoteLive
from camera_runtime.workers.process import WorkerProcess
from camera_runtime.workers.remote import RemoteChannel

from .helpers import WAIT, Seen, spawned
from .test_process import _data


async def _until(seen: Seen, check: Callable[[], Any]) -> None:
    """``seen.wait_for`` off the event loop, so the viewers keep reading meanwhile."""
    await asyncio.get_running_loop().run_in_executor(None, seen.wait_for, check)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def worker(seen: Seen) -> Iterator[WorkerProcess]:
    with spawned("worker-live", _data(), seen) as process:
        yield process


@pytest.fixture
def channel(worker: WorkerProcess, seen: Seen) -> RemoteChannel:
    return RemoteChannel(validate(_data()).channels[0], worker, seen.change)


async def _started(channel: RemoteChannel, seen: Seen) -> None:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, channel.start)
    await _until(seen, lambda: channel.state is ChannelState.ONLINE and channel.has_picture)


def _decoded(jpeg: bytes) -> np.ndarray:
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None
    return picture


async def _frames(stream: AsyncGenerator[bytes], count: int) -> list[bytes]:
    frames = []
    async for jpeg in stream:
        frames.append(jpeg)
        if len(frames) == count:
            break
    return frames


async def test_snapshots_decode_at_the_size_asked(channel: RemoteChannel, seen: Seen) -> None:
    with pytest.raises(NoFrameError, match="no picture yet") as caught:
        await channel.live.snapshot()  # opened, not started: no picture
    assert caught.value.translation_key == "no_frame"

    await _started(channel, seen)
    assert _decoded(await channel.live.snapshot()).shape == (720, 1280, 3)
    assert _decoded(await channel.live.snapshot(640, 360, 50)).shape == (360, 640, 3)
    assert _decoded(await channel.live.snapshot(height=180)).shape == (180, 320, 3)
    with pytest.raises(InvalidValueError, match="'width' must be an integer from 1 to"):
        await channel.live.snapshot(2560)  # never larger than the picture
    assert channel.live.viewers == 0


async def test_two_viewers_share_one_worker_subscription(
    channel: RemoteChannel, seen: Seen
) -> None:
    await _started(channel, seen)
    first, second = channel.live.stream(), channel.live.stream()
    async with contextlib.aclosing(first), contextlib.aclosing(second):
        one, two = await asyncio.gather(_frames(first, 3), _frames(second, 3))
        assert len(set(one)) == 3 and len(set(two)) == 3  # three new pictures each
        assert _decoded(one[-1]).shape == (720, 1280, 3)
        assert channel.live.viewers == 2
        assert channel.status()["viewers"] == 2  # what the runtime's faces show
        # the worker watches once for both: its live view has one viewer
        await _until(seen, lambda: channel.worker.snapshot("cam1").status["viewers"] == 1)
    assert channel.live.viewers == 0
    # both left: the worker's live view has none, so it encodes nothing
    await _until(seen, lambda: channel.worker.snapshot("cam1").status["viewers"] == 0)
    received = channel.live.frames_received
    await asyncio.get_running_loop().run_in_executor(
        None, channel.worker.command, channel.id, "set", "armed", False
    )  # a call's round trip: a picture pushed before the goodbye would be here by now
    assert channel.live.frames_received == received

    # a viewer after them subscribes again
    again = channel.live.stream()
    async with contextlib.aclosing(again):
        assert len(await _frames(again, 2)) == 2


async def test_a_stopped_channel_ends_its_streams(channel: RemoteChannel, seen: Seen) -> None:
    await _started(channel, seen)
    stream = channel.live.stream()
    async with contextlib.aclosing(stream):
        await _frames(stream, 1)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, channel.stop)
        rest = await asyncio.wait_for(_frames(stream, 1000), WAIT)  # ends, as a local one
        assert len(rest) < 1000
    assert channel.live.viewers == 0


async def test_a_killed_worker_ends_a_running_stream(
    channel: RemoteChannel, worker: WorkerProcess, seen: Seen
) -> None:
    await _started(channel, seen)
    stream = channel.live.stream()
    async with contextlib.aclosing(stream):
        await _frames(stream, 2)
        loop = asyncio.get_running_loop()
        killed = loop.time()
        await loop.run_in_executor(None, worker.kill)
        with pytest.raises(WorkerGoneError, match="worker is gone"):
            await asyncio.wait_for(_frames(stream, 1000), 5.0)
        assert loop.time() - killed < 5.0
    assert seen.exited.wait(WAIT)  # told after the relays (on the link's thread)
    # a new viewer of the dead worker's channel is told at once
    with pytest.raises(WorkerGoneError):
        await asyncio.wait_for(_frames(channel.live.stream(), 1), 5.0)


def test_a_channel_stops_quietly_when_its_worker_died_unnoticed(
    channel: RemoteChannel, worker: WorkerProcess, seen: Seen
) -> None:
    """The runtime stopping right after a worker died, before the pool marked its channels
    down (no pool here: nothing ever marks it): stopping it is not an error."""
    channel.start()
    worker.kill()
    assert seen.exited.wait(WAIT)
    assert channel.down == ""
    with pytest.raises(WorkerGoneError):  # what it would have asked the dead worker
        worker.command(channel.id, "stop", 1.0)
    channel.stop()
    assert channel.wanted is False


async def test_a_channel_made_again_takes_the_subscription_over(
    channel: RemoteChannel, worker: WorkerProcess, seen: Seen
) -> None:
    await _started(channel, seen)
    older = channel.live.stream()
    async with contextlib.aclosing(older):
        await _frames(older, 1)
        newer_live = RemoteLive(channel.id, worker)  # the runtime made the channel again
        newer = newer_live.stream()
        async with contextlib.aclosing(newer):
            assert len(await _frames(newer, 2)) == 2
            # one subscription per channel in the worker: the older one's viewer ends
            await asyncio.wait_for(_frames(older, 1000), WAIT)
            await _until(seen, lambda: worker.snapshot("cam1").status["viewers"] == 1)


async def test_a_slow_viewer_gets_the_newest_picture(channel: RemoteChannel, seen: Seen) -> None:
    await _started(channel, seen)
    slow, fast = channel.live.stream(), channel.live.stream()
    async with contextlib.aclosing(slow), contextlib.aclosing(fast):
        await asyncio.gather(_frames(slow, 1), _frames(fast, 1))
        seen_fast = await _frames(fast, 10)  # the slow one reads nothing meanwhile
        (after,) = await _frames(slow, 1)
        # nothing queued for it: it skips to the newest picture
        assert after not in seen_fast[:-1]
