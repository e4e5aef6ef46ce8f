"""The rtsp and http sources against real servers on loopback: streams, drops, hangs, auth."""

from __future__ import annotations

import base64
import http.server
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime.exceptions import NetworkDisconnectedError, SourceUnavailableError
from camera_runtime_plugins.sources.network import (
    HttpSource,
    NetworkSource,
    RtspSource,
    redact_url,
    url_with_credentials,
)

from .helpers import (
    FPS,
    GOP,
    HEIGHT,
    WIDTH,
    Clips,
    StreamServer,
    free_port,
    read_until_closed,
    wait_for,
    wait_until_blocked,
)
from .rtsp_server import RtspServer

#: Small timeouts keep the failure tests quick; bounds allow 2 s of scheduling slack.
READ_TIMEOUT = 1.0
OPEN_TIMEOUT = 1.5
SLACK = 2.0


def http_source(url: str, **options: Any) -> HttpSource:
    defaults = {"open_timeout": OPEN_TIMEOUT, "read_timeout": READ_TIMEOUT}
    return HttpSource(HttpSource.CONFIG_SCHEMA({"url": url, **defaults, **options}))


def rtsp_source(url: str, **options: Any) -> RtspSource:
    defaults = {"open_timeout": OPEN_TIMEOUT, "read_timeout": READ_TIMEOUT}
    return RtspSource(RtspSource.CONFIG_SCHEMA({"url": url, **defaults, **options}))


def time_until_unavailable(source: NetworkSource, limit: int = 10_000) -> tuple[float, str]:
    """Seconds until ``read()`` raises ``SourceUnavailableError``, and its message."""
    started = time.monotonic()
    with pytest.raises(SourceUnavailableError) as caught:
        for _ in range(limit):
            source.read()
    return time.monotonic() - started, caught.value.message


# --- options ---------------------------------------------------------------------------------


def test_rtsp_schema_defaults() -> None:
    options = RtspSource.CONFIG_SCHEMA({"url": "rtsp://cam.local/stream1"})
    assert options == {
        "url": "rtsp://cam.local/stream1",
        "transport": "tcp",
        "open_timeout": 10.0,
        "read_timeout": 5.0,
        "fast_decode": False,
    }


@pytest.mark.parametrize(
    ("schema", "options"),
    [
        (RtspSource.CONFIG_SCHEMA, {"url": "http://cam.local/x"}),  # wrong scheme
        (RtspSource.CONFIG_SCHEMA, {"url": "rtsp:///x"}),  # no host
        (RtspSource.CONFIG_SCHEMA, {"url": "rtsp://cam/x", "transport": "sctp"}),
        (RtspSource.CONFIG_SCHEMA, {"url": "rtsp://cam/x", "password": "secret"}),
        (RtspSource.CONFIG_SCHEMA, {"url": "rtsp://cam/x", "read_timeout": 0}),
        (HttpSource.CONFIG_SCHEMA, {"url": "rtsp://cam.local/x"}),
        (HttpSource.CONFIG_SCHEMA, {"url": "http://cam/x", "transport": "udp"}),  # rtsp only
    ],
)
def test_schema_rejects(schema: vol.Schema, options: dict[str, Any]) -> None:
    with pytest.raises(vol.Invalid):
        schema(options)


def test_credentials_go_into_the_url_and_never_into_descriptions() -> None:
    url = url_with_credentials("rtsp://old:creds@cam:554/s?x=1", "ad min", "p@ss:w/rd")
    assert url == "rtsp://ad%20min:p%40ss%3Aw%2Frd@cam:554/s?x=1"
    assert redact_url(url) == "rtsp://***@cam:554/s?x=1"
    assert redact_url("http://cam/snap.cgi?user=admin&pwd=secret") == (
        "http://cam/snap.cgi?user=admin&pwd=***"
    )
    source = rtsp_source("rtsp://cam:554/s", username="admin", password="secret")
    assert source.describe() == "rtsp rtsp://cam:554/s"
    assert "secret" not in source.describe()


# --- unreachable and silent cameras ------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_closed_port_fails_fast(transport: str) -> None:
    source = rtsp_source(
        f"rtsp://127.0.0.1:{free_port()}/x",
        transport=transport,
        username="admin",
        password="secret",
    )
    started = time.monotonic()
    with pytest.raises(NetworkDisconnectedError) as caught:  # the manual's exception type
        source.open()
    assert time.monotonic() - started < 1.0
    assert "refused" in caught.value.message.lower()
    assert "secret" not in caught.value.message and "admin" not in caught.value.message


