"""A channel's feeds on real files: packets handed on unchanged, decoding only where pictures
are wanted, and a sub-stream's loss as the channel's video loss."""

from __future__ import annotations

import asyncio
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import av
import pytest

from camera_runtime.channel import ChannelState
from camera_runtime.feed import MAIN, Feed, FeedSpec, PacketFanout
from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventPhase, EventUpdate, Frame, Packet, StreamInfo
from camera_runtime_plugins.sources.file import FileSource
from tests.polling import eventually

from ..plugins.sources.helpers import make_h264


class CountingFileSource(FileSource):
    """The file source, counting what it decodes."""

    decoded: ClassVar[int] = 0

    def decode(self, packet: Packet) -> list[Frame]:
        type(self).decoded += 1
        return super().decode(packet)


class Recorder:
    """The channel's side of a feed, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.frames = 0
        self.done = threading.Event()

    def opened(self, role: str, info: StreamInfo) -> None:
        self.calls.append(("opened", info))

    def delivered(self, role: str, demux_time: float) -> None:
        self.calls.append(("delivered", role))

    def frame(self, frame: Frame) -> None:
        self.frames += 1

    def lost(self, role: str, reason: str, *, network: bool = False) -> None:
        self.calls.append(("lost", reason))

    def ended(self, role: str) -> None:
        self.calls.append(("ended", role))

    def exited(self, role: str) -> None:
        self.done.set()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_h264(tmp_path_factory.mktemp("feed") / "clip.ts")


def run_feed(clip: Path, *, decode: bool) -> tuple[Recorder, list[Packet]]:
    CountingFileSource.decoded = 0
    fanout = PacketFanout(MAIN)
    packets: list[Packet] = []
    fanout.subscribe(packets.append)
    recorder = Recorder()
    options = FileSource.CONFIG_SCHEMA({"path": str(clip), "realtime": False})
    feed = Feed(
        "cam",
        FeedSpec(MAIN, CountingFileSource, options, decode),
        fanout,
        recorder,
        threading.Event(),
    )
    feed.thread.start()
    assert recorder.done.wait(30)
    return recorder, packets


def file_packets(clip: Path) -> list[bytes]:
    with av.open(str(clip)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def test_a_feed_that_does_not_decode_hands_on_every_packet_and_decodes_nothing(clip: Path) -> None:
    recorder, packets = run_feed(clip, decode=False)
    assert CountingFileSource.decoded == 0
    assert recorder.frames == 0
    assert [p.data for p in packets] == file_packets(clip)  # unchanged, in order, none lost
    assert packets[0].keyframe and packets[0].discontinuity  # a new timeline starts
    assert not any(p.discontinuity for p in packets[1:])
    assert packets[0].codec == "h264"
    info = recorder.calls[0][1]
    assert (info.width, info.height, info.codec) == (344, 240, "h264")
    assert recorder.calls[-1] == ("ended", MAIN)


def test_the_decoding_feed_decodes_each_packet_once(clip: Path) -> None:
    recorder, packets = run_feed(clip, decode=True)
    assert recorder.frames == len(file_packets(clip)) == len(packets)
    assert CountingFileSource.decoded == len(packets) + 1  # and FFmpeg's final flush packet


def test_a_broken_consumer_does_not_stop_the_others() -> None:
    fanout = PacketFanout(MAIN)
    got: list[Packet] = []

    def broken(packet: Packet) -> None:
        raise RuntimeError("consumer bug")

    fanout.subscribe(broken)
    unsubscribe = fanout.subscribe(got.append)
    packet = Packet(b"x", 0, 0, Fraction(1, 90_000), True, "h264", 0.0, 0.0)
    fanout.publish(packet)
    unsubscribe()
    fanout.publish(packet)
    assert got == [packet] and fanout.consumers == 1 and fanout.packets == 2


async def test_losing_the_substream_is_the_channels_video_loss(tmp_path: Path, clip: Path) -> None:
    data = {
        "channels": [
            {
                "id": "yard",
                "source": {"type": "file", "path": str(clip), "loop": True},
                "substream": {"type": "rtsp", "url": "rtsp://127.0.0.1:1/sub", "open_timeout": 1},
            }
        ]
    }
    runtime = runtime_from_data(data, data_dir=tmp_path / "data")
    updates: list[EventUpdate] = []
    lost = asyncio.Event()

    def on_event(update: EventUpdate) -> None:
        updates.append(update)
        if update.event.type == "video_loss":
            lost.set()

    runtime.subscribe_events(on_event)
    await runtime.start()
    try:
        async with asyncio.timeout(20):
            await lost.wait()
        channel = runtime.channels["yard"]
        assert updates[0].phase is EventPhase.NEW
        assert updates[0].event.data["reason"].startswith("sub stream: cannot open")
        assert channel.state is ChannelState.OFFLINE
        assert channel.last_error.startswith("sub stream:")
        await eventually(lambda: channel.packets["main"].packets > 10)  # main still flows
        assert channel.state is ChannelState.OFFLINE
    finally:
        await runtime.stop()
