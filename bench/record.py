"""Benchmark: CPU of recording one 1080p25 stream by remux, and the pre-record ring's memory.

The 30 s 1080p25 clip (``busy1080``, 4 Mb/s, GOP 50) is demuxed into memory first (a camera's
demuxing is the feed's, not the recorder's), given wall times 40 ms apart, and published on a
``PacketFanout`` to a continuous ``Recorder`` (60 s segments, a queue large enough to drop
nothing) in a temporary folder; the CPU measured is ``time.process_time()`` (every thread) from
the first publish to the recorder stopped with its file synced. CPU per second of video is that
over 30 s: the share of a core one recorded 1080p25 stream takes. Three runs, median.

The ring's memory: its bytes after the whole clip with ``pre_record: 5`` (5 s plus at most one
GOP of packets), against the same 5 s of decoded 1080p pictures (YUV 4:2:0: 3.1 MB each).
Target (issue 14): under 2 % of a core.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import av
from _common import clip, environment, finish, markdown_table, median, print_header, verdict

from camera_runtime.feed import MAIN, PacketFanout
from camera_runtime.model import Packet, StreamInfo
from camera_runtime.recording.index import RecordingIndex
from camera_runtime.recording.recorder import Recorder
from camera_runtime.recording.settings import RECORD_SCHEMA

NAME = "record"
TARGET = 0.02  # of a core


def demux(path: Path) -> tuple[list[Packet], StreamInfo]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        assert stream.time_base is not None
        info = StreamInfo(
            ctx.width, ctx.height, 25.0, "h264", stream.time_base, bytes(ctx.extradata or b"")
        )
        packets = [
            Packet(bytes(p), p.pts, p.dts, p.time_base, bool(p.is_keyframe), "h264", 0.0, 0.0)
            for p in container.demux(stream)
            if p.size
        ]
    start = time.time()
    return [dataclasses.replace(p, wall_time=start + i / 25) for i, p in enumerate(packets)], info


def run_once(packets: list[Packet], info: StreamInfo, folder: Path) -> tuple[float, int, int]:
    """(CPU s, bytes written, ring bytes)."""
    fanout = PacketFanout(MAIN)
    fanout.info = info
    index = RecordingIndex(folder / "index.db")
    settings = RECORD_SCHEMA({"enabled": True, "pre_record": 5})
    recorder = Recorder(
        "bench", settings, fanout, index, folder / "rec", queue_packets=len(packets) + 10
    )
    recorder.start()
    before = time.process_time()
    for packet in packets:
        fanout.publish(packet)
    recorder.stop(timeout=120)
    cpu = time.process_time() - before
    assert recorder.dropped == 0
    written = sum(s.size for s in index.segments())
    ring = recorder.ring.bytes
    index.close()
    return cpu, written, ring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one run instead of three")
    args = parser.parse_args()
    env = environment()
    print_header("Recording one 1080p25 stream by remux", env, args.quick)
    packets, info = demux(clip("busy1080"))
    seconds = len(packets) / 25
    runs = []
    for _ in range(1 if args.quick else 3):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(run_once(packets, info, Path(folder)))
    cpu = median([r[0] for r in runs])
    share = cpu / seconds
    ring = runs[0][2]
    decoded = int(5 * 25 * info.width * info.height * 1.5)
    rows = [
        ("CPU per second of video (share of a core)", f"{share:.4f}", f"< {TARGET}"),
        ("written MB (30 s)", f"{runs[0][1] / 1e6:.1f}", ""),
        ("pre-record ring, 5 s (MB)", f"{ring / 1e6:.2f}", ""),
        ("same 5 s decoded (MB)", f"{decoded / 1e6:.0f}", ""),
    ]
    print(markdown_table(("measure", "value", "target"), rows))
    print(f"\nverdict: {verdict(share < TARGET)}")
    finish(
        NAME,
        args.quick,
        env,
        {
            "cpu_share": share,
            "cpu_runs": [r[0] for r in runs],
            "video_seconds": seconds,
            "ring_bytes": ring,
            "decoded_bytes": decoded,
        },
    )


if __name__ == "__main__":
    main()
