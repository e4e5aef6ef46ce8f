"""The shared, on-demand encoder of a channel's stream, with the real ``ffmpeg`` encoder (H.264)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from camera_runtime.encoding import EncodedStream, StreamConsumer
from camera_runtime.interfaces import Encoder, EncoderContext
from camera_runtime.model import Frame, Packet
from camera_runtime_plugins.encoders.ffmpeg import FFmpegEncoder
from tests.plugins.encoders.helpers import ffprobe, frames, write

W, H = 96, 64
WAIT = 10.0


class Factory:
    """Builds the real encoder, and counts how often it was asked to."""

    def __init__(self, **options: Any) -> None:
        self.options = FFmpegEncoder.CONFIG_SCHEMA({"preset": "ultrafast", **options})
        self.built = 0

    def __call__(self) -> Encoder:
        self.built += 1
        return FFmpegEncoder(self.options, EncoderContext("cam", "main", W, H, 25.0))


class Collector:
    """A callback consumer that keeps what it gets and lets the test wait for it."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.changed = threading.Condition()

    def __call__(self, packet: Packet) -> None:
        with self.changed:
            self.packets.append(packet)
            self.changed.notify_all()

    def wait_for(self, count: int) -> list[Packet]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.packets) >= count, WAIT), self.packets
            return list(self.packets)


@pytest.fixture
def source() -> Iterator[Frame]:
    return frames(10_000, W, H)


@pytest.fixture(autouse=True)
def _no_encoder_left() -> Iterator[None]:
    """Every test stops what it started; a failed one must not leave threads to the next."""
    yield
    for stream in list(STREAMS):
        stream.close()
        assert stream.join(WAIT)
    STREAMS.clear()


STREAMS: list[EncodedStream] = []


def make(factory: Factory) -> EncodedStream:
    stream = EncodedStream(factory, "cam-main")
    STREAMS.append(stream)
    return stream


def encoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("encoder-")]


def feed(stream: EncodedStream, source: Iterator[Frame], count: int, collector: Collector) -> None:
    """Put ``count`` frames one at a time, each once the previous one's packet arrived."""
    for _ in range(count):
        expected = len(collector.packets) + 1
        stream.put(next(source))
        collector.wait_for(expected)


def test_nothing_runs_without_a_consumer(source: Iterator[Frame]) -> None:
    factory = Factory()
    stream = make(factory)
    for _ in range(5):
        stream.put(next(source))
    assert not stream.running
    assert factory.built == 0
    assert encoder_threads() == []
    assert stream.frames_encoded == stream.frames_skipped == 0
    assert stream.stream_info() is None


def test_the_first_consumer_starts_it_and_the_last_stops_it(source: Iterator[Frame]) -> None:
    factory = Factory()
    stream = make(factory)
    consumer = stream.attach()
    assert stream.running and factory.built == 1
    assert [t.name for t in encoder_threads()] == ["encoder-cam-main"]
    info = stream.stream_info()
    assert info is not None and (info.codec, info.width, info.height) == ("h264", W, H)
    frame = next(source)
    stream.put(frame)
    packet = consumer.get(WAIT)
    assert packet is not None and packet.keyframe and packet.demux_time == frame.demux_time
    consumer.close()
    assert not stream.running
    assert consumer.get(WAIT) is None and consumer.closed
    assert stream.join(WAIT)
    assert encoder_threads() == []
    stream.put(next(source))  # a no-op again
    assert stream.frames_encoded == 1
    # ...and the next consumer starts a new encoder.
    with stream.attach() as again:
        assert factory.built == 2
        stream.put(next(source))
        first = again.get(WAIT)
        assert first is not None and first.keyframe and first.pts == 0
    assert stream.join(WAIT)


def test_consumers_share_one_encoder_and_get_the_same_packets(source: Iterator[Frame]) -> None:
    factory = Factory(i_frame_interval=4)
    stream = make(factory)
    fast, other = Collector(), Collector()
    stream.attach(fast)
    stream.attach(other)
    feed(stream, source, 10, fast)
    assert other.wait_for(10) == fast.packets
    assert factory.built == 1
    assert stream.frames_encoded == 10
    stream.close()
    assert stream.join(WAIT)


def test_a_joining_consumer_starts_at_a_keyframe_asked_for(source: Iterator[Frame]) -> None:
    stream = make(Factory(i_frame_interval=100))
    first = Collector()
    stream.attach(first)
    feed(stream, source, 5, first)
    joining = stream.attach()
    feed(stream, source, 3, first)
    packets = [joining.get(WAIT) for _ in range(3)]
    assert packets == first.packets[5:]
    assert [p.keyframe for p in first.packets] == [True] + [False] * 4 + [True, False, False]
    stream.close()
    assert stream.join(WAIT)


def test_a_slow_consumer_drops_up_to_the_next_keyframe(source: Iterator[Frame]) -> None:
    stream = make(Factory(i_frame_interval=5))
    fast = Collector()
    stream.attach(fast)
    slow = stream.attach(max_packets=3)
    feed(stream, source, 12, fast)  # packets 0-11; keyframes 0, 5, 10
    # The slow one took 0 to 2 and lost 3 to 11: the keyframes 5 and 10 found its queue
    # still full.
    assert slow.packets_dropped == 9
    assert [slow.get(WAIT) for _ in range(3)] == fast.packets[:3]
    with pytest.raises(TimeoutError):
        slow.get(0)
    feed(stream, source, 6, fast)  # packets 12-17; keyframe 15
    resumed = slow.get(WAIT)
    assert resumed is not None and resumed.keyframe and resumed.discontinuity
    assert resumed.pts == fast.packets[15].pts
    assert slow.packets_dropped == 12  # 12, 13, 14
    assert slow.get(WAIT) == fast.packets[16]
    counters = stream.counters()
    assert counters["frames_encoded"] == 18
    assert [c["packets_dropped"] for c in counters["consumers"]] == [0, 12]
    stream.close()
    assert stream.join(WAIT)


