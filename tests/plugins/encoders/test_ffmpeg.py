"""The ``ffmpeg`` encoder with real FFmpeg: streams muxed with PyAV, read back by ffprobe and decoded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.interfaces import EncoderContext
from camera_runtime.model import Packet
from camera_runtime.registry import build_plugins
from camera_runtime_plugins.encoders.ffmpeg import FFmpegEncoder
from camera_runtime_plugins.encoders.options import available_encodings

from .helpers import decode, ffprobe, frames, psnr, write

W, H = 320, 240


def encoder(
    options: dict[str, Any], width: int = W, height: int = H, fps: float = 25.0
) -> FFmpegEncoder:
    return FFmpegEncoder(
        FFmpegEncoder.CONFIG_SCHEMA(options), EncoderContext("cam", "main", width, height, fps)
    )


def encode_all(enc: FFmpegEncoder, count: int, **kw: Any) -> list[Packet]:
    packets: list[Packet] = []
    fps = enc.context.fps or 25.0  # an input of unknown rate: frames at 25 fps all the same
    for frame in frames(count, enc.context.width, enc.context.height, fps, **kw):
        packets += enc.encode(frame)
    packets += enc.flush()
    enc.close()
    return packets


def keyframe_indexes(probe: dict[str, Any]) -> list[int]:
    return [i for i, f in enumerate(probe["frames"]) if f["key_frame"] == 1]


def test_the_encoder_is_a_registered_plugin() -> None:
    registry = build_plugins()[1]
    assert registry.encoder("ffmpeg") is FFmpegEncoder
    assert registry.kinds("encoder") == ["ffmpeg"]


@pytest.mark.parametrize("suffix", [".mp4", ".ts"])
@pytest.mark.parametrize(
    ("profile", "shown"), [("baseline", "Constrained Baseline"), ("main", "Main"), ("high", "High")]
)
def test_h264_stream_as_ffprobe_reads_it(
    tmp_path: Path, suffix: str, profile: str, shown: str
) -> None:
    enc = encoder({"video_encoding": "H.264", "i_frame_interval": 10, "profile": profile})
    info = enc.stream_info()
    assert (info.codec, info.width, info.height, info.fps) == ("h264", W, H, 25.0)
    assert info.extradata  # global headers: what MP4's avcC is made of
    packets = []
    for frame in frames(35, W, H):
        out = enc.encode(frame)
        assert len(out) == 1  # zero latency: each picture's packet leaves with it
        packets += out
    assert enc.flush() == []
    enc.close()
    assert all(p.codec == "h264" and p.dts == p.pts for p in packets)  # no B-frames
    path = tmp_path / f"out{suffix}"
    write(path, info, packets)
    probe = ffprobe(path)
    (stream,) = probe["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", W, H)
    assert stream["profile"] == shown
    assert stream["avg_frame_rate"] == "25/1"
    assert len(probe["frames"]) == 35
    assert keyframe_indexes(probe) == [0, 10, 20, 30]
    assert [i for i, p in enumerate(packets) if p.keyframe] == [0, 10, 20, 30]


def test_h265_stream(tmp_path: Path) -> None:
    if "h265" not in available_encodings():
        pytest.skip("this FFmpeg has no libx265")
    enc = encoder({"video_encoding": "h265", "i_frame_interval": 8})
    info = enc.stream_info()
    packets = []
    for frame in frames(20, W, H):
        out = enc.encode(frame)
        assert len(out) == 1  # zero latency
        packets += out
    enc.close()
    path = tmp_path / "out.mp4"
    write(path, info, packets)
    probe = ffprobe(path)
    (stream,) = probe["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("hevc", W, H)
    assert stream["profile"] == "Main"
    assert keyframe_indexes(probe) == [0, 8, 16]


def test_high_quality_decodes_back_to_the_same_picture(tmp_path: Path) -> None:
    enc = encoder({"video_quality": "highest", "preset": "veryfast", "i_frame_interval": 25})
    packets = encode_all(enc, 30)
    path = tmp_path / "out.mp4"
    write(path, enc.stream_info(), packets)
    decoded = decode(path)
    originals = [f.y for f in frames(30, W, H)]
    assert len(decoded) == 30
    scores = [psnr(a, b) for a, b in zip(decoded, originals, strict=True)]
    assert min(scores) > 35, scores


def test_lower_quality_costs_fewer_bits() -> None:
    sizes = {}
    for quality in ("lowest", "medium", "highest"):
        packets = encode_all(encoder({"video_quality": quality, "max_bitrate": 16384}), 20)
        sizes[quality] = sum(len(p.data) for p in packets)
    assert sizes["lowest"] < sizes["medium"] < sizes["highest"]


def _noise(count: int, width: int, height: int) -> list[Any]:
    rng = np.random.default_rng(7)
    out = []
    for frame in frames(count, width, height):
        noisy = np.clip(frame.y + rng.integers(-40, 40, frame.y.shape), 0, 255).astype(np.uint8)
        out.append(
            type(frame)(noisy, frame.u, frame.v, frame.pts, frame.wall_time, frame.demux_time)
        )
    return out


@pytest.mark.parametrize(
    ("encoding", "bitrate_type", "kbps", "smoothing"),
    [
        ("h264", "cbr", 600, 1),
        ("h264", "cbr", 600, 100),
        ("h264", "vbr", 300, 1),
        ("h264", "vbr", 300, 100),
        ("h265", "cbr", 600, 100),
    ],
)
def test_bitrate_stays_at_the_max_bitrate(
    encoding: str, bitrate_type: str, kbps: int, smoothing: int
) -> None:
    """Constant bitrate holds the max. bitrate; variable bitrate at the highest quality on a
    picture too busy for it is capped there. The rate control's buffer (set by smoothing:
    2 s at 1, 0.5 s at 100) is what it may run over by: 4 s of stream carry at most
    ``max_bitrate x (4 s + buffer)``."""
    if encoding not in available_encodings():
        pytest.skip(f"this FFmpeg cannot encode {encoding}")
    options = {
        "video_encoding": encoding,
        "bitrate_type": bitrate_type,
        "max_bitrate": kbps,
        "video_quality": "highest",
        "smoothing": smoothing,
    }
    enc = encoder(options)
    packets: list[Packet] = []
    for frame in _noise(100, W, H):  # 4 s
        packets += enc.encode(frame)
    packets += enc.flush()
    kbits = sum(len(p.data) for p in packets) * 8 / 1000
    buffer = 2.0 if smoothing == 1 else 0.5
    assert kbits <= kbps * (4.0 + buffer) * 1.05, kbits / 4
    if bitrate_type == "cbr":
        assert kbits >= kbps * 4.0 * 0.8, kbits / 4
    else:  # too busy for the quality: the cap is what limits it
        assert kbits >= kbps * 4.0 * 0.7, kbits / 4


def test_resolution_is_scaled_down_from_the_planes(tmp_path: Path) -> None:
    enc = encoder({"width": 160, "height": 120, "video_quality": "highest"}, 320, 240)
    info = enc.stream_info()
    assert (info.width, info.height) == (160, 120)
    packets = encode_all(enc, 10)
    path = tmp_path / "small.mp4"
    write(path, info, packets)
    (stream,) = ffprobe(path)["streams"]
    assert (stream["width"], stream["height"]) == (160, 120)
    decoded = decode(path)
    expected = [cv2.resize(f.y, (160, 120), interpolation=cv2.INTER_AREA) for f in frames(10, W, H)]
    assert min(psnr(a, b) for a, b in zip(decoded, expected, strict=True)) > 30


def test_frame_rate_is_decimated_from_the_input(tmp_path: Path) -> None:
    enc = encoder({"frame_rate": 10, "i_frame_interval": 10})
    info = enc.stream_info()
    assert info.fps == 10.0
    packets = encode_all(enc, 50)  # 2 s at 25 fps
    assert len(packets) == 20
    assert enc.frames_decimated == 30
    assert [p.pts for p in packets] == [i * 9000 for i in range(20)]  # 1/90000 s
    path = tmp_path / "ten.mp4"
    write(path, info, packets)
    (stream,) = ffprobe(path)["streams"]
    assert stream["avg_frame_rate"] == "10/1"


def test_packets_carry_the_frames_times_and_a_forced_keyframe() -> None:
    enc = encoder({"i_frame_interval": 50})
    sent = list(frames(12, W, H))
    packets = []
    for index, frame in enumerate(sent):
        packets += enc.encode(frame, force_keyframe=index == 7)
    enc.close()
    assert [p.demux_time for p in packets] == [f.demux_time for f in sent]
    assert [p.wall_time for p in packets] == [f.wall_time for f in sent]
    assert [i for i, p in enumerate(packets) if p.keyframe] == [0, 7]


def test_a_source_restart_continues_the_timeline() -> None:
    """Frame times restart after a reconnect; the stream's must not go back."""
    enc = encoder({})
    first = [p for f in frames(5, W, H) for p in enc.encode(f)]
    again = [p for f in frames(3, W, H) for p in enc.encode(f)]
    enc.close()
    pts = [p.pts for p in first + again]
    assert pts == [i * 3600 for i in range(8)]


