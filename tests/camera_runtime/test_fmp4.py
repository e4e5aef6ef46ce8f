"""Fragmented MP4 written by hand, read back by real FFmpeg tools: H.264 from an MP4 (length
prefixed, parameter sets in the extradata) and from MPEG-TS (start codes, parameter sets in
band), H.265 with B-frames; the codec string a browser asks about; what it refuses."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import av
import pytest

from camera_runtime import fmp4
from camera_runtime.fmp4 import Fmp4Error, Fragmenter, ParameterSetsChanged

from ..plugins.sources.helpers import ffmpeg

FFPROBE = shutil.which("ffprobe") or "ffprobe"
W, H = 320, 240


def make_clip(path: Path, codec: str, *extra: str) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=25", "-t", "2",
        "-c:v", codec, "-g", "10", "-pix_fmt", "yuv420p", *extra, str(path),
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fmp4")


def fragmented(clip: Path) -> tuple[bytes, Fragmenter, list[av.Packet]]:
    """The clip's packets as one fragmented MP4 (init segment, then a fragment per packet)."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        fragmenter = Fragmenter(ctx.name, ctx.width, ctx.height, ctx.extradata)
        out = bytearray()
        packets = [p for p in container.demux(stream) if p.size]
        for packet in packets:
            assert packet.dts is not None and packet.pts is not None
            dts = round(packet.dts * packet.time_base * fmp4.TIMESCALE)
            pts = round(packet.pts * packet.time_base * fmp4.TIMESCALE)
            chunk = fragmenter.fragment(bytes(packet), dts, 3600, pts - dts, packet.is_keyframe)
            if not out:
                out += fragmenter.init
            out += chunk
    return bytes(out), fragmenter, packets


def decoded(data: bytes) -> list[tuple[int, int, int | None]]:
    """(width, height, pts) of every frame PyAV decodes, in presentation order."""
    with av.open(io.BytesIO(data)) as container:
        return [(f.width, f.height, f.pts) for f in container.decode(video=0)]


def probe(path: Path) -> dict[str, object]:
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)["streams"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("suffix", [".mp4", ".ts"])
def test_h264_every_frame_plays_back_in_ffprobe_and_pyav(folder: Path, suffix: str) -> None:
    clip = make_clip(folder / f"h264{suffix}", "libx264", "-bf", "0")
    data, fragmenter, packets = fragmented(clip)
    out = folder / f"h264{suffix}.out.mp4"
    out.write_bytes(data)
    stream = probe(out)
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", W, H)
    assert int(str(stream["nb_read_frames"])) == len(packets) == 50
    frames = decoded(data)
    assert len(frames) == 50 and frames[0][:2] == (W, H)
    sps = fragmenter.sets.sps[0] if fragmenter.sets else b""
    assert fragmenter.codecs == f"avc1.{sps[1]:02X}{sps[2]:02X}{sps[3]:02X}"
    assert data[4:8] == b"ftyp" and b"avcC" in fragmenter.init


def test_annex_b_samples_are_length_prefixed_without_parameter_sets(folder: Path) -> None:
    clip = make_clip(folder / "annexb.ts", "libx264", "-bf", "0")
    data, _, packets = fragmented(clip)
    with av.open(io.BytesIO(data)) as container:
        samples = [bytes(p) for p in container.demux(video=0) if p.size]
    first = fmp4.split_annex_b(bytes(packets[0]))
    kept = [u for u in first if u[0] & 0x1F not in (7, 8, 9)]  # no SPS, PPS, delimiter
    assert samples[0] == b"".join(len(u).to_bytes(4, "big") + u for u in kept)
    assert len(samples) == len(packets)


def test_h265_with_b_frames_keeps_presentation_order(folder: Path) -> None:
    if "libx265" not in av.codecs_available:
        pytest.skip("this FFmpeg has no libx265")
    clip = make_clip(folder / "hevc.ts", "libx265", "-x265-params", "log-level=error:bframes=2")
    data, fragmenter, packets = fragmented(clip)
    frames = decoded(data)
    assert len(frames) == len(packets) == 50
    pts = [p for _, _, p in frames]
    assert pts == sorted(pts) and len(set(pts)) == 50  # composition offsets carried
    assert fragmenter.codecs.startswith("hvc1.1.6.L")  # Main profile
    assert b"hvcC" in fragmenter.init


def test_a_keyframe_with_other_parameter_sets_ends_the_stream(folder: Path) -> None:
    one = make_clip(folder / "one.ts", "libx264", "-bf", "0")
    other = make_clip(folder / "other.ts", "libx264", "-bf", "0", "-profile:v", "baseline")
    with av.open(str(one)) as a, av.open(str(other)) as b:
        first = next(p for p in a.demux(video=0) if p.size)
        second = next(p for p in b.demux(video=0) if p.size)
    fragmenter = Fragmenter("h264", W, H, None)
    fragmenter.fragment(bytes(first), 0, 3600, 0, True)
    with pytest.raises(ParameterSetsChanged):
        fragmenter.fragment(bytes(second), 3600, 3600, 0, True)


def test_what_fragmented_mp4_cannot_carry_is_refused() -> None:
    with pytest.raises(Fmp4Error, match=r"H\.264 and H\.265, not mjpeg"):
        Fragmenter("mjpeg", W, H, None)
    fragmenter = Fragmenter("h264", W, H, None)
    with pytest.raises(Fmp4Error, match="starts at a keyframe"):
        fragmenter.fragment(b"\x00\x00\x01\x41\x9a", 0, 3600, 0, False)
    with pytest.raises(Fmp4Error, match="no h264 parameter sets"):
        fragmenter.fragment(b"\x00\x00\x01\x65\x88", 0, 3600, 0, True)  # an IDR slice alone
    with pytest.raises(Fmp4Error, match="runs past its packet"):
        Fragmenter("h264", W, H, None).units(b"\x00\x00\x10\x00\x65")
