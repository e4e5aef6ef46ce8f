"""A worker-hosted channel's packets relayed to the runtime's process: a real spawned worker
playing a real H.264 file, its packets compared with the file's own, the worker's side seen
starting and stopping, a worker killed under the relay, and a real recorder writing a segment
from a ``RemoteChannel`` that PyAV decodes back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from camera_runtime.encoding import EncodedStream
from camera_runtime.exceptions import WorkerGoneError
from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.host import validate
from camera_runtime.model import Packet, StreamInfo
from camera_runtime.recording.service import Recordings
from camera_runtime.recording.settings import RECORD_SCHEMA
from camera_runtime.registry import build_plugins
from camera_runtime.workers.packet_relay import rebound, relay_of
from camera_runtime.workers.pool import plugin_modules
from camera_runtime.workers.process import WorkerProcess
from camera_runtime.workers.remote import RemoteChannel

from ...plugins.sources.helpers import make_h264
from ..recording.helpers import decoded_frames
from .helpers import WAIT, Seen, spawned


class _Taken:
    """A fanout consumer that keeps what it gets and lets a test wait on it."""

    def __init__(self, fanout: PacketFanout | None = None) -> None:
        self.packets: list[Packet] = []
        #: The fanout's ``info`` as each packet came (what a recorder opens a segment with).
        self.infos: list[StreamInfo | None] = []
        self._fanout = fanout
        self._cond = threading.Condition()

    def __call__(self, packet: Packet) -> None:  # the link's thread: returns at once
        with self._cond:
            self.packets.append(packet)
            if self._fanout is not None:
                self.infos.append(self._fanout.info)
            self._cond.notify_all()

    def wait_for(self, count: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.packets) >= count, WAIT), (
                f"{len(self.packets)} of {count} packets"
            )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_h264(tmp_path_factory.mktemp("relay") / "clip.ts")


def _file_packets(path: Path) -> list[tuple[bytes, int | None, int | None, bool]]:
    with av.open(str(path)) as container:
        return [
            (bytes(p), p.pts, p.dts, bool(p.is_keyframe))
            for p in container.demux(video=0)
            if p.size
        ]


def _data(clip: Path, loop: bool = False, mirror: bool = False) -> dict[str, Any]:
    source = {"type": "file", "path": str(clip), "loop": loop}
    image = {"mirror": {"enabled": mirror, "mode": "left_right"}}
    return {
        "zeroconf": {"enabled": False},
        "channels": [{"id": "cam1", "name": "Cam 1", "source": source, "image": image}],
    }


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def worker(clip: Path, seen: Seen) -> Iterator[WorkerProcess]:
    with spawned("worker-packets", _data(clip), seen) as process:
        yield process


def _remote(
    worker: WorkerProcess, clip: Path, loop: bool = False, mirror: bool = False
) -> RemoteChannel:
    config = validate(_data(clip, loop, mirror)).channels[0]
    return RemoteChannel(config, worker, lambda _id: None)


class _End:
    """A stream consumer's ``on_end``: what it was told."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.told = threading.Event()

    def __call__(self, error: str) -> None:
        self.errors.append(error)
        self.told.set()


def _state(worker: WorkerProcess) -> dict[str, Any]:
    state: dict[str, Any] = worker.call("packets.state", "cam1")
    return state


def test_relayed_packets_are_the_files_and_the_worker_side_follows_subscriptions(
    worker: WorkerProcess, clip: Path
) -> None:
    remote = _remote(worker, clip)
    fanout = remote.packets[MAIN]
    relay = relay_of(worker)
    assert _state(worker) == {
        "sender": None,  # no thread before the first subscription
        "roles": {MAIN: {"consumers": 0, "published": 0}},
        "subscriptions": {},
    }
    first, second = _Taken(fanout), _Taken()
    stop_first = fanout.subscribe(first)
    stop_second = fanout.subscribe(second)
    assert relay.settle()
    state = _state(worker)
    assert state["roles"][MAIN]["consumers"] == 1  # one worker subscription for both
    assert len(state["subscriptions"]) == 1

    remote.start()
    expected = _file_packets(clip)
    first.wait_for(len(expected))
    second.wait_for(len(expected))
    got = [(p.data, p.pts, p.dts, p.keyframe) for p in first.packets]
    assert got == expected  # byte-identical, in order
    assert [p.data for p in second.packets] == [e[0] for e in expected]
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        time_base, width = stream.time_base, stream.codec_context.width
    assert {p.time_base for p in first.packets} == {time_base}
    assert {p.codec for p in first.packets} == {"h264"}
    assert first.packets[0].discontinuity and not any(p.discontinuity for p in first.packets[1:])
    assert all(p.wall_time > 0 and p.demux_time > 0 for p in first.packets)
    assert fanout.info is not None and fanout.info.width == width
    assert fanout.info.time_base == time_base and fanout.info.codec == "h264"
    assert set(first.infos) == {fanout.info}  # there before the first packet
    state = _state(worker)
    assert state["roles"][MAIN]["published"] == len(expected)  # the worker's own packets
    (sub,) = state["subscriptions"].values()
    assert sub == {"role": MAIN, "taken": len(expected), "dropped": 0, "episodes": 0}

    stop_first()
    assert relay.settle()
    assert _state(worker)["roles"][MAIN]["consumers"] == 1  # the second still takes them
    stop_second()
    assert relay.settle()
    state = _state(worker)
    assert state["roles"] == {MAIN: {"consumers": 0, "published": len(expected)}}
    assert state["subscriptions"] == {}
    assert fanout.subscription is None and fanout.ended == ""