def test_mjpeg(tmp_path: Path) -> None:
    sizes = {}
    for quality in ("lowest", "highest"):
        enc = encoder({"video_encoding": "MJPEG", "video_quality": quality})
        info = enc.stream_info()
        assert (info.codec, info.extradata) == ("mjpeg", b"")
        packets = encode_all(enc, 10)
        assert all(p.keyframe for p in packets)
        assert packets[0].data[:2] == b"\xff\xd8"  # a JPEG
        sizes[quality] = sum(len(p.data) for p in packets)
        path = tmp_path / f"{quality}.avi"
        write(path, info, packets)
        probe = ffprobe(path)
        assert probe["streams"][0]["codec_name"] == "mjpeg"
        assert len(probe["frames"]) == 10
        if quality == "highest":
            decoded = decode(path)
            originals = [f.y for f in frames(10, W, H)]
            assert min(psnr(a, b) for a, b in zip(decoded, originals, strict=True)) > 35
    assert sizes["lowest"] < sizes["highest"] / 2


def _error(
    options: dict[str, Any], width: int = W, height: int = H, fps: float = 25.0
) -> vol.Invalid:
    with pytest.raises(vol.Invalid) as info:
        encoder(options, width, height, fps)
    return info.value


def test_an_unknown_codec_lists_the_available_ones() -> None:
    err = _error({"video_encoding": "vp9"})
    assert err.path == ["video_encoding"]
    assert "unknown video encoding 'vp9'" in str(err)
    assert "available: h264" in str(err) and "mjpeg" in str(err)