def test_http_closed_port_fails_fast() -> None:
    source = http_source(f"http://127.0.0.1:{free_port()}/stream.ts")
    started = time.monotonic()
    with pytest.raises(NetworkDisconnectedError, match="cannot open http"):
        source.open()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("kind", ["rtsp", "http"])
def test_silent_camera_fails_within_open_timeout(silent_server: int, kind: str) -> None:
    url = f"{kind}://127.0.0.1:{silent_server}/x"
    source = rtsp_source(url) if kind == "rtsp" else http_source(url)
    started = time.monotonic()
    with pytest.raises(NetworkDisconnectedError, match="no answer within"):
        source.open()
    assert OPEN_TIMEOUT * 0.9 < time.monotonic() - started < OPEN_TIMEOUT + SLACK


def test_close_interrupts_a_blocked_open(silent_server: int) -> None:
    source = http_source(f"http://127.0.0.1:{silent_server}/x", open_timeout=30)
    errors: list[SourceUnavailableError] = []

    def opener() -> None:
        try:
            source.open()
        except SourceUnavailableError as err:
            errors.append(err)

    thread = threading.Thread(target=opener)
    thread.start()
    wait_until_blocked(thread)
    closed_at = time.monotonic()
    source.close()
    thread.join(timeout=5)
    assert errors and time.monotonic() - closed_at < 1.0


# --- a live stream from FFmpeg's HTTP server ----------------------------------------------


def test_http_stream_frames(stream_server: StreamServer) -> None:
    source = http_source(stream_server.url)
    info = source.open()
    assert (info.width, info.height, info.fps, info.codec) == (WIDTH, HEIGHT, FPS, "h264")
    frames = [source.read() for _ in range(FPS)]
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    pts = [f.pts for f in frames]
    assert pts == sorted(pts) and pts[-1] - pts[0] == pytest.approx((FPS - 1) / FPS)
    assert all(f.demux_time <= time.monotonic() for f in frames)
    source.close()


@pytest.mark.parametrize("inline", [False, True])
def test_http_drop_and_recovery(stream_server: StreamServer, inline: bool) -> None:
    source = http_source(stream_server.url)
    if inline:  # demultiplexed in the reading thread (a feed that does not decode)
        source.read_inline()
    source.open()
    source.read()
    stream_server.kill()  # the camera goes away mid-stream
    elapsed, message = time_until_unavailable(source)
    assert elapsed < READ_TIMEOUT + SLACK
    assert "stream ended" in message or "no data" in message
    with pytest.raises(SourceUnavailableError):  # still down
        source.open()
    stream_server.start()  # back, on the same port
    info = source.open()
    assert info.width == WIDTH
    assert source.read().width == WIDTH
    source.close()


@pytest.mark.parametrize("inline", [False, True])
def test_http_hang_is_a_drop(stream_server: StreamServer, inline: bool) -> None:
    source = http_source(stream_server.url)
    if inline:
        source.read_inline()
    source.open()
    source.read()
    stream_server.freeze()  # connected, but nothing comes any more
    elapsed, message = time_until_unavailable(source)
    assert "no data for 1.0 s" in message
    assert elapsed < READ_TIMEOUT + SLACK


def test_close_interrupts_a_blocked_read(stream_server: StreamServer) -> None:
    source = http_source(stream_server.url, read_timeout=30)
    source.open()
    source.read()
    stream_server.freeze()
    thread, errors = read_until_closed(source.read)
    wait_until_blocked(thread)
    closed_at = time.monotonic()
    source.close()
    thread.join(timeout=5)
    assert errors and "closed" in errors[0].message
    assert time.monotonic() - closed_at < 1.0


def test_inline_close_ends_a_read_blocked_on_a_silent_camera_at_the_read_timeout(
    stream_server: StreamServer,
) -> None:
    source = http_source(stream_server.url)  # read_timeout 1 s
    source.read_inline()
    source.open()
    source.read_packet()
    stream_server.freeze()
    stream = source._open_stream()  # what the reader holds when ``close`` comes

    def in_ffmpeg() -> bool:  # the reader's innermost Python frame waits on the demuxer
        frame = sys._current_frames().get(thread.ident or -1)
        return frame is not None and frame.f_code.co_name == "_packets"

    thread, errors = read_until_closed(stream.read_packet)
    wait_for(in_ffmpeg, 5, "the reader to wait in FFmpeg")
    closed_at = time.monotonic()
    source.close()
    thread.join(timeout=READ_TIMEOUT + SLACK)
    # No thread of the source's own could be left blocked: the reader's read ends at the
    # read timeout (or at once when the last packets were still on their way), as closed.
    assert errors and "closed" in errors[0].message
    assert time.monotonic() - closed_at < READ_TIMEOUT + SLACK


