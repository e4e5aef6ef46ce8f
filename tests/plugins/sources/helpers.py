"""Helpers of the source tests: FFmpeg clip making, a served stream, bounded polling."""

from __future__ import annotations

import linecache
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from camera_runtime.exceptions import SourceEndedError, SourceUnavailableError
from camera_runtime.interfaces import Source
from camera_runtime.model import Frame

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"

#: The clips' geometry: 344 is not a multiple of the decoder's line alignment, so the planes
#: have a stride wider than the picture and the tests see whether views honour it.
WIDTH, HEIGHT, FPS, SECONDS, GOP = 344, 240, 25, 3, 25


def ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        timeout=60,
    )


def make_h264(path: Path, *extra: str, seconds: int = SECONDS) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}",
        "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-g", str(GOP),
        "-pix_fmt", "yuv420p", *extra, str(path),
    )  # fmt: skip
    return path


@dataclass(frozen=True)
class Clips:
    ts: Path  # MPEG-TS, H.264
    mp4: Path  # MP4 with the index (moov) at the end, as recorders write it
    mp4_faststart: Path  # MP4 with the index first
    mjpeg: Path  # MJPEG 4:2:2 in AVI: a pixel format that must be converted


def read_until_end(source: Source, limit: int = 10_000) -> list[Frame]:
    """Every frame up to ``SourceEndedError``; fails if the source never ends."""
    frames: list[Frame] = []
    with pytest.raises(SourceEndedError):
        for _ in range(limit):
            frames.append(source.read())
    return frames


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` (bounded) for state we cannot be notified of: processes, threads."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def wait_until_blocked(thread: threading.Thread, timeout: float = 5) -> None:
    """Wait until ``thread`` sits in a blocking wait (a condition, an event, or a lock's
    ``acquire``, as the mailbox waits), so that a test closing a source from another thread
    really interrupts a read rather than preceding it."""

    def blocked() -> bool:
        frame = sys._current_frames().get(thread.ident or -1)
        if frame is not None and ".acquire(" in linecache.getline(
            frame.f_code.co_filename, frame.f_lineno
        ):
            return True  # the innermost frame waits in a lock (C code: no frame of its own)
        while frame is not None:
            if (
                frame.f_code.co_name in ("wait", "wait_for")
                and "threading" in frame.f_code.co_filename
            ):
                return True
            frame = frame.f_back
        return False

    wait_for(blocked, timeout, f"{thread.name} to block")


def is_listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` listens on ``port``, without connecting: FFmpeg's HTTP server
    takes exactly one client, so a probing connection would use it up."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections)


@dataclass
class StreamServer:
    """``ffmpeg -re`` serving a clip as a live MPEG-TS stream over HTTP to one client."""

    clip: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.ts"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin",
                "-re", "-stream_loop", "-1", "-i", str(self.clip),
                "-c", "copy", "-f", "mpegts", "-listen", "1", self.url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        pid = self.process.pid
        wait_for(lambda: is_listening(pid, self.port), 10, "ffmpeg to listen")

    def freeze(self) -> None:
        """Stop sending without closing the connection, like a camera that hangs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def read_until_closed(
    read: Callable[[], object],
) -> tuple[threading.Thread, list[SourceUnavailableError]]:
    """A started thread calling ``read`` until the source says it is unavailable (closed),
    and where it puts what it said: a test then closes the source while the read blocks."""
    errors: list[SourceUnavailableError] = []

    def reader() -> None:
        try:
            while True:
                read()
        except SourceUnavailableError as err:
            errors.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    return thread, errors
