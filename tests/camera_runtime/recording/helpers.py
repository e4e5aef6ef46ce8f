"""Real H.264 packets for the recording tests: an FFmpeg clip demuxed, each packet given a wall
time (a fixed epoch plus its decode time: packets arrive in decode order, as from a camera),
and readers of what was written."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av

from camera_runtime.model import Packet, StreamInfo

from ...plugins.sources.helpers import FFMPEG, make_h264

#: Wall time of the clip's first frame.
EPOCH = 1_765_000_000.0
FFPROBE = FFMPEG.replace("ffmpeg", "ffprobe")


def clip(path: Path, seconds: int = 10) -> Path:
    """A 25 fps H.264 clip with a keyframe every second."""
    return make_h264(path, seconds=seconds)


def packets_and_info(path: Path, epoch: float = EPOCH) -> tuple[list[Packet], StreamInfo]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        tb = stream.time_base or Fraction(1, 90_000)
        info = StreamInfo(ctx.width, ctx.height, 25.0, "h264", tb, b"")
        first: int | None = None
        packets: list[Packet] = []
        for p in container.demux(stream):
            if not p.size or p.dts is None:
                continue
            first = p.dts if first is None else first
            wall = epoch + float((p.dts - first) * tb)
            packets.append(
                Packet(bytes(p), p.pts, p.dts, tb, bool(p.is_keyframe), "h264", 0.0, wall)
            )
    return packets, info


def file_packets(path: Path) -> list[tuple[int, bool, bytes]]:
    """``(pts in 90 kHz, keyframe, data)`` of every video packet of a file, in file order."""
    with av.open(str(path)) as container:
        return [
            (int(p.pts or 0), bool(p.is_keyframe), bytes(p))
            for p in container.demux(video=0)
            if p.size
        ]


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def ffprobe(path: Path) -> dict[str, object]:
    """ffprobe's view: the format's duration and the first video frame's key flag."""
    out = subprocess.run(
        [
            FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries",
            "format=duration:frame=key_frame,pts_time", "-read_intervals", "%+#1",
            "-of", "json", str(path),
        ],
        check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    data = json.loads(out.stdout)
    return {
        "duration": float(data["format"]["duration"]),
        "first_key": data["frames"][0]["key_frame"] == 1,
        "first_pts": float(data["frames"][0]["pts_time"]),
    }
