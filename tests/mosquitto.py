"""A real Mosquitto broker for the tests: its own config in a temporary folder, a listener on
127.0.0.1 (a free port, kept across restarts), anonymous or with a password file, optionally
TLS. ``stop()``/``start()`` restart it on the same port, as a broker restart in real life.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ports import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


class Mosquitto:
    """One broker process. ``users`` ({name: password}) turns anonymous access off; ``tls``
    (certfile, keyfile) makes the listener TLS-only; ``persistence`` keeps sessions (and the
    QoS 1 messages queued for them) and retained messages across ``restart()``."""

    def __init__(
        self,
        workdir: Path,
        *,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
        persistence: bool = True,
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log_path = workdir / "mosquitto.log"
        self.conf_path = workdir / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        lines = [
            f"listener {self.port} 127.0.0.1",
            # Persistent sessions and retained messages survive a restart, as on a real broker.
            f"persistence {'true' if persistence else 'false'}",
            f"persistence_location {workdir}/",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
        ]
        if os.getuid() == 0:
            # As root, Mosquitto drops to the "mosquitto" user, which cannot write the log and
            # the persistence file in a private temporary folder.
            lines.append("user root")
        if users:
            pwfile = workdir / "passwd"
            pwfile.write_text("")
            for name, password in users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(pwfile), name, password],
                    check=True,
                    capture_output=True,
                    timeout=10,
                )
            pwfile.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += [f"certfile {tls[0]}", f"keyfile {tls[1]}"]
        self.conf_path.write_text("\n".join(lines) + "\n")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker and wait until it accepts TCP connections on its port."""
        assert not self.running
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                log = self.log_path.read_text() if self.log_path.exists() else ""
                raise RuntimeError(f"mosquitto exited: {err}{log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                return
            time.sleep(0.05)  # polling for the port, with a deadline: not a synchronisation sleep
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL) and wait until it exited."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stderr is not None:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def running_broker(workdir: Path, **kwargs: object) -> Iterator[Mosquitto]:
    broker = Mosquitto(workdir, **kwargs)  # type: ignore[arg-type]
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def broker_fixture() -> Callable[..., Iterator[Mosquitto]]:
    """The ``broker`` fixture (an anonymous broker for one test), for a conftest to bind:
    ``broker = broker_fixture()``. A factory, because the runtime tests and the Home Assistant
    tests run in separate pytest processes with separate conftests."""

    @pytest.fixture
    def broker(tmp_path: Path) -> Iterator[Mosquitto]:
        with running_broker(tmp_path / "broker") as mosquitto:
            yield mosquitto

    return broker