def test_an_encoder_this_ffmpeg_lacks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a PyAV build without libx265: the error says what is missing and what is there."""
    monkeypatch.setattr(av, "codecs_available", av.codecs_available - {"libx265"})
    err = _error({"video_encoding": "H.265"})
    assert err.path == ["video_encoding"]
    assert "needs FFmpeg's libx265 encoder" in str(err)
    assert "available: h264, mjpeg" in str(err)


@pytest.mark.parametrize(
    ("options", "key", "words"),
    [
        ({"width": 321, "height": 240}, "width", "even"),
        ({"width": 160}, "height", "both width and height"),
        ({"max_bitrate": 31}, "max_bitrate", "at least 32"),
        ({"max_bitrate": 16385}, "max_bitrate", "at most 16384"),
        ({"i_frame_interval": 401}, "i_frame_interval", "at most 400"),
        ({"i_frame_interval": 0}, "i_frame_interval", "at least 1"),
        ({"video_quality": "best"}, "video_quality", "value must be one of"),
        ({"bitrate_type": "abr"}, "bitrate_type", "value must be one of"),
        ({"video_encoding": "h265", "profile": "high"}, "profile", "allowed: main"),
        ({"smoothing": 0}, "smoothing", "at least 1"),
        ({"preset": "placebo"}, "preset", "value must be one of"),
        ({"colour": "red"}, "colour", "extra keys not allowed"),
    ],
)
def test_bad_options_name_their_key(options: dict[str, Any], key: str, words: str) -> None:
    err = _error(options)
    assert err.path == [key], err
    assert words in str(err)


@pytest.mark.parametrize(
    ("options", "key", "words"),
    [
        ({"width": 640, "height": 480}, "width", "above the input's 320x240"),
        ({"frame_rate": 30}, "frame_rate", "above the input's 25"),
        ({}, "width", "the input's 321x240 is odd"),
    ],
)
def test_options_that_exceed_the_input_are_refused(
    options: dict[str, Any], key: str, words: str
) -> None:
    err = _error(options, 321 if "odd" in words else W)
    assert err.path == [key]
    assert words in str(err)


def test_the_video_frame_copy_honours_strides() -> None:
    """Planes that are views into wider buffers (a decoder's padded lines) are copied right."""
    from camera_runtime_plugins.encoders.ffmpeg import video_frame

    (frame,) = frames(1, W, H)
    wide = np.zeros((H, W + 64), dtype=np.uint8)
    wide[:, :W] = frame.y
    strided = type(frame)(wide[:, :W], frame.u, frame.v, 0.0, 0.0, 0.0)
    picture = video_frame(strided)
    assert isinstance(picture, av.VideoFrame)
    planes = picture.to_ndarray()
    np.testing.assert_array_equal(planes[:H], frame.y)
    np.testing.assert_array_equal(
        planes[H:].reshape(-1)[: (H // 2) * (W // 2)], frame.u.reshape(-1)
    )


def test_a_frame_of_another_size_is_refused() -> None:
    from camera_runtime.exceptions import CameraRuntimeError

    enc = encoder({})
    (frame,) = frames(1, W * 2, H)
    with pytest.raises(CameraRuntimeError, match="the input changed size"):
        enc.encode(frame)
    enc.close()


def test_an_input_of_unknown_rate() -> None:
    """A source that does not know its rate (fps 0): the true timestamps are kept, and a
    ``frame_rate`` decimates by time."""
    plain = encoder({}, fps=0.0)
    assert plain.stream_info().fps == 25.0
    assert len(encode_all(plain, 10)) == 10
    ten = encoder({"frame_rate": 10}, fps=0.0)
    packets = encode_all(ten, 50)
    assert [p.pts for p in packets] == [i * 9000 for i in range(20)]


def test_mjpeg_constant_bitrate_is_coarse_but_near() -> None:
    """MJPEG's rate control only picks a quantiser per picture: near the max. bitrate, not
    on it (measured within 35 % on noise)."""
    enc = encoder({"video_encoding": "mjpeg", "bitrate_type": "cbr", "max_bitrate": 3000})
    kbits = sum(len(p.data) for f in _noise(100, W, H) for p in enc.encode(f)) * 8 / 1000
    enc.close()
    assert 0.65 * 3000 < kbits / 4 < 1.35 * 3000, kbits / 4
