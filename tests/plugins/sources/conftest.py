"""Fixtures of the source tests: clips made at test time, and real FFmpeg servers on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import FPS, HEIGHT, WIDTH, Clips, StreamServer, ffmpeg, make_h264
from .rtsp_server import RtspServer


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    folder = tmp_path_factory.mktemp("clips")
    mjpeg = folder / "clip_mjpeg.avi"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", "-t", "1",
        "-c:v", "mjpeg", "-pix_fmt", "yuvj422p", str(mjpeg),
    )  # fmt: skip
    return Clips(
        ts=make_h264(folder / "clip.ts"),
        mp4=make_h264(folder / "clip.mp4"),
        mp4_faststart=make_h264(folder / "clip_faststart.mp4", "-movflags", "+faststart"),
        mjpeg=mjpeg,
    )


@pytest.fixture
def stream_server(clips: Clips) -> Iterator[StreamServer]:
    server = StreamServer(clips.ts)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a camera that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # connections complete in the kernel's backlog; nobody reads them
        yield int(sock.getsockname()[1])


@pytest.fixture
def rtsp_server(clips: Clips, tmp_path: Path) -> Iterator[RtspServer]:
    server = RtspServer(clips.ts, tmp_path)
    server.start()
    yield server
    server.stop()
