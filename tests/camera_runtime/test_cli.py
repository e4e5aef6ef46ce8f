"""The command line: the demo end to end, and the plugins listing."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import aiohttp
import pytest

from camera_runtime.cli import demo_config, generate_password
from camera_runtime.host import runtime_from_data
from camera_runtime.security.credentials import password_problem


def start_demo(data_dir: Path, env: dict[str, str]) -> Cli:
    return Cli(
        ["demo", "--port", "0", "--channels", "2", "--data-dir", str(data_dir), "--no-zeroconf"],
        env,
    )


class Cli:
    """``camera-runtime ...`` in a subprocess, its output read line by line on a thread.

    Every instance is killed at the end of the test that made it (``_reap``), even when an
    assertion fails half way.
    """

    started: ClassVar[list[Cli]] = []

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "camera_runtime", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        Cli.started.append(self)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}; output so far:\n{''.join(self.output)}")
            match = re.search(pattern, line)
            if match:
                return match


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    while Cli.started:
        process = Cli.started.pop().process
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def demo_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CAMERA_RUNTIME_ADMIN_PASSWORD"}


async def test_demo_serves_motion_events_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    demo = start_demo(tmp_path / "data", demo_env)
    url = demo.wait_for_line(r"web UI and API: (http://127\.0\.0\.1:\d+)")[1]
    assert demo.wait_for_line(r"user name:\s+(\S+)")[1] == "admin"
    password = demo.wait_for_line(r"password:\s+(\S+)\s+\(generated")[1]
    assert password_problem(password) is None
    auth = aiohttp.BasicAuth("admin", password)
    async with aiohttp.ClientSession(auth=auth) as session:
        async with session.get(f"{url}/api/channels") as response:
            assert [c["id"] for c in await response.json()] == ["cam1", "cam2"]
        event_id = None
        async with asyncio.timeout(60), session.ws_connect(f"{url}/api/events/ws") as ws:
            async for message in ws:
                data = json.loads(message.data)
                if data.get("phase") == "new" and data["event"]["type"] == "motion":
                    event_id = data["event"]["id"]
                    break
        assert event_id is not None, "the WebSocket closed before a motion event"
        async with session.get(f"{url}/api/events", params={"type": "motion"}) as response:
            assert event_id in [e["id"] for e in (await response.json())["events"]]
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
    assert "Traceback" not in "".join(demo.output)


def test_demo_takes_the_password_from_the_environment(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    demo = start_demo(
        tmp_path / "data", {**demo_env, "CAMERA_RUNTIME_ADMIN_PASSWORD": "Fr0m-The-Env"}
    )
    match = demo.wait_for_line(r"password:\s+(\S+)\s+\((.*)\)")
    assert match[1] == "Fr0m-The-Env" and "CAMERA_RUNTIME_ADMIN_PASSWORD" in match[2]
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0


def test_demo_refuses_a_weak_password_from_the_environment(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    demo = start_demo(tmp_path / "data", {**demo_env, "CAMERA_RUNTIME_ADMIN_PASSWORD": "weak"})
    assert demo.process.wait(timeout=60) != 0
    output = "".join(demo.output)
    assert "at least three of" in output and "Traceback" not in output


def test_generated_passwords_meet_the_strength_rule() -> None:
    for _ in range(50):
        assert password_problem(generate_password()) is None


@pytest.mark.parametrize("channels", [1, 16])
def test_the_demo_config_is_valid(tmp_path: Path, channels: int) -> None:
    runtime = runtime_from_data(demo_config(channels), data_dir=tmp_path)
    assert len(runtime.config.channels) == channels


def test_plugins_lists_the_built_ins() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "camera_runtime", "plugins"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "source: synthetic" in rows["synthetic"] and "camera-runtime" in rows["synthetic"]
    assert "detector: motion" in rows["motion"]
    assert "source: http, rtsp" in rows["network"]


def _run(config: Path, *extra: str) -> Cli:
    return Cli(["run", "-c", str(config), *extra])


def _write_config(tmp_path: Path, api: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        f"api: {api}\n"
        "zeroconf: {enabled: false}\n"
        "channels:\n  - {id: yard, source: {type: synthetic, width: 320, height: 180}}\n"
    )
    return path


def test_run_serves_the_config_and_stops_on_sigterm(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = _run(_write_config(tmp_path, f"{{port: {port}}}"))
    cli.wait_for_line(f"listening on http://127.0.0.1:{port}")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=10) as response:
        assert json.load(response)["status"] == "ok"
    cli.process.send_signal(signal.SIGTERM)
    assert cli.process.wait(timeout=30) == 0


def test_run_reports_a_busy_port_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cli = _run(_write_config(tmp_path, f"{{port: {port}}}"))
        assert cli.process.wait(timeout=60) == 1
    cli.wait_for_line(f"error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in "".join(cli.output)


def test_run_without_the_api(tmp_path: Path) -> None:
    cli = _run(_write_config(tmp_path, "{enabled: false}"))
    cli.wait_for_line("running without the HTTP API")
    cli.process.send_signal(signal.SIGINT)
    assert cli.process.wait(timeout=30) == 0


def test_an_unknown_plugin_module_is_a_clear_error(tmp_path: Path) -> None:
    cli = _run(_write_config(tmp_path, "{port: 1}"), "--plugin", "no_such_module_here")
    assert cli.process.wait(timeout=60) == 1
    cli.wait_for_line("cannot import plugin module 'no_such_module_here'")
    assert "Traceback" not in "".join(cli.output)


def test_a_second_run_on_the_same_data_folder_refuses_and_names_the_first(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = _write_config(tmp_path, f"{{port: {port}}}")
    first = _run(config)
    first.wait_for_line("listening on")
    second = _run(config)
    assert second.process.wait(timeout=60) == 1
    second.wait_for_line(
        rf"error: the data folder {re.escape(str(tmp_path / 'data'))} is in use by process "
        rf"{first.process.pid}\b.*--data-dir"
    )
    assert "Traceback" not in "".join(second.output)
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=30) == 0


def test_an_unknown_log_level_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "camera_runtime", "--log-level", "verbose", "plugins"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice: 'VERBOSE'" in result.stderr and "DEBUG" in result.stderr


async def test_the_config_answer_shows_what_is_in_force(tmp_path: Path) -> None:
    """``--port`` and ``--no-zeroconf`` win over the file; the answer says so, and which data
    folder the runtime uses."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CAMERA_RUNTIME_ADMIN_PASSWORD": "Str0ng-Passw0rd!"}
    data_dir = tmp_path / "demo"
    demo = Cli(["demo", "--port", str(port), "--data-dir", str(data_dir), "--no-zeroconf"], env)
    demo.wait_for_line("web UI and API")
    auth = aiohttp.BasicAuth("admin", "Str0ng-Passw0rd!")
    async with (
        aiohttp.ClientSession(auth=auth) as session,
        session.get(f"http://127.0.0.1:{port}/api/config") as r,
    ):
        config = await r.json()
    assert config["api"]["port"] == port and config["api"]["host"] == "127.0.0.1"
    assert config["zeroconf"] == {"enabled": False}
    assert config["data_dir"] == str(data_dir.resolve())
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0
