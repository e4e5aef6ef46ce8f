"""The recorder fed real H.264 packets through a ``PacketFanout``: continuous segments that
start at keyframes and hold every packet, an event clip that starts pre-record seconds
before the event (to within one GOP), and a slow writer that drops to the next keyframe and
counts it. Files are read back with PyAV and ffprobe."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import av
import pytest

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.model import Packet
from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.recorder import FLUSH_INTERVAL, Recorder
from camera_runtime.recording.settings import RECORD_SCHEMA

from .helpers import EPOCH, decoded_frames, ffprobe, file_packets, packets_and_info


def make(
    tmp_path: Path,
    clip: Path,
    queue_packets: int = 500,
    hooks: dict[str, Any] | None = None,
    **settings: object,
) -> tuple[Recorder, PacketFanout, RecordingIndex, list[Packet]]:
    """A recorder of ``clip``'s packets into ``tmp_path / "rec"``; ``hooks``: the recorder's
    ``report`` and ``changes_pictures``."""
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    index = RecordingIndex(tmp_path / "recordings.db")
    config = RECORD_SCHEMA({"enabled": True, **settings})
    recorder = Recorder(
        "cam", config, fanout, index, tmp_path / "rec", queue_packets=queue_packets, **(hooks or {})
    )
    return recorder, fanout, index, packets


def test_continuous_segments_start_at_keyframes_and_hold_every_packet(
    tmp_path: Path, h264_clip: Path
) -> None:
    recorder, fanout, index, packets = make(tmp_path, h264_clip, segment_length=3)
    recorder.start()
    for packet in packets:
        fanout.publish(packet)
    recorder.stop()
    assert fanout.consumers == 0
    segments = index.segments("cam")
    assert len(segments) == 4  # 10 s in segments of 3 s, cut at the keyframes (1 s apart)
    written: list[bytes] = []
    for segment in segments:
        path = tmp_path / "rec" / segment.path
        assert path.name.startswith("cam_main_") and path.suffix == ".ts"
        assert segment.size == path.stat().st_size
        probed = ffprobe(path)
        assert probed["first_key"]
        in_file = file_packets(path)
        assert in_file[0][1] and segment.keyframes == sum(k for _, k, _ in in_file)
        assert decoded_frames(path) == len(in_file)  # every frame decodes
        written += [data for _, _, data in in_file]
    assert written == [p.data for p in packets]  # nothing lost, nothing doubled, in order
    assert segments[0].start == pytest.approx(EPOCH)
    assert segments[-1].end == pytest.approx(EPOCH + 10, abs=0.05)
    assert ffprobe(tmp_path / "rec" / segments[0].path)["duration"] == pytest.approx(3, abs=0.1)
    assert not list((tmp_path / "rec").rglob("*.part"))
    assert recorder.dropped == 0


def test_an_event_clip_starts_pre_record_before_the_event_within_one_gop(
    tmp_path: Path, h264_clip: Path
) -> None:
    recorder, fanout, index, packets = make(
        tmp_path, h264_clip, record_type="event", pre_record=2, segment_length=60
    )
    recorder.start()
    event = EPOCH + 6.5  # mid-GOP: the keyframe before event - pre_record is at 4 s
    clip_id: int | None = None
    for packet in packets:
        if clip_id is None and packet.wall_time >= event:
            clip_id = recorder.want(event - 2, math.inf, "motion")
        if clip_id is not None and packet.wall_time >= EPOCH + 8:
            recorder.release(clip_id, EPOCH + 8.5)  # event ended at 8 s, post-record 0.5 s
        fanout.publish(packet)
    recorder.stop()
    (segment,) = index.segments("cam")
    path = tmp_path / "rec" / segment.path
    in_file = file_packets(path)
    expected = [p for p in packets if EPOCH + 4 <= p.wall_time <= EPOCH + 8.5]
    assert [d for _, _, d in in_file] == [p.data for p in expected]
    # The frames before the event are there: from the keyframe at 4 s, 2.5 s before it.
    assert in_file[0][1] and segment.start == pytest.approx(EPOCH + 4)
    assert ffprobe(path)["first_key"]
    assert decoded_frames(path) == len(expected)
    (clip,) = index.clips("cam")
    assert (clip.id, clip.start, clip.end, clip.reason) == (
        clip_id,
        event - 2,
        EPOCH + 8.5,
        "motion",
    )


def test_nothing_is_recorded_while_nothing_wants_it(tmp_path: Path, h264_clip: Path) -> None:
    recorder, fanout, index, packets = make(tmp_path, h264_clip, record_type="event")
    recorder.start()
    for packet in packets:
        fanout.publish(packet)
    recorder.stop()
    assert index.segments() == [] and not list((tmp_path / "rec").rglob("*.ts*"))
    assert 0 < recorder.ring.packets <= 25 * 6  # 5 s of pre-record plus at most one GOP


def test_a_slow_writer_drops_to_the_next_keyframe_and_counts_it(
    tmp_path: Path, h264_clip: Path
) -> None:
    recorder, fanout, index, packets = make(tmp_path, h264_clip, queue_packets=10)
    recorder.start()
    for packet in packets[:30]:
        fanout.publish(packet)
        assert recorder.drain()
    # The writer is stuck (its lock is taken: a disk that does not answer) while the feed
    # goes on: the feed's thread never waits, the queue fills, packets are dropped.
    with recorder._lock:
        fanout.publish(packets[30])
        # Once the writer took it, it waits for the lock with it and takes nothing more: the
        # queue's 10 places fill, and the rest drops in one episode. (Had it taken a packet
        # only after the queue filled, one place would free and a second episode begin.)
        deadline = time.monotonic() + 10
        while recorder._pending:  # the writer thread offers nothing to await
            assert time.monotonic() < deadline
            time.sleep(0.001)
        for packet in packets[31:100]:
            fanout.publish(packet)
    for packet in packets[100:]:
        fanout.publish(packet)
        assert recorder.drain()
    recorder.stop()
    assert recorder.dropped > 0 and recorder.drop_episodes == 1
    written = [d for s in index.segments() for _, _, d in file_packets(tmp_path / "rec" / s.path)]
    assert len(written) == len(packets) - recorder.dropped
    # Writing resumed at a keyframe: what follows the gap decodes.
    data = [p.data for p in packets]
    resumed = next(i for i, d in enumerate(written) if d != data[i])
    assert packets[data.index(written[resumed])].keyframe
    assert all(decoded_frames(tmp_path / "rec" / s.path) for s in index.segments())


def test_packets_reach_the_open_segment_within_the_flush_interval(
    tmp_path: Path, h264_clip: Path
) -> None:
    """The crash-safety bound: without a drain or a stop, what was published is in the open
    segment's ``.part`` (what a kill -9 leaves) within ``FLUSH_INTERVAL`` (plus a margin for
    a loaded machine), every packet of it and in order."""
    recorder, fanout, _index, packets = make(tmp_path, h264_clip)
    recorder.start()
    try:
        published = time.monotonic()
        for packet in packets[:40]:
            fanout.publish(packet)
        expected = [p.data for p in packets[:40]]
        part: list[Path] = []
        in_file: list[bytes] = []
        while in_file != expected:  # the writer thread offers nothing to await
            assert time.monotonic() - published < FLUSH_INTERVAL + 2.0, len(in_file)
            time.sleep(0.01)
            part = part or list((tmp_path / "rec").rglob("*.ts.part"))
            # Read while it may be written: empty yet, or a packet cut short, is read again.
            try:
                in_file = [d for _, _, d in file_packets(part[0])] if part else []
            except av.FFmpegError:
                in_file = []
        assert recorder.recording and recorder.dropped == 0
    finally:
        recorder.stop()


def test_a_failing_disk_is_counted_reported_and_retried_at_a_keyframe(
    tmp_path: Path, h264_clip: Path
) -> None:
    reports: list[str | None] = []
    recorder, fanout, index, packets = make(tmp_path, h264_clip, hooks={"report": reports.append})
    root = tmp_path / "rec"
    root.write_bytes(b"")  # a file where the folder should be: every write fails
    recorder.start()
    for packet in packets[:60]:  # 2.4 s: keyframes at 0, 1 and 2 s
        fanout.publish(packet)
    assert recorder.drain()
    assert recorder.write_errors == 3  # one attempt per keyframe, not one per packet
    assert len(reports) == 1 and reports[0] is not None and reports[0].startswith("cam: ")
    root.unlink()  # the disk works again
    for packet in packets[60:]:
        fanout.publish(packet)
    recorder.stop()
    assert reports[1:] == [None]
    (segment,) = index.segments()
    in_file = file_packets(root / segment.path)
    assert in_file[0][1] and segment.start == EPOCH + 3  # from the next keyframe on
    assert [d for _, _, d in in_file] == [p.data for p in packets[75:]]


def test_nothing_is_recorded_while_an_image_stage_changes_the_pictures(
    tmp_path: Path, h264_clip: Path
) -> None:
    masked = [False]
    hooks = {"changes_pictures": lambda: masked[0]}
    recorder, fanout, index, packets = make(tmp_path, h264_clip, hooks=hooks)
    recorder.start()
    for i, packet in enumerate(packets):
        if i in (50, 150):  # a privacy mask on at 2 s, off at 6 s
            assert recorder.drain()
            masked[0] = i == 50
        fanout.publish(packet)
    recorder.stop()
    assert recorder.refused == 100 and recorder.ring.since(0)[0].wall_time >= EPOCH + 6
    first, second = index.segments()
    assert (first.start, first.end) == (EPOCH, EPOCH + 2)
    assert second.start == EPOCH + 6  # from the first keyframe once the mask is off
    assert [d for _, _, d in file_packets(tmp_path / "rec" / second.path)] == [
        p.data for p in packets[150:]
    ]


def test_a_later_clip_never_records_again_what_a_segment_holds(
    tmp_path: Path, h264_clip: Path
) -> None:
    """A clip whose pre-record reaches into a closed segment starts at the first keyframe
    after it: two files of the same time would have the same name and overwrite each other."""
    recorder, fanout, index, packets = make(tmp_path, h264_clip, record_type="event")
    recorder.start()
    recorder.want(EPOCH + 1, EPOCH + 3, "clip")
    cut = 4 * 25 + 5  # up to 4.2 s: the first clip ended at 3 s
    for packet in packets[:cut]:
        fanout.publish(packet)
    assert recorder.drain()
    recorder.want(EPOCH + 2, EPOCH + 6, "clip")  # its pre-record reaches back to 2 s
    for packet in packets[cut:]:
        fanout.publish(packet)
    recorder.stop()
    first, second = index.segments("cam")
    assert (first.start, second.start) == (EPOCH + 1, EPOCH + 4)
    assert first.end <= second.start and first.path != second.path
    assert all((recorder._root / s.path).is_file() for s in (first, second))
