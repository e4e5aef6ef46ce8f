"""Events become recordings: with ``record_type: event`` an event's start opens a clip
pre-record seconds earlier and its end closes it post-record later; ``events`` narrows the
types; video loss never records. Real packets, real files."""

from __future__ import annotations

from pathlib import Path

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.recording.service import Recordings
from camera_runtime.recording.settings import RECORD_SCHEMA

from .helpers import EPOCH, file_packets, packets_and_info


def test_events_open_and_close_clips(tmp_path: Path, h264_clip: Path) -> None:
    packets, info = packets_and_info(h264_clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    recordings = Recordings(tmp_path)
    recordings.open()
    settings = {"enabled": True, "record_type": "event", "events": ["bright"], "pre_record": 2}
    recordings.start_channel("cam", RECORD_SCHEMA(settings), {MAIN: fanout})
    bright = Event("cam", "bright", EPOCH + 5)
    other = Event("cam", "line_crossing", EPOCH + 1)
    lost = Event("cam", "video_loss", EPOCH + 1)
    for packet in packets:
        if packet.wall_time >= EPOCH + 1 and other.end is None:
            other.end = EPOCH + 1.5
            for event in (other, lost):
                recordings.on_event(EventUpdate(EventPhase.NEW, event))
        if packet.wall_time >= bright.start and not recordings.index.clips():
            recordings.on_event(EventUpdate(EventPhase.NEW, bright))
        if packet.wall_time >= EPOCH + 7 and bright.end is None:
            bright.end = EPOCH + 7
            recordings.on_event(EventUpdate(EventPhase.END, bright))
        fanout.publish(packet)
    recordings.close()
    recordings.open()
    (clip,) = recordings.clips("cam")
    assert (clip.start, clip.end, clip.reason) == (EPOCH + 3, EPOCH + 12, "bright")
    (segment,) = recordings.segments("cam")
    assert segment.start == EPOCH + 3  # the keyframe at event - pre_record
    assert segment.end == EPOCH + 10  # the clip's end (7 + 5 s post-record) is past the clip
    in_file = file_packets(recordings.root / segment.path)
    assert len(in_file) == 7 * 25 and in_file[0][1]
    recordings.close()


def test_the_quota_overwrites_the_oldest_as_segments_close(tmp_path: Path, h264_clip: Path) -> None:
    packets, info = packets_and_info(h264_clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    quota = h264_clip.stat().st_size * 4 // 10  # about four of the ten 1 s segments
    recordings = Recordings(tmp_path, quota_bytes=quota)
    recordings.open()
    settings = RECORD_SCHEMA({"enabled": True, "segment_length": 1})
    recordings.start_channel("cam", settings, {MAIN: fanout})
    for packet in packets:
        fanout.publish(packet)
    recordings.close()
    recordings.open()
    kept = recordings.segments("cam")
    assert sum(s.size for s in kept) <= quota
    assert recordings.retention.overwritten == 10 - len(kept) >= 5
    assert kept[-1].end == EPOCH + 10  # the newest stay
    files = sorted(p.relative_to(recordings.root).as_posix() for p in recordings.root.rglob("*.ts"))
    assert files == sorted(s.path for s in kept)
    recordings.close()
