"""kill -9 of a whole runtime while it records (``camera-runtime run`` in a subprocess, a
looped file source, 1 s segments): the next start finds the segment that was open, recovers
or discards it, and afterwards every file plays from a keyframe and the index matches the
files exactly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from camera_runtime.host import runtime_from_data

from ..api.test_streams import make_ts
from .helpers import decoded_frames, ffprobe, file_packets


def _config(clip: Path) -> dict[str, Any]:
    return {
        "api": {"enabled": False},
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "yard",
                "source": {"type": "file", "path": str(clip), "loop": True},
                "record": {"enabled": True, "segment_length": 1},
            }
        ],
    }


def _wait_for(predicate: Any, process: subprocess.Popen[bytes], within: float = 60.0) -> None:
    """Files another process writes offer nothing to wait on: polled, bounded."""
    deadline = time.monotonic() + within
    while not predicate():
        assert process.poll() is None, "the runtime exited"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _record_and_kill(config: Path, data: Path) -> set[str]:
    """Run ``camera-runtime run`` until two segments are closed and a third is open, then
    SIGKILL it; the names of the ``.part`` files it left."""
    root = data / "recordings"
    command = [sys.executable, "-m", "camera_runtime", "run", "-c", str(config)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: len(list(root.rglob("*.ts"))) >= 2 and any(root.rglob("*.part")), process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    return {p.name for p in root.rglob("*.part")}


async def test_a_runtime_killed_while_recording_recovers_at_the_next_start(
    tmp_path: Path,
) -> None:
    clip = make_ts(tmp_path / "main.ts", (320, 240))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(_config(clip)))
    data = tmp_path / "data"
    root = data / "recordings"
    left = _record_and_kill(config, data)
    # One segment open at the kill; none only if the kill fell between a segment's rename
    # and the next one's creation (microseconds).
    assert len(left) <= 1

    runtime = runtime_from_data(_config(clip), data_dir=data)
    await runtime.start()
    report = runtime.recordings.recovery
    assert report.finished + report.discarded == len(left)
    assert report.forgotten == 0
    await runtime.stop()

    runtime.recordings.open()  # read the index as the next start would
    try:
        segments = runtime.recordings.index.segments()
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.ts"))
        assert sorted(s.path for s in segments) == files
        assert not list(root.rglob("*.part"))
        for segment in segments:
            path = root / segment.path
            assert ffprobe(path)["first_key"]
            assert decoded_frames(path) == len(file_packets(path)) > 0
            assert segment.size == path.stat().st_size
        if report.finished:
            recovered = next(s for s in segments if s.path.endswith(next(iter(left))[:-5]))
            assert recovered.keyframes >= 1
    finally:
        runtime.recordings.close()