def test_an_encoder_that_falls_behind_takes_the_newest_frame(source: Iterator[Frame]) -> None:
    stream = make(Factory())
    entered, release = threading.Event(), threading.Event()
    got: list[Packet] = []

    def busy(packet: Packet) -> None:  # holds the encoder thread until released
        got.append(packet)
        entered.set()
        assert release.wait(WAIT)

    stream.attach(busy)
    sent = [next(source) for _ in range(4)]
    stream.put(sent[0])
    assert entered.wait(WAIT)
    entered.clear()
    for frame in sent[1:]:  # the encoder is busy: each replaces the one before
        stream.put(frame)
    assert stream.frames_skipped == 2
    release.set()
    assert entered.wait(WAIT)
    assert [p.demux_time for p in got] == [sent[0].demux_time, sent[3].demux_time]
    assert stream.frames_encoded == 2
    stream.close()
    assert stream.join(WAIT)


def test_an_encoder_failure_ends_its_consumers(source: Iterator[Frame]) -> None:
    stream = make(Factory())
    consumer = stream.attach()
    (wrong,) = frames(1, W * 2, H * 2)  # not the size the encoder was opened for
    stream.put(wrong)
    assert consumer.get(WAIT) is None
    assert consumer.error.startswith("the encoder failed")
    assert stream.join(WAIT)
    assert not stream.running
    # A new consumer starts afresh.
    with stream.attach() as fresh:
        stream.put(next(source))
        packet = fresh.get(WAIT)
        assert packet is not None and packet.keyframe
    assert stream.join(WAIT)


def test_options_the_encoder_refuses_fail_the_attach() -> None:
    factory = Factory(width=W * 2, height=H * 2)  # above the input
    stream = make(factory)
    with pytest.raises(vol.Invalid, match="above the input"):
        stream.attach()
    assert not stream.running and stream.consumers == 0
    assert encoder_threads() == []


def test_a_consumer_queue_holds_at_least_one_packet() -> None:
    stream = make(Factory())
    with pytest.raises(ValueError, match="at least one"):
        stream.attach(max_packets=0)
    assert not stream.running


def test_detach_is_idempotent(source: Iterator[Frame]) -> None:
    stream = make(Factory())
    consumer: StreamConsumer = stream.attach()
    consumer.close()
    consumer.close()
    stream.detach(consumer)
    assert stream.join(WAIT) and not stream.running


async def test_an_event_loop_reads_the_packets_without_a_thread(source: Iterator[Frame]) -> None:
    stream = make(Factory(i_frame_interval=3))
    consumer = stream.attach()
    sent = [next(source) for _ in range(4)]
    received: list[Packet] = []

    async def read() -> None:
        async for packet in consumer.packets():
            received.append(packet)
            if len(received) < len(sent):
                stream.put(sent[len(received)])  # the next frame once this one arrived
            else:
                consumer.close()  # ends the iteration

    stream.put(sent[0])
    await asyncio.wait_for(read(), WAIT)
    assert [p.demux_time for p in received] == [f.demux_time for f in sent]
    assert [p.keyframe for p in received] == [True, False, False, True]
    assert consumer.closed and not stream.running


async def test_a_callback_consumer_has_no_queue_to_read() -> None:
    stream = make(Factory())
    consumer = stream.attach(Collector())
    with pytest.raises(RuntimeError, match="no queue"):
        async for _ in consumer.packets():
            pass


def test_a_joining_consumers_packets_make_a_playable_file(
    source: Iterator[Frame], tmp_path: Path
) -> None:
    """What a recorder or an HTTP stream does with a consumer that joined mid-stream: its
    packets, muxed with the stream's global headers, play from the first one."""
    stream = make(Factory(i_frame_interval=100))
    first = Collector()
    stream.attach(first)
    feed(stream, source, 7, first)
    joining = stream.attach()
    feed(stream, source, 10, first)
    packets = [joining.get(WAIT) for _ in range(10)]
    info = stream.stream_info()
    assert info is not None and all(p is not None for p in packets)
    path = tmp_path / "joined.mp4"
    write(path, info, [p for p in packets if p is not None])
    probe = ffprobe(path)
    assert len(probe["frames"]) == 10
    assert probe["frames"][0]["key_frame"] == 1
    assert probe["streams"][0]["avg_frame_rate"] == "25/1"


def test_attach_and_detach_while_frames_keep_coming(source: Iterator[Frame]) -> None:
    """The channel's thread puts frames all along while consumers come and go: every
    consumer starts at a keyframe, and nothing is left running at the end."""
    stream = make(Factory(i_frame_interval=50))
    pool = [next(source) for _ in range(8)]
    stop = threading.Event()

    def channel() -> None:
        index = 0
        while not stop.is_set():
            frame = pool[index % len(pool)]
            index += 1
            stream.put(Frame(frame.y, frame.u, frame.v, index / 25, 0.0, 0.0))

    worker = threading.Thread(target=channel)
    worker.start()
    try:
        for _ in range(15):
            with stream.attach() as consumer:
                packets = [consumer.get(WAIT) for _ in range(3)]
            assert packets[0] is not None and packets[0].keyframe
            assert all(p is not None for p in packets)
    finally:
        stop.set()
        worker.join()
    assert stream.join(WAIT)
    assert not stream.running and encoder_threads() == []
    assert stream.frames_skipped > 0  # the channel thread outran the encoder
