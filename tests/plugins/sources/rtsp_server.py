"""A minimal RTSP server for the tests: FFmpeg's RTP packets relayed to RTSP clients.

FFmpeg cannot serve RTSP by itself and no RTSP server is installed, so this one speaks just
enough of RFC 2326 for FFmpeg's client: OPTIONS, DESCRIBE (FFmpeg's own SDP), SETUP over TCP
(interleaved) or UDP, PLAY, GET_PARAMETER and TEARDOWN. ``ffmpeg -re`` streams a clip as RTP
to a loopback UDP port; a relay thread forwards each packet to the playing clients.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from .helpers import wait_for

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


def udp_pair() -> tuple[socket.socket, socket.socket]:
    """Two UDP sockets on consecutive loopback ports (RTP on the even one, RTCP next)."""
    for _ in range(100):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        if port % 2:
            rtp.close()
            continue
        rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            rtcp.bind(("127.0.0.1", port + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            continue
        return rtp, rtcp
    raise RuntimeError("no consecutive pair of UDP ports")


@dataclass
class _Client:
    sock: socket.socket
    udp_target: tuple[str, int] | None = None  # None: interleaved in the TCP connection
    playing: bool = False


class RtspServer:
    """Serves one clip at ``rtsp://127.0.0.1:<port>/stream``; ``stop()`` drops every client."""

    def __init__(self, clip: Path, workdir: Path, port: int = 0) -> None:
        self.clip = clip
        self.sdp_path = workdir / "stream.sdp"
        self.sdp_path.unlink(missing_ok=True)
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._ingest, self._ingest_rtcp = udp_pair()  # where FFmpeg sends RTP
        self._egress, self._egress_rtcp = udp_pair()  # where UDP clients get it from
        self._clients: list[_Client] = []
        self._lock = threading.Lock()
        self._sessions = itertools.count(12345678)
        self._process: subprocess.Popen[bytes] | None = None
        self._running = False

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def start(self) -> None:
        rtp_port = self._ingest.getsockname()[1]
        self._process = subprocess.Popen(
            [
                FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin",
                "-re", "-stream_loop", "-1", "-i", str(self.clip), "-c", "copy", "-an",
                "-f", "rtp", "-sdp_file", str(self.sdp_path),
                f"rtp://127.0.0.1:{rtp_port}?pkt_size=1200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: self.sdp_path.exists() and b"m=video" in self.sdp_path.read_bytes(),
                 10, "ffmpeg's SDP")  # fmt: skip
        self._running = True
        for target in (self._accept_loop, self._relay_loop, self._drain_rtcp):
            threading.Thread(target=target, daemon=True).start()

    def stop(self) -> None:
        self._running = False
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)
            client.sock.close()
        # shutdown() wakes the threads blocked in accept()/recv(): close() alone would not, and
        # the port would stay bound until they returned.
        for sock in (self._listener, self._ingest, self._ingest_rtcp):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._egress.close()
        self._egress_rtcp.close()

    # --- threads -------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while self._running:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            client = _Client(sock)
            with self._lock:
                self._clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _relay_loop(self) -> None:
        while self._running:
            try:
                packet = self._ingest.recv(65536)
            except OSError:
                return
            with self._lock:
                clients = [c for c in self._clients if c.playing]
            for client in clients:
                try:
                    if client.udp_target is None:
                        client.sock.sendall(b"$\x00" + len(packet).to_bytes(2, "big") + packet)
                    else:
                        self._egress.sendto(packet, client.udp_target)
                except OSError:
                    client.playing = False

    def _drain_rtcp(self) -> None:
        """Read and ignore RTCP (FFmpeg's sender reports and the client's receiver reports)."""
        while self._running:
            try:
                self._ingest_rtcp.recv(65536)
            except OSError:
                return

    def _serve(self, client: _Client) -> None:
        reader = client.sock.makefile("rb")
        try:
            while self._running:
                request = self._read_request(reader)
                if request is None:
                    return
                client.sock.sendall(self._answer(client, *request))
        except OSError:
            return
        finally:
            client.playing = False

    @staticmethod
    def _read_request(reader: io.BufferedReader) -> tuple[str, dict[str, str]] | None:
        lines: list[str] = []
        while True:
            if not lines and reader.peek(1)[:1] == b"$":
                # An interleaved packet from the client (RTCP receiver report): skip it.
                prefix = reader.read(4)
                reader.read(int.from_bytes(prefix[2:4], "big"))
                continue
            line = reader.readline()
            if not line:
                return None
            text = line.decode("latin-1").strip()
            if text:
                lines.append(text)
            elif lines:
                break
        headers: dict[str, str] = {}
        for header in lines[1:]:
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        return lines[0].split(" ")[0], headers

    def _answer(self, client: _Client, method: str, headers: dict[str, str]) -> bytes:
        extra: list[str] = []
        body = b""
        if method == "OPTIONS":
            extra.append("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER")
        elif method == "DESCRIBE":
            body = self.sdp_path.read_bytes().replace(
                b"a=rtpmap", b"a=control:trackID=0\r\na=rtpmap", 1
            )
            extra += ["Content-Type: application/sdp", f"Content-Base: {self.url}/"]
        elif method == "SETUP":
            transport = headers.get("transport", "")
            extra.append(f"Session: {next(self._sessions)}")
            ports = re.search(r"client_port=(\d+)-(\d+)", transport)
            if "TCP" in transport or ports is None:
                extra.append("Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
            else:
                client.udp_target = ("127.0.0.1", int(ports.group(1)))
                low = self._egress.getsockname()[1]
                extra.append(
                    f"Transport: RTP/AVP;unicast;client_port={ports.group(1)}-{ports.group(2)};"
                    f"server_port={low}-{low + 1}"
                )
        elif method == "PLAY":
            client.playing = True
        elif method == "TEARDOWN":
            client.playing = False
        head = ["RTSP/1.0 200 OK", f"CSeq: {headers.get('cseq', '0')}", *extra]
        if body:
            head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body