def test_the_recorders_predicate_reads_the_workers_pictures(
    worker: WorkerProcess, clip: Path
) -> None:
    remote = _remote(worker, clip)
    assert remote.image.active is False and remote.display.enabled is False
    remote.display_info = True
    assert remote.display.enabled is True
    remote.set_stage("mirror", enabled=True)
    assert remote.image.active is True


def test_a_dead_worker_ends_the_relay(worker: WorkerProcess, clip: Path, seen: Seen) -> None:
    remote = _remote(worker, clip, loop=True)
    fanout = remote.packets[MAIN]
    taken, encoded, encoded_end = _Taken(), _Taken(), _End()
    fanout.subscribe(taken)
    remote.start()
    taken.wait_for(10)  # the worker has decoded pictures (before it sent these packets)
    consumer = remote.relayed_streams.encoded(MAIN).attach(encoded, on_end=encoded_end)
    encoded.wait_for(1)
    worker.kill()
    assert seen.exited.wait(WAIT)
    assert fanout.subscription is None and "worker-packets is gone" in fanout.ended
    got = len(taken.packets)  # the link's reader has ended: nothing more comes
    assert fanout.consumers == 1  # as after a source's end: the consumer stays, unfed
    late = _Taken()
    fanout.subscribe(late)  # refused at once, nothing asked of a dead worker
    assert "gone" in fanout.ended and fanout.subscription is None
    assert len(taken.packets) == got and late.packets == []
    assert encoded_end.told.wait(WAIT)  # the encoded stream's consumer is ended, with why
    assert encoded_end.errors == ["worker-packets is gone"] and consumer.closed
    with pytest.raises(WorkerGoneError):
        remote.relayed_streams.encoded(MAIN).attach(_Taken())

    # The runtime replaces the worker and opens the channel there (``RemoteChannel.rebind``):
    # the consumers still subscribed are fed again, from a discontinuity.
    plugins = plugin_modules(build_plugins(_data(clip))[0])
    replacement = WorkerProcess("worker-packets-2", plugins, lambda u: None, lambda c: None)
    replacement.start()
    try:
        remote.worker = replacement
        replacement.open(remote.config)
        rebound(remote)
        remote.start()
        taken.wait_for(got + 10)
        late.wait_for(10)
        assert taken.packets[got].discontinuity and late.packets[0].discontinuity
        assert taken.packets[got].keyframe  # a new stream starts at a keyframe
        assert fanout.ended == "" and fanout.subscription is not None
        assert _state(replacement)["roles"][MAIN]["consumers"] == 1
        again = _Taken()
        remote.relayed_streams.encoded(MAIN).attach(again)  # the new worker's encoder
        again.wait_for(1)
        assert again.packets[0].keyframe
    finally:
        replacement.stop()


def _record(
    recordings: Recordings,
    remote: RemoteChannel,
    encoded: Callable[[str], EncodedStream] | None = None,
) -> None:
    """Record ``remote`` continuously, as the runtime starts a channel's recorder."""
    recordings.start_channel(
        "cam1",
        RECORD_SCHEMA({"enabled": True}),
        remote.packets,
        lambda: remote.image.active or remote.display.enabled,
        encoded,
    )


def test_a_recorder_records_a_remote_channel(
    worker: WorkerProcess, clip: Path, tmp_path: Path
) -> None:
    remote = _remote(worker, clip)
    recordings = Recordings(tmp_path)
    recordings.open()
    try:
        _record(recordings, remote)
        taken = _Taken()  # after the recorder's: it has each packet before this does
        remote.packets[MAIN].subscribe(taken)
        assert relay_of(worker).settle()
        remote.start()
        taken.wait_for(len(_file_packets(clip)))
        recordings.stop_channel("cam1")
        (segment,) = recordings.segments("cam1")
        assert decoded_frames(recordings.root / segment.path) == decoded_frames(clip)
    finally:
        recordings.close()


def test_a_recorder_records_the_encoded_stream_while_a_stage_changes_the_pictures(
    worker: WorkerProcess, clip: Path, tmp_path: Path
) -> None:
    remote = _remote(worker, clip, loop=True, mirror=True)
    assert remote.image.active
    recordings = Recordings(tmp_path)
    recordings.open()
    try:
        _record(recordings, remote, remote.relayed_streams.encoded)
        passed = _Taken()
        remote.packets[MAIN].subscribe(passed)  # not recorded: the pictures are changed
        remote.start()
        passed.wait_for(10)  # the worker has decoded pictures (before it sent these packets)
        taken, ended = _Taken(), _End()  # a second consumer of the worker's encoded stream
        stream = remote.relayed_streams.encoded(MAIN)
        stream.attach(taken, on_end=ended)
        taken.wait_for(60)  # more than two GOPs: the recorder's segment holds some
        recorder = recordings.recorders["cam1"]
        assert recorder.source == "encoded" and recorder.refused == 0
        assert recorder.drain()
        assert stream.stream_info() is not None and stream.consumers == 2
        assert taken.packets[0].keyframe and {p.codec for p in taken.packets} == {"h264"}
        remote.stop()  # the worker's stream ends: so do the runtime's consumers
        assert ended.told.wait(WAIT) and ended.errors == [""]
        recordings.stop_channel("cam1")
        (segment,) = recordings.segments("cam1")
        with av.open(str(recordings.root / segment.path)) as container:
            frames = list(container.decode(video=0))
        with av.open(str(clip)) as container:
            original = next(container.decode(video=0))
        assert frames and (frames[0].width, frames[0].height) == (original.width, original.height)
        # mirrored: the recorded picture's left column is the source's right one
        first = frames[0].to_ndarray(format="gray")
        source = original.to_ndarray(format="gray")
        assert abs(int(first[:, 0].mean()) - int(source[:, -1].mean())) < 20
        assert abs(int(first[:, 0].mean()) - int(source[:, 0].mean())) > 50
    finally:
        recordings.close()
