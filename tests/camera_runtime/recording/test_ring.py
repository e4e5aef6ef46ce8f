"""The pre-record ring on real packets: it starts at a keyframe, covers its seconds plus at most
one GOP, and stays within its byte bound, counting what that cost."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from camera_runtime.recording.ring import PreRecordRing

from .helpers import EPOCH, packets_and_info


def test_the_ring_holds_seconds_from_a_keyframe(h264_clip: Path) -> None:
    packets, _ = packets_and_info(h264_clip)
    ring = PreRecordRing(2.0)
    for packet in packets:
        ring.add(packet)
    held = ring.since(0)
    assert held[0].keyframe
    newest = packets[-1].wall_time
    assert newest - 3 < held[0].wall_time <= newest - 2  # 2 s, plus less than one GOP (1 s)
    assert held == packets[len(packets) - len(held) :]
    assert ring.bytes == sum(len(p.data) for p in held)
    from_8 = ring.since(EPOCH + 8.5)
    assert from_8[0].keyframe and from_8[0].wall_time == EPOCH + 8


def test_the_byte_bound_drops_whole_gops_and_counts_them(h264_clip: Path) -> None:
    packets, _ = packets_and_info(h264_clip)
    gop = sum(len(p.data) for p in packets[:25])
    ring = PreRecordRing(30.0, max_bytes=2 * gop)
    for packet in packets:
        ring.add(packet)
    assert ring.bytes <= 2 * gop + max(len(p.data) for p in packets)
    assert ring.trimmed_for_memory > 0
    assert ring.since(0)[0].keyframe


def test_a_gap_before_a_keyframe_empties_the_ring(h264_clip: Path) -> None:
    packets, _ = packets_and_info(h264_clip)
    ring = PreRecordRing(5.0)
    for packet in packets[:30]:
        ring.add(packet)
    ring.add(replace(packets[31], discontinuity=True))
    assert ring.packets == 0 and ring.since(0) == []
