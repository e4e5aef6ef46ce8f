"""Recovery after a crash: a recording process killed with SIGKILL mid-segment leaves finished
segments that play, an open segment that is recovered, an open clip that is closed, and an
index that matches the files; files damaged or unknown to the index are handled too."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.recovery import recover

from .helpers import EPOCH, decoded_frames, ffprobe, file_packets

ROOT = Path(__file__).resolve().parents[3]
RECORDER = "tests.camera_runtime.recording.record_and_wait"


def test_kill_9_mid_segment_then_recovery(tmp_path: Path, h264_clip: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", RECORDER, str(h264_clip), str(tmp_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "mid"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    root = tmp_path / "rec"
    (part,) = root.rglob("*.part")  # the segment open at the kill
    assert part.stat().st_size > 0
    index = RecordingIndex(tmp_path / "recordings.db")
    before = len(index.segments())
    assert before == 5  # the first loop's 10 s in 2 s segments (the loop's end cuts one)
    assert [c.end for c in index.clips()] == [None]

    report = recover(root, index)

    assert (report.finished, report.discarded, report.clips_closed) == (1, 0, 1)
    assert not list(root.rglob("*.part"))
    segments = index.segments()
    assert len(segments) == before + 1
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.ts"))
    assert sorted(s.path for s in segments) == files  # the index matches the files
    for segment in segments:
        path = root / segment.path
        assert ffprobe(path)["first_key"]
        assert decoded_frames(path) == len(file_packets(path)) > 0
        assert segment.size == path.stat().st_size
    recovered = segments[-1]
    assert recovered.start == EPOCH + 10
    assert len(file_packets(root / recovered.path)) == 35
    (clip,) = index.clips()
    assert clip.end == max(s.end for s in segments)


def test_damaged_and_unknown_files_and_rows_without_files(tmp_path: Path, h264_clip: Path) -> None:
    root = tmp_path / "rec"
    day = root / "cam" / "2025-12-06"
    day.mkdir(parents=True)
    name = "cam_main_20251206T054000.000Z.ts"
    shutil.copy(h264_clip, day / name)  # a complete file the index does not know
    garbage = day / "cam_main_20251206T054100.000Z.ts.part"
    garbage.write_bytes(os.urandom(1000))  # an interrupted segment holding nothing playable
    cut = day / "cam_main_20251206T054200.000Z.ts.part"
    data = h264_clip.read_bytes()
    cut.write_bytes(data[: len(data) // 2 + 77])  # cut mid-packet, as a kill leaves it
    index = RecordingIndex(tmp_path / "recordings.db")
    gone = index.add_segment("cam", "main", 1.0, 2.0, "cam/1970-01-01/gone.ts", 10, 1)

    report = recover(root, index)

    assert (report.finished, report.discarded, report.indexed, report.forgotten) == (1, 1, 1, 1)
    assert index.segment(gone.id) is None and not garbage.exists()
    paths = {s.path: s for s in index.segments()}
    assert set(paths) == {
        f"cam/2025-12-06/{name}",
        "cam/2025-12-06/cam_main_20251206T054200.000Z.ts",
    }
    whole = paths[f"cam/2025-12-06/{name}"]
    assert (
        whole.end - whole.start == ffprobe(day / name)["duration"]
        or abs((whole.end - whole.start) - 10) < 0.1
    )
    assert recover(root, index).__dict__ == {
        "finished": 0,
        "discarded": 0,
        "indexed": 0,
        "forgotten": 0,
        "clips_closed": 0,
    }  # a second pass finds nothing to do
