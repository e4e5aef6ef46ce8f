"""Free TCP ports on 127.0.0.1 for the tests: for a server to listen on, or for a client to
find nothing listening there."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
