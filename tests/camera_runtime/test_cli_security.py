"""``camera-runtime security``: the host's way out of the illegal login lock (issue #10, item
12), end to end: a ``run`` instance locks an address out, keeps the lock across a restart, and
the CLI lifts it or resets the admin password while the API tokens keep working."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from camera_runtime.data_folder import LOCK_FILE as RUNTIME_LOCK

from .test_cli import Cli, _reap, _write_config  # noqa: F401  (_reap: autouse fixture)

PASSWORD = "Str0ng-Passw0rd!"
NEW_PASSWORD = "An0ther-Secret?"


def security_cli(
    data: Path, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CAMERA_RUNTIME_ADMIN_PASSWORD"}
    if password is not None:
        env["CAMERA_RUNTIME_ADMIN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "camera_runtime", "security", args[0], "-d", str(data), *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def _start(config: Path) -> tuple[Cli, str]:
    cli = Cli(["run", "-c", str(config)])
    url = cli.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)")[1]
    return cli, url


def _stop(cli: Cli) -> None:
    cli.process.send_signal(signal.SIGTERM)
    assert cli.process.wait(timeout=30) == 0


async def _login(url: str, password: str) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/login", json={"username": "admin", "password": password}) as r,
    ):
        return r.status, await r.json()


async def _token_works(url: str, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/api/device", headers=headers) as r,
    ):
        return r.status == 200


async def test_unlock_and_reset_password_keep_the_tokens(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _write_config(tmp_path, f"{{port: {port}}}")
    data = tmp_path / "data"
    cli, url = _start(config)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/api/activate", json={"password": PASSWORD}) as r:
            assert r.status == 200
        auth = aiohttp.BasicAuth("admin", PASSWORD)
        async with session.post(f"{url}/api/tokens", json={"name": "ha"}, auth=auth) as r:
            token = (await r.json())["token"]
    for _ in range(5):
        status, body = await _login(url, "Wr0ng-Passw0rd")
        assert status == 401
    assert body["attempts_left"] == 0
    status, body = await _login(url, PASSWORD)
    assert status == 403 and "camera-runtime security unlock" in str(body["message"])
    _stop(cli)

    # The lock survives the restart; the host sees it and lifts it.
    listed = security_cli(data, "status")
    assert listed.returncode == 0 and "127.0.0.1  locked for" in listed.stdout
    assert security_cli(data, "unlock", "--address", "192.0.2.1").stdout.startswith(
        "no address was locked"
    )
    lifted = security_cli(data, "unlock", "--address", "127.0.0.1")
    assert lifted.returncode == 0, lifted.stderr
    assert "lifted the lock of 127.0.0.1" in lifted.stdout
    assert "illegal login lock lifted for 127.0.0.1 by the host" in lifted.stderr  # audited
    assert "no address is locked" in security_cli(data, "status").stdout
    cli, url = _start(config)
    assert (await _login(url, PASSWORD))[0] == 200
    assert await _token_works(url, token)
    for _ in range(5):
        await _login(url, "Wr0ng-Passw0rd")
    _stop(cli)

    # A forgotten password: reset it on the host. Weak ones are refused and change nothing.
    weak = security_cli(data, "reset-password", password="P@ssw0rd2024!")
    assert weak.returncode == 1 and "too easy to guess" in weak.stderr
    missing = security_cli(data, "reset-password")
    assert missing.returncode == 1 and "CAMERA_RUNTIME_ADMIN_PASSWORD" in missing.stderr
    reset = security_cli(data, "reset-password", password=NEW_PASSWORD)
    assert reset.returncode == 0, reset.stderr
    assert "API tokens are kept" in reset.stdout and "127.0.0.1" in reset.stdout
    assert "admin password set by the host" in reset.stderr
    cli, url = _start(config)
    assert (await _login(url, NEW_PASSWORD))[0] == 200
    assert (await _login(url, PASSWORD))[0] == 401
    assert await _token_works(url, token)
    _stop(cli)


def test_refuses_while_the_runtime_holds_its_lock_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "security.json").write_text('{"users": {}, "locks": {"192.0.2.1": 9e99}}')
    lock_file = data / RUNTIME_LOCK
    lock_file.touch()
    with lock_file.open() as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        refused = security_cli(data, "unlock")
        assert refused.returncode == 1
        assert "is in use by another runtime: stop that runtime first" in refused.stderr
    done = security_cli(data, "unlock")  # the lock file alone (a stopped runtime) is fine
    assert done.returncode == 0 and "lifted the lock of 192.0.2.1" in done.stdout


def test_a_folder_without_security_state_is_named(tmp_path: Path) -> None:
    result = security_cli(tmp_path, "status")
    assert result.returncode == 1 and "right data folder" in result.stderr


@pytest.mark.parametrize("action", ["status", "unlock", "reset-password"])
def test_the_data_folder_is_required(action: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "camera_runtime", "security", action],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "--data-dir" in result.stderr
