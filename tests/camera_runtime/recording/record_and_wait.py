"""A recording process for the kill -9 test: records a real clip (looped twice, continuous,
2 s segments, one clip left open), stops feeding in the middle of a segment with everything
queued written, says ``mid`` and waits to be killed."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.recorder import Recorder
from camera_runtime.recording.settings import RECORD_SCHEMA

from .helpers import EPOCH, packets_and_info


def main(clip: Path, folder: Path) -> None:
    packets, info = packets_and_info(clip)
    fanout = PacketFanout(MAIN)
    fanout.info = info
    index = RecordingIndex(folder / "recordings.db")
    settings = RECORD_SCHEMA({"enabled": True, "segment_length": 2})
    recorder = Recorder("cam", settings, fanout, index, folder / "rec")
    recorder.start()
    recorder.want(EPOCH + 1, math.inf, "manual")
    second = [
        dataclasses.replace(p, wall_time=p.wall_time + 10, discontinuity=i == 0)
        for i, p in enumerate(packets)
    ]
    looped = packets + second
    for packet in looped[: len(packets) + 35]:  # 1.4 s into the second loop's first segment
        fanout.publish(packet)
    assert recorder.drain()
    print("mid", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