# --- credentials against a server that checks them ----------------------------------------


@pytest.fixture
def auth_server(clips: Clips) -> Iterator[str]:
    """An HTTP camera that wants Basic auth (``ad min`` / ``p@ss:w/rd``) and sends a clip."""
    expected = "Basic " + base64.b64encode(b"ad min:p@ss:w/rd").decode()
    payload = Path(clips.ts).read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/video.ts"
    server.shutdown()
    server.server_close()


def test_http_credentials_are_sent(auth_server: str) -> None:
    source = http_source(auth_server, username="ad min", password="p@ss:w/rd")
    source.open()
    _, message = time_until_unavailable(source)  # the whole clip, then the end
    assert "stream ended" in message


def test_http_wrong_password_is_refused_without_leaking_it(auth_server: str) -> None:
    source = http_source(auth_server, username="ad min", password="wrong-secret")
    with pytest.raises(SourceUnavailableError, match="401") as caught:
        source.open()
    assert "wrong-secret" not in str(caught.value)
    # The camera answered: a refused login is not a network failure.
    assert not isinstance(caught.value, NetworkDisconnectedError)


# --- RTSP, through a minimal RTSP server relaying FFmpeg's RTP ----------------------------


@pytest.mark.parametrize("inline", [False, True])
@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_stream_frames(rtsp_server: RtspServer, transport: str, inline: bool) -> None:
    source = rtsp_source(rtsp_server.url, transport=transport, open_timeout=5)
    if inline:
        source.read_inline()
    info = source.open()
    assert (info.width, info.height, info.codec) == (WIDTH, HEIGHT, "h264")
    frames = [source.read() for _ in range(FPS // 2)]
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    assert np.diff([f.pts for f in frames]) == pytest.approx(1 / FPS)
    source.close()


@pytest.mark.parametrize("inline", [False, True])
def test_rtsp_drop_and_recovery(
    rtsp_server: RtspServer, clips: Clips, tmp_path: Path, inline: bool
) -> None:
    source = rtsp_source(rtsp_server.url, open_timeout=5)
    if inline:
        source.read_inline()
    source.open()
    source.read()
    rtsp_server.stop()
    elapsed, _ = time_until_unavailable(source)
    assert elapsed < READ_TIMEOUT + SLACK
    back = RtspServer(clips.ts, tmp_path, port=rtsp_server.port)
    back.start()
    try:
        assert source.open().width == WIDTH
        assert source.read().width == WIDTH
    finally:
        source.close()
        back.stop()


def test_a_reader_that_falls_behind_gets_the_newest_frames(stream_server: StreamServer) -> None:
    source = http_source(stream_server.url)
    source.open()
    first = source.read()
    # Stop reading: the stream thread waits a little, then drops its oldest frames.
    wait_for(lambda: source.dropped_frames >= 5, 10, "frames to be dropped")
    newest = source.read()
    assert newest.pts - first.pts > 5 / FPS
    assert time.monotonic() - newest.demux_time < 1.0  # not a backlog, a recent picture
    source.close()


def test_a_reader_that_demuxes_itself_and_falls_behind_sheds_to_a_recent_keyframe(
    stream_server: StreamServer, caplog: pytest.LogCaptureFixture
) -> None:
    """As a feed reads (``read_inline(decoded=True)``): no stream thread queues the packets, they
    wait in the socket; a reader 3 s behind sheds them up to a keyframe near the live edge."""
    source = http_source(stream_server.url)
    source.read_inline(decoded=True)
    source.open()
    first = source.read()
    started = time.monotonic()
    time.sleep(3.0)  # the reader busy elsewhere (not a wait for anything): 3 s of backlog
    newest = source.read()
    behind = (time.monotonic() - started) - (newest.pts - first.pts)
    assert source.dropped_frames >= 2 * FPS  # most of the 3 s, undecoded
    assert newest.keyframe
    assert behind < 0.5 + GOP / FPS  # at most the patience and a GOP, not 3 s
    assert "fell behind the live stream" in caplog.text  # not lost silently
    later = [source.read() for _ in range(FPS)]  # then the stream goes on from there
    assert [f.pts for f in later] == sorted(f.pts for f in later)
    source.close()
