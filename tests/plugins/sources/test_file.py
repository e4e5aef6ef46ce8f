"""The file source on real clips: frames, planes, timing, looping, pacing, damaged files."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.exceptions import SourceEndedError, SourceUnavailableError
from camera_runtime.host import runtime_from_data
from camera_runtime_plugins.sources.file import FileSource

from .helpers import (
    FPS,
    HEIGHT,
    SECONDS,
    WIDTH,
    Clips,
    read_until_closed,
    read_until_end,
    wait_for,
    wait_until_blocked,
)

FRAMES = FPS * SECONDS


def make(path: Path | str, *, inline: bool = False, **options: object) -> FileSource:
    source = FileSource(FileSource.CONFIG_SCHEMA({"path": str(path), **options}))
    if inline:  # demultiplexed in the reading thread (a feed that does not decode)
        source.read_inline()
    return source


def stream_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("camera_runtime source")]


def test_schema() -> None:
    assert FileSource.CONFIG_SCHEMA({"path": "a.mp4"}) == {
        "path": "a.mp4",
        "loop": False,
        "realtime": True,  # a file used as a camera plays at its own pace
        "fast_decode": False,
    }
    with pytest.raises(vol.Invalid):
        FileSource.CONFIG_SCHEMA({})
    with pytest.raises(vol.Invalid):
        FileSource.CONFIG_SCHEMA({"path": "a.mp4", "speed": 2})


@pytest.mark.parametrize("inline", [False, True])
@pytest.mark.parametrize("container", ["ts", "mp4", "mp4_faststart"])
def test_every_frame_once_with_geometry_and_pts(clips: Clips, container: str, inline: bool) -> None:
    source = make(getattr(clips, container), inline=inline)
    info = source.open()
    assert (info.width, info.height, info.fps, info.codec) == (WIDTH, HEIGHT, FPS, "h264")
    frames = read_until_end(source)
    assert len(frames) == FRAMES
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    assert [f.pts for f in frames] == pytest.approx([i / FPS for i in range(FRAMES)])
    assert [i for i, f in enumerate(frames) if f.keyframe] == list(range(0, FRAMES, 25))
    demux_times = [f.demux_time for f in frames]
    assert demux_times == sorted(demux_times)
    with pytest.raises(SourceEndedError):  # the end is sticky
        source.read()
    source.close()


def test_fast_decode_skips_the_deblocking_filter_only(clips: Clips) -> None:
    """Same frames and times; pictures a little different (the filter is off), but close."""
    pictures = []
    for source in (make(clips.mp4), make(clips.mp4, fast_decode=True)):
        source.open()
        pictures.append(read_until_end(source))
        source.close()
    normal, fast = pictures
    assert [f.pts for f in fast] == [f.pts for f in normal]
    differences = []
    for a, b in zip(normal, fast, strict=True):
        error = np.mean((a.y.astype(np.float64) - b.y.astype(np.float64)) ** 2)
        differences.append(float("inf") if error == 0 else 10 * np.log10(255**2 / error))
    assert min(differences) > 30  # dB: the same picture to the eye
    assert any(d != float("inf") for d in differences)  # not bit-identical: the filter is off


def test_planes_are_zero_copy_views_that_honour_the_stride(clips: Clips) -> None:
    source = make(clips.ts)
    source.open()
    frame = source.read()
    picture = frame.source
    assert isinstance(picture, av.VideoFrame) and picture.format.name == "yuv420p"
    # The decoder pads lines: the view must skip the padding, not reinterpret it.
    assert picture.planes[0].line_size > WIDTH
    assert frame.y.strides == (picture.planes[0].line_size, 1)
    assert frame.y.shape == (HEIGHT, WIDTH) and frame.u.shape == (HEIGHT // 2, WIDTH // 2)
    assert np.shares_memory(frame.y, np.frombuffer(picture.planes[0], np.uint8))
    assert not frame.y.flags.writeable
    i420 = picture.to_ndarray()  # PyAV's own packed copy of the planes, as reference
    np.testing.assert_array_equal(frame.y, i420[:HEIGHT])
    np.testing.assert_array_equal(frame.i420(), i420)
    source.close()


def test_other_pixel_formats_are_converted_to_4_2_0(clips: Clips) -> None:
    source = make(clips.mjpeg)
    source.open()
    frames = read_until_end(source)
    assert len(frames) == FPS
    frame = frames[0]
    assert frame.source.format.name == "yuv420p"  # converted from yuvj422p
    assert frame.u.shape == (HEIGHT // 2, WIDTH // 2)
    assert 16 < float(frame.y.mean()) < 240  # a real picture, not an empty buffer


@pytest.mark.parametrize("inline", [False, True])
@pytest.mark.parametrize("container", ["ts", "mp4"])
def test_loop_keeps_pts_increasing(clips: Clips, container: str, inline: bool) -> None:
    source = make(getattr(clips, container), loop=True, inline=inline)
    source.open()
    frames = [source.read() for _ in range(FRAMES * 2 + 10)]
    steps = np.diff([f.pts for f in frames])
    assert steps.min() > 0
    assert steps == pytest.approx(1 / FPS)  # no jump or overlap at the loop points
    # The second pass shows the same pictures as the first.
    np.testing.assert_array_equal(frames[FRAMES + 3].y, frames[3].y)
    source.close()


@pytest.mark.parametrize("inline", [False, True])
def test_realtime_paces_by_timestamps(clips: Clips, inline: bool) -> None:
    source = make(clips.ts, realtime=True, inline=inline)
    source.open()
    started = time.monotonic()
    frames = [source.read() for _ in range(FPS + 1)]  # one second of video
    elapsed = time.monotonic() - started
    assert 0.85 < elapsed < 2.5
    assert frames[-1].pts == pytest.approx(1.0)
    source.close()


def test_missing_file(tmp_path: Path) -> None:
    source = make(tmp_path / "nothing.mp4")
    with pytest.raises(SourceUnavailableError, match=r"nothing\.mp4: no such file"):
        source.open()
    with pytest.raises(SourceUnavailableError):
        source.read()


def test_random_bytes_are_refused_with_path_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 200_000, np.uint8).tobytes())
    with pytest.raises(SourceUnavailableError, match=r"cannot open file .*noise\.mp4: \w+"):
        make(path).open()
    wait_for(lambda: not stream_threads(), 5, "the stream thread to exit")


def test_truncated_ts_decodes_what_it_can_then_ends(clips: Clips, tmp_path: Path) -> None:
    data = clips.ts.read_bytes()
    path = tmp_path / "half.ts"
    path.write_bytes(data[: len(data) // 2])
    source = make(path)
    source.open()
    frames = read_until_end(source)
    assert FRAMES * 0.2 < len(frames) < FRAMES * 0.8


def test_truncated_mp4_without_index_is_refused(clips: Clips, tmp_path: Path) -> None:
    data = clips.mp4.read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])  # the index (moov) was at the end
    with pytest.raises(SourceUnavailableError, match=r"half\.mp4"):
        make(path).open()


def test_truncated_faststart_mp4_decodes_what_it_can(clips: Clips, tmp_path: Path) -> None:
    data = clips.mp4_faststart.read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    source = make(path)
    source.open()
    frames = read_until_end(source)
    assert FRAMES * 0.2 < len(frames) < FRAMES


def test_corruption_mid_file_is_skipped(clips: Clips, tmp_path: Path) -> None:
    data = bytearray(clips.ts.read_bytes())
    middle = len(data) // 2
    noise = np.random.default_rng(2).integers(0, 256, 20_000, np.uint8).tobytes()
    data[middle : middle + 20_000] = noise
    path = tmp_path / "damaged.ts"
    path.write_bytes(bytes(data))
    source = make(path)
    source.open()
    frames = read_until_end(source)
    assert len(frames) > FRAMES * 0.6
    assert frames[-1].pts > SECONDS * 0.9  # it went on past the damage to the end


def test_inline_packets_come_unchanged_from_the_readers_own_thread(clips: Clips) -> None:
    source = make(clips.ts, loop=True, realtime=False, inline=True)
    source.open()
    # The thread that opened the file has handed it over and ended: no thread per stream.
    wait_for(lambda: not stream_threads(), 5, "the opening thread to hand over")
    with av.open(str(clips.ts)) as container:
        expected = [bytes(p) for p in container.demux(video=0) if p.size]
    packets = []  # two passes, without FFmpeg's empty flush packets at each end
    while len(packets) < 2 * len(expected):
        if (packet := source.read_packet()).data:
            packets.append(packet)
    assert [p.data for p in packets] == expected * 2
    # A new timeline at the start and after the loop's rewind, nowhere else.
    assert [i for i, p in enumerate(packets) if p.discontinuity] == [0, len(expected)]
    assert packets[len(expected)].keyframe
    assert stream_threads() == []
    source.close()
    with pytest.raises(SourceUnavailableError, match="not open"):
        source.read_packet()


def test_inline_close_interrupts_a_paced_read(clips: Clips) -> None:
    source = make(clips.ts, realtime=True, inline=True)
    source.open()
    source.read_packet()
    reader_source = source._open_stream()  # what the reader holds when ``close`` comes
    thread, errors = read_until_closed(reader_source.read_packet)
    wait_until_blocked(thread)  # in the pacing wait for the next packet's time
    closed_at = time.monotonic()
    source.close()
    thread.join(timeout=5)
    assert errors and "closed" in errors[0].message
    assert time.monotonic() - closed_at < 1.0


def test_close_reopen_and_thread_cleanup(clips: Clips) -> None:
    source = make(clips.ts, loop=True)
    source.open()
    source.read()
    source.read()
    source.close()
    source.close()  # twice is fine
    with pytest.raises(SourceUnavailableError, match="not open"):
        source.read()
    wait_for(lambda: not stream_threads(), 5, "the stream thread to exit")
    source.open()  # a closed source opens again, from the start
    assert source.read().pts == 0.0
    source.close()
    wait_for(lambda: not stream_threads(), 5, "the stream thread to exit")


def test_undecodable_packets_are_skipped(
    clips: Clips, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # H.264 conceals damage by itself; MJPEG's decoder refuses a damaged picture outright.
    data = bytearray(clips.mjpeg.read_bytes())
    rng = np.random.default_rng(3)
    for start in range(len(data) // 4, len(data) * 3 // 4, len(data) // 10):
        data[start : start + 3000] = rng.integers(0, 256, 3000, np.uint8).tobytes()
    path = tmp_path / "damaged.avi"
    path.write_bytes(bytes(data))
    source = make(path)
    source.open()
    with caplog.at_level("DEBUG", logger="camera_runtime_plugins.sources._av"):
        frames = read_until_end(source)
    assert "undecodable packet skipped" in caplog.text
    assert FPS // 3 < len(frames) < FPS
    pts = [f.pts for f in frames]
    gaps = [i for i, step in enumerate(np.diff(pts)) if step > 1.5 / FPS]
    assert gaps and gaps[0] < len(frames) - 2  # pictures were skipped, and more came after


async def test_a_file_as_a_camera_plays_at_its_pace_and_an_ended_channel_shows_no_fps(
    clips: Clips, tmp_path: Path
) -> None:
    """With the defaults, a 3 s clip lasts about 3 s, not the fraction of a second its decoding
    takes; once it ended, the channel says so and shows no frame rate (not its last one)."""
    data = {"channels": [{"id": "clip", "source": {"type": "file", "path": str(clips.ts)}}]}
    runtime = runtime_from_data(data, data_dir=tmp_path)
    started = time.monotonic()
    await runtime.start()
    try:
        channel = runtime.channels["clip"]
        ended = await asyncio.get_running_loop().run_in_executor(None, channel.join, 30)
        took = time.monotonic() - started
        assert ended and channel.state.value == "ended"
        assert took > 0.6 * SECONDS, f"{SECONDS} s of video played in {took:.2f} s"
        assert channel.frames == FPS * SECONDS
        status = runtime.channel_status("clip")
        assert (status["state"], status["fps"]) == ("ended", 0.0)
    finally:
        await runtime.stop()
