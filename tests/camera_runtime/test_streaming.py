"""The MPEG-TS muxer shared by a stream's clients, fed real packets of a clip: one mux for
all, a reader joins at a keyframe with the tables first, a reader far behind loses chunks up
to a keyframe, and nothing runs once the last reader left."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import pytest

from camera_runtime import streaming
from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.model import Packet, StreamInfo
from camera_runtime.streaming import MuxedStream, StreamOutputs, StreamReader

from ..plugins.sources.helpers import make_h264


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_h264(tmp_path_factory.mktemp("streaming") / "clip.ts")


def packets_and_info(clip: Path) -> tuple[list[Packet], StreamInfo]:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        info = StreamInfo(ctx.width, ctx.height, 25.0, "h264", stream.time_base, b"")
        packets = [
            Packet(bytes(p), p.pts, p.dts, p.time_base, p.is_keyframe, "h264", 0.0, 0.0, i == 0)
            for i, p in enumerate(container.demux(stream))
            if p.size
        ]
    return packets, info


def demuxed(data: bytes) -> list[bytes]:
    with av.open(io.BytesIO(data)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


async def read_all(reader: StreamReader) -> bytes:
    data = b""
    async for chunk in reader.chunks():
        data += chunk
    return data


async def test_two_readers_share_one_mux_and_get_the_same_stream(clip: Path) -> None:
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    muxed = MuxedStream(fanout, "test")
    assert fanout.consumers == 0 and not muxed.running  # nobody watches: not subscribed
    first, second = await muxed.open(), await muxed.open()
    assert fanout.consumers == 1 and muxed.clients == 2  # one subscription, one muxer
    readers = [asyncio.create_task(read_all(r)) for r in (first, second)]
    for packet in packets:
        fanout.publish(packet)
        await asyncio.sleep(0)  # let the readers take their chunks (their writes are paced)
    muxed.end()
    one, two = await asyncio.gather(*readers)
    assert one == two
    assert muxed.chunks_muxed == len(packets)
    assert demuxed(one) == [p.data for p in packets]  # every packet, unchanged, in order
    first.close()
    second.close()
    assert fanout.consumers == 0 and not muxed.running


async def test_clients_waiting_for_the_same_chunks_are_handed_one_join(clip: Path) -> None:
    """Clients that keep up wait for the same chunks: one of them joins them and the others
    get that same ``bytes`` (no copy per client); a client that joined later gets its own."""
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    muxed = MuxedStream(fanout, "test")
    loop = asyncio.get_running_loop()
    first, second = muxed.attach(loop), muxed.attach(loop)
    second_keyframe = [i for i, p in enumerate(packets) if p.keyframe][1]
    for packet in packets[:second_keyframe]:
        fanout.publish(packet)
    late = muxed.attach(loop)
    for packet in packets[second_keyframe:]:
        fanout.publish(packet)
    one, two, three = first.take(), second.take(), late.take()
    assert one is two
    assert demuxed(one) == [p.data for p in packets]
    assert three is not one
    assert demuxed(three) == [p.data for p in packets[second_keyframe:]]
    assert first.take() == b""  # nothing new: not the last join again
    for client in (first, second, late):
        muxed.detach(client)
    assert not muxed.running


async def test_a_late_reader_starts_at_a_keyframe_with_the_tables(clip: Path) -> None:
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    muxed = MuxedStream(fanout, "test")
    early = await muxed.open()
    for packet in packets[:3]:  # the first keyframe and two more
        fanout.publish(packet)
    late = await muxed.open()
    task = asyncio.create_task(read_all(late))
    for packet in packets[3:]:
        fanout.publish(packet)
    muxed.end()
    data = await task
    keyframes = [i for i, p in enumerate(packets) if p.keyframe]
    start = next(i for i in keyframes if i >= 3)
    # The tables first (SDT, PAT, PMT), then the keyframe's packets.
    pids = [(data[i + 1] & 0x1F) << 8 | data[i + 2] for i in range(0, 3 * 188, 188)]
    assert data[0] == 0x47 and set(pids) == {0x0000, 0x0011, 0x1000}
    assert demuxed(data) == [p.data for p in packets[start:]]
    early.close()
    late.close()


async def test_fragmented_mp4_joins_at_a_keyframe_with_its_init_segment(clip: Path) -> None:
    """A stream's outputs: MPEG-TS and fragmented MP4 muxed side by side from one source, each
    only while watched; the MP4 reader gets the initialisation segment, then fragments from the
    next keyframe, every one of which PyAV decodes."""
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    outputs = StreamOutputs(fanout, "test")
    ts = await outputs.open("ts")
    ts_task = asyncio.create_task(read_all(ts))
    for packet in packets[:3]:
        fanout.publish(packet)
    assert fanout.consumers == 1  # only the MPEG-TS muxer so far
    mp4 = await outputs.open("mp4")
    assert mp4.content_type == "video/mp4" and ts.content_type == "video/mp2t"
    assert fanout.consumers == 2 and outputs.clients == 2
    mp4_task = asyncio.create_task(read_all(mp4))
    for packet in packets[3:]:
        fanout.publish(packet)
        await asyncio.sleep(0)
    outputs.end()
    ts_data, mp4_data = await asyncio.gather(ts_task, mp4_task)
    start = next(i for i, p in enumerate(packets) if p.keyframe and i >= 3)
    assert mp4_data[4:8] == b"ftyp"
    with av.open(io.BytesIO(mp4_data)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == len(packets) - start
    assert (frames[0].width, frames[0].height) == (info.width, info.height)
    assert demuxed(ts_data) == [p.data for p in packets]
    ts.close()
    mp4.close()
    assert fanout.consumers == 0 and not outputs.running


async def test_a_stream_that_may_no_longer_go_on_ends(clip: Path) -> None:
    """A stream that must not go on (an image stage went on) ends its readers at the next
    packet."""
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    allowed = True
    muxed = MuxedStream(fanout, "test", lambda: allowed)
    reader = await muxed.open()
    task = asyncio.create_task(read_all(reader))
    fanout.publish(packets[0])
    allowed = False
    fanout.publish(packets[1])
    data = await asyncio.wait_for(task, 10)
    assert demuxed(data) == [packets[0].data]
    reader.close()


async def test_a_reader_far_behind_loses_chunks_up_to_a_keyframe(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that takes nothing keeps at most its backlog; when it is full, the waiting
    chunks are dropped and it starts afresh at the next keyframe: memory stays bounded."""
    monkeypatch.setattr(streaming, "MAX_CLIENT_BACKLOG", 30_000)
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    muxed = MuxedStream(fanout, "test")
    client = muxed.attach(asyncio.get_running_loop())
    peak = 0
    for packet in packets:
        fanout.publish(packet)
        peak = max(peak, client.backlog)
    assert client.dropped > 0
    assert peak <= 30_000 + max(len(p.data) for p in packets) + 3 * 188 + 1000
    received = demuxed(client.take())
    keyframes = [i for i, p in enumerate(packets) if p.keyframe]
    start = next(i for i in keyframes if packets[i].data == received[0])
    assert received == [p.data for p in packets[start : start + len(received)]]
    muxed.detach(client)


def test_a_muxer_starts_no_encoder_thread_and_its_stream_keeps_the_picture_size(
    clip: Path,
) -> None:
    """PyAV opens an encoder beside each muxed stream though none is fed: kept at its
    smallest, it starts no thread (libx264's default: 4 per live client and per segment)."""
    packets, info = packets_and_info(clip)

    def threads() -> int:
        return len(list(Path("/proc/self/task").iterdir()))

    before = threads()
    muxers = [streaming.TsMuxer(info) for _ in range(3)]
    out = [b"".join(muxer.mux(packet) for packet in packets) for muxer in muxers]
    assert threads() == before
    assert out[0] == out[1] == out[2]
    with av.open(io.BytesIO(out[0] + muxers[0].finish())) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (info.width, info.height)
    for muxer in muxers[1:]:
        muxer.close()
