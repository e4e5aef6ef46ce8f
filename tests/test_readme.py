"""The README's API examples work as printed: each ``curl`` command of it runs, in order,
against a runtime with the demo's channels that was never activated (the first command
activates it), and every answer is a success."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from camera_runtime.cli import demo_config

ROOT = Path(__file__).parents[1]


def readme_curls() -> list[str]:
    """Every curl command in the README's shell blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = []
    for block in blocks:
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split(" #", 1)[0].strip()
            if command.startswith("curl "):
                commands.append(command)
    return commands


def test_the_readme_shows_curl_examples() -> None:
    commands = readme_curls()
    assert len(commands) >= 4
    assert "/api/activate" in commands[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl command")
def test_every_curl_example_of_the_readme_works_on_the_demo_channels(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {
        **demo_config(2),
        "data_dir": str(tmp_path / "data"),
        "api": {"port": port},
        "zeroconf": {"enabled": False},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    server = subprocess.Popen(
        [sys.executable, "-m", "camera_runtime", "run", "-c", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "listening on" in line:
                break
        else:
            pytest.fail("the runtime did not start")
        for command in readme_curls():
            argv = shlex.split(command.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
            # A loaded machine may not have a channel's first picture when the snapshot is
            # asked for: 503 with Retry-After, which curl's --retry honours (as a user would).
            result = subprocess.run(
                [
                    argv[0],
                    "--silent",
                    "--show-error",
                    "--fail-with-body",
                    "--retry",
                    "5",
                    *argv[1:],
                ],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert (tmp_path / "cam1.jpg").read_bytes()[:2] == b"\xff\xd8"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
