"""A real FTP server (pyftpdlib) on 127.0.0.1 for the upload tests: started by a fixture,
stopped and started again on the same port to play a server that goes away and comes back."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer

from .ports import free_port

USER, PASSWORD = "camera", "Upl0ad-s3cret!"


@dataclass
class FtpServer:
    """Serves ``root`` to ``USER``/``PASSWORD`` and to anonymous users (read and write)."""

    root: Path
    port: int = field(default_factory=free_port)
    _server: Any = None
    _thread: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(self.root), perm="elradfmwMT")
        with warnings.catch_warnings():  # it warns that anonymous users may write: they may
            warnings.simplefilter("ignore", RuntimeWarning)
            authorizer.add_anonymous(str(self.root), perm="elradfmw")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "test"})
        self._server = ThreadedFTPServer(("127.0.0.1", self.port), handler)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Poll in steps and close in this same thread: closing from another one races the
        poll (a closed descriptor under it)."""
        server = self._server
        while not self._stopping.is_set():
            server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        server.close_all()

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=10)
            self._thread = None
            self._server = None

    def files(self) -> list[str]:
        """Every file under the root, relative, sorted (temporary ``.part`` files included)."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


def ftp_target(server: FtpServer, target_id: str = "nas_ftp", **extra: Any) -> dict[str, Any]:
    """An ``uploads.targets`` entry for ``server``, with its user's credentials."""
    return {
        "id": target_id,
        "type": "ftp",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USER,
        "password": PASSWORD,
        "timeout": 5,
        **extra,
    }


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[FtpServer]:
    """A started FTP server serving ``tmp_path/ftp``; stopped at the end."""
    root = tmp_path / "ftp"
    root.mkdir()
    server = FtpServer(root)
    server.start()
    yield server
    server.stop()
