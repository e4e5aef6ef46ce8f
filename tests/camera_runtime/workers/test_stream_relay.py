"""A worker-hosted channel's served streams, relayed to the runtime: a real spawned worker
with a file source over an H.264 clip, its main stream opened through ``RemoteChannel.served``
as the runtime opens it: MPEG-TS whose packets PyAV demuxes byte for byte as the clip's,
fragmented MP4 that PyAV decodes, two clients, a client that leaves (or falls too far behind)
detaches in the worker, a killed worker ends the stream, and the local channel's errors."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from camera_runtime.exceptions import NotFoundError, StreamUnavailableError
from camera_runtime.host import validate
from camera_runtime.workers import stream_relay
from camera_runtime.workers.process import WorkerProcess
from camera_runtime.workers.remote import RemoteChannel
from camera_runtime.workers.stream_relay import RelayedStream

from ...plugins.sources.helpers import make_h264
from .helpers import WAIT, Seen, spawned


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_h264(tmp_path_factory.mktemp("relay") / "main.ts", "-bf", "0")


def _data(clip: Path) -> dict[str, Any]:
    return {
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "yard",
                "source": {"type": "file", "path": str(clip), "loop": True},
                "streams": {"third": {"video_encoding": "mjpeg"}},
            }
        ],
    }


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def worker(seen: Seen, clip: Path) -> Iterator[WorkerProcess]:
    with spawned("worker-streams", _data(clip), seen) as process:
        yield process


@pytest.fixture
def channel(worker: WorkerProcess, seen: Seen, clip: Path) -> RemoteChannel:
    """The yard channel, started in the worker, its main stream connected."""
    remote = RemoteChannel(validate(_data(clip)).channels[0], worker, seen.change)
    remote.start()
    seen.wait_for(lambda: _streams(remote)["main"]["codec"] == "h264")
    return remote


def _streams(channel: RemoteChannel) -> dict[str, dict[str, Any]]:
    streams: dict[str, dict[str, Any]] = channel.status()["streams"]
    return streams


def _clients(channel: RemoteChannel) -> int:
    return int(_streams(channel)["main"]["clients"])


def packets_of(data: bytes | Path) -> list[bytes]:
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else str(data)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


async def read(stream: RelayedStream, size: int) -> bytes:
    """At least ``size`` bytes of the stream (all of it, if it ends first)."""
    data = b""
    async with asyncio.timeout(WAIT):
        async for chunk in stream.chunks():
            data += chunk
            if len(data) >= size:
                break
    return data


def assert_source_packets(received: list[bytes], source: list[bytes]) -> None:
    """The stream joins at a keyframe and every packet is one of the clip's, unchanged and in
    order (the clip loops: the sequence wraps around)."""
    assert len(received) >= 10
    start = source.index(received[0])
    for offset, packet in enumerate(received[:-1]):  # the last may be cut short
        assert packet == source[(start + offset) % len(source)]


async def wait_for(seen: Seen, check: Callable[[], Any]) -> None:
    await asyncio.to_thread(seen.wait_for, check)


async def test_main_ts_is_the_source_packets_byte_for_byte(
    channel: RemoteChannel, seen: Seen, clip: Path
) -> None:
    assert _clients(channel) == 0  # nobody watches: no client in the worker
    stream = await channel.served.served("main").open("ts")
    assert stream.content_type == "video/mp2t"
    await wait_for(seen, lambda: _clients(channel) == 1)
    data = await read(stream, 80_000)
    assert data[0] == 0x47  # MPEG-TS sync byte, from the tables on
    assert_source_packets(packets_of(data), packets_of(clip))
    stream.close()
    await wait_for(seen, lambda: _clients(channel) == 0)  # detached in the worker
    assert [chunk async for chunk in stream.chunks()] == []  # closed: nothing more


async def test_two_clients_and_fragmented_mp4(
    channel: RemoteChannel, seen: Seen, clip: Path
) -> None:
    main = channel.served.served("main")
    first, second = await main.open("ts"), await main.open("ts")
    mp4 = await main.open("mp4")
    assert mp4.content_type == "video/mp4"
    await wait_for(seen, lambda: _clients(channel) == 3)
    one, two, fragments = await asyncio.gather(
        read(first, 60_000), read(second, 60_000), read(mp4, 60_000)
    )
    source = packets_of(clip)
    assert_source_packets(packets_of(one), source)
    assert_source_packets(packets_of(two), source)
    assert fragments[4:8] == b"ftyp"
    with av.open(io.BytesIO(fragments)) as container:
        frames = [frame.to_ndarray() for frame in container.decode(video=0)]
    assert len(frames) >= 10 and frames[0].shape[1] == 344
    first.close()
    await wait_for(seen, lambda: _clients(channel) == 2)
    more = await read(second, 20_000)  # the other clients go on
    assert len(more) >= 20_000
    second.close()
    mp4.close()
    await wait_for(seen, lambda: _clients(channel) == 0)


async def test_a_client_too_far_behind_loses_its_stream(
    channel: RemoteChannel, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody reads: once the queue is full, the stream ends (what was queued is still read)
    and the worker's client is detached."""
    monkeypatch.setattr(stream_relay, "MAX_CLIENT_BACKLOG", 100_000)
    stream = await channel.served.served("main").open("ts")
    assert _clients(channel) == 1  # the worker pushed its status before it answered
    await wait_for(seen, lambda: _clients(channel) == 0)  # overflowed: detached in the worker
    data = await read(stream, 10**9)  # what was queued, then the end
    assert 0 < len(data) <= 100_000
    assert packets_of(data)
    stream.close()


async def test_a_stopped_channel_ends_the_stream(channel: RemoteChannel, seen: Seen) -> None:
    stream = await channel.served.served("main").open("mp4")
    assert await read(stream, 1)
    await asyncio.to_thread(channel.stop)
    async with asyncio.timeout(WAIT):  # the worker's stream ended: so does the relayed one
        async for _ in stream.chunks():
            pass
    stream.close()
    # Started again, with a status built now (the snapshot ``stop`` answered with may have
    # been built before the worker's client detached): no client is left behind.
    await asyncio.to_thread(channel.start)
    assert _clients(channel) == 0


async def test_a_killed_worker_ends_the_stream(
    channel: RemoteChannel, worker: WorkerProcess, seen: Seen
) -> None:
    stream = await channel.served.served("main").open("ts")
    assert await read(stream, 1)
    worker.kill()
    assert await asyncio.to_thread(seen.exited.wait, WAIT)
    async with asyncio.timeout(WAIT):  # the rest of what came, then the end
        async for _ in stream.chunks():
            pass
    stream.close()  # the worker is gone: nothing to tell it, nothing raised


async def test_the_local_channels_errors(channel: RemoteChannel) -> None:
    with pytest.raises(NotFoundError, match="no 'fourth' stream") as missing:
        await channel.served.served("fourth").open("ts")
    assert missing.value.translation_key == "stream_not_found"
    with pytest.raises(StreamUnavailableError, match="mjpeg"):
        await channel.served.served("third").open("ts")
    with pytest.raises(NotFoundError, match="no 'avi' streams"):
        await channel.served.served("main").open("avi")
    assert _clients(channel) == 0
