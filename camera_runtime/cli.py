"""The ``camera-runtime`` command: run, demo, validate, plugins, security. A thin layer over the
library."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import secrets
import signal
import string
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, host
from .allocator import fix_mmap_threshold
from .config import validate_config
from .config_file import ConfigFile
from .config_yaml import read_yaml_file
from .exceptions import CameraRuntimeError, ConfigError
from .registry import build_plugins, describe_plugins
from .runtime import Runtime
from .security import recovery
from .stitching import command as stitching_command

_LOGGER = logging.getLogger("camera_runtime")

ADMIN_PASSWORD_ENV = "CAMERA_RUNTIME_ADMIN_PASSWORD"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: The MQTT broker password is never a command-line option (it would show in ``ps``).
MQTT_PASSWORD_ENV = "CAMERA_RUNTIME_MQTT_PASSWORD"


def demo_config(channels: int) -> dict[str, Any]:
    """The embedded demo: the synthetic source's yard, nothing to set up.

    In each 40 s cycle someone walks along the path across the line (line crossing at 4.5 s),
    a car drives by, someone stays in the lawn (intrusion at 20 s) and leaves a bag there
    (unattended baggage at 25 s), someone takes the crate away (object removal at 34.5 s) and
    a lamp is switched on; motion detection sees them all. The rules' times are the yard's
    ``YARD_TIMELINE`` (``camera_runtime_plugins.sources.yard``; a test checks they fire).
    """
    bag_size = {"min": [0.01, 0.02], "max": [0.1, 0.15]}
    result = []
    for index in range(channels):
        result.append(
            {
                "id": f"cam{index + 1}",
                "name": f"Demo camera {index + 1}",
                "source": {
                    "type": "synthetic",
                    "scene": "yard",
                    "width": 1280,
                    "height": 720,
                    "fps": 15,
                    "seed": index + 1,
                },
                "detectors": {
                    "motion": {"sensitivity": 60, "hold_time": 2},
                    "line_crossing": {
                        "rules": [{"name": "path", "line": [[0.5, 0.95], [0.5, 0.58]]}]
                    },
                    "intrusion": {
                        "rules": [
                            {
                                "name": "lawn",
                                "region": [[0.55, 0.58], [0.8, 0.58], [0.8, 0.98], [0.55, 0.98]],
                                "threshold": 3,
                            }
                        ]
                    },
                    "unattended_baggage": {
                        "rules": [
                            {
                                "name": "lawn",
                                "region": [[0.5, 0.6], [0.75, 0.6], [0.75, 0.95], [0.5, 0.95]],
                                "threshold": 5,
                                "size_filter": bag_size,
                            }
                        ]
                    },
                    "object_removal": {
                        "rules": [
                            {
                                "name": "crate",
                                "region": [[0.22, 0.6], [0.38, 0.6], [0.38, 0.95], [0.22, 0.95]],
                                "threshold": 3,
                                "size_filter": bag_size,
                            }
                        ]
                    },
                },
            }
        )
    return {"device": {"name": "camera-runtime demo"}, "channels": result}


def generate_password() -> str:
    """A password that meets the manual's strength rule (all four classes, 16 characters)."""
    classes = [string.ascii_uppercase, string.ascii_lowercase, string.digits, "-_.!"]
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(12)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


async def serve(
    runtime: Runtime,
    faces: host.Faces,
    *,
    admin_password: str | None = None,
    banner: bool = False,
) -> None:
    """Run a runtime with the faces composed around it until SIGINT/SIGTERM, then stop
    cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        server = faces.api
        if server is None:
            print(f"camera-runtime {__version__} running without the HTTP API", flush=True)
        else:
            if admin_password is not None:
                await server.security.set_admin_password(admin_password)
            if banner:
                _print_banner(server.url, admin_password)
            else:
                print(f"camera-runtime {__version__} listening on {server.url}", flush=True)
        await stop.wait()
        print("stopping...", flush=True)
    finally:
        await runtime.stop()


def mqtt_overrides(args: argparse.Namespace, data: Any) -> Any:
    """The config data with the ``--mqtt-*`` options (and the password from
    ``CAMERA_RUNTIME_MQTT_PASSWORD``) merged into its ``mqtt:`` block."""
    if not isinstance(data, dict):
        return data
    given = {
        key: value
        for key, value in (
            ("host", args.mqtt_host),
            ("port", args.mqtt_port),
            ("username", args.mqtt_username),
        )
        if value is not None
    }
    block = data.get("mqtt")
    password = os.environ.get(MQTT_PASSWORD_ENV)
    if password and (given or isinstance(block, dict)):  # alone, it does not turn MQTT on
        given["password"] = password
    if not given:
        return data
    merged = {**(block if isinstance(block, dict) else {}), **given}
    return {**data, "mqtt": merged}


def _load_run_config(args: argparse.Namespace) -> Runtime:
    """``run``'s runtime; ``--mqtt-*`` options apply to this run only: channels added at run
    time are written back to the file as the user wrote it, without them."""
    data = read_yaml_file(args.config)
    merged = mqtt_overrides(args, data)
    if merged is data:
        return host.runtime_from_file(
            args.config, data_dir=args.data_dir, extra_plugins=args.plugin
        )
    runtime = host.runtime_from_data(merged, data_dir=args.data_dir, extra_plugins=args.plugin)
    runtime.config_file = ConfigFile(data, Path(args.config))
    runtime.config_file.overlay = {"mqtt": merged["mqtt"]}
    return runtime


def _print_banner(url: str, password: str | None) -> None:
    lines = [
        f"camera-runtime {__version__} demo is running",
        f"  web UI and API: {url}",
        "  user name:      admin",
    ]
    if password is not None:
        source = (
            f"from {ADMIN_PASSWORD_ENV}"
            if os.environ.get(ADMIN_PASSWORD_ENV)
            else "generated for this run"
        )
        lines.append(f"  password:       {password}  ({source})")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="camera-runtime", description="A software network camera and NVR."
    )
    parser.add_argument("--version", action="version", version=f"camera-runtime {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=LOG_LEVELS,
        help="how much to log: DEBUG, INFO (the default), WARNING or ERROR",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def mqtt_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--mqtt-host", metavar="HOST", help="MQTT broker (sets mqtt.host)")
        p.add_argument("--mqtt-port", type=int, metavar="N", help="MQTT broker port (1883)")
        p.add_argument(
            "--mqtt-username",
            metavar="NAME",
            help=f"MQTT user name; the password is read from ${MQTT_PASSWORD_ENV}",
        )

    def plugin_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--plugin",
            action="append",
            default=[],
            metavar="MODULE",
            help="also load this plugin module",
        )

    run = sub.add_parser("run", help="run a runtime from a config file")
    run.add_argument("-c", "--config", required=True, help="YAML configuration file")
    run.add_argument("--data-dir", help="data folder (overrides the config's data_dir)")
    run.add_argument("--host", help="API address (overrides api.host)")
    run.add_argument("--port", type=int, help="API port (overrides api.port)")
    mqtt_options(run)
    plugin_option(run)

    demo = sub.add_parser(
        "demo", help="run the built-in demo: synthetic cameras, web UI on 127.0.0.1"
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    demo.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    demo.add_argument("--data-dir", default="demo-data", help="data folder (default ./demo-data)")
    demo.add_argument("--channels", type=int, default=2, choices=range(1, 17), metavar="1-16")
    demo.add_argument("--no-zeroconf", action="store_true", help="do not advertise on the network")
    mqtt_options(demo)
    plugin_option(demo)

    validate = sub.add_parser("validate", help="check a config file; exit 2 when it is invalid")
    validate.add_argument("config", help="YAML configuration file")
    plugin_option(validate)

    calibrate = sub.add_parser(
        "calibrate", help="calibrate a stitched device (stitching:) and write a preview"
    )
    calibrate.add_argument("-c", "--config", required=True, help="YAML configuration file")
    calibrate.add_argument("--device", help="the stitched device's id (when there are several)")
    calibrate.add_argument("--data-dir", help="data folder (overrides the config's data_dir)")
    plugin_option(calibrate)

    plugins = sub.add_parser("plugins", help="list installed plugins with versions and kinds")
    plugin_option(plugins)

    security = sub.add_parser(
        "security",
        help="on the host, with the runtime stopped: the illegal login lock, the admin password",
    )
    actions = security.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="list the addresses locked out and for how long")
    unlock = actions.add_parser("unlock", help="lift the illegal login lock (API tokens stay)")
    unlock.add_argument("--address", help="only this client address (default: every address)")
    reset = actions.add_parser(
        "reset-password",
        help="set a new admin password without the old one and lift every lock (API tokens "
        f"stay); the password is read from ${ADMIN_PASSWORD_ENV} or asked for",
    )
    for action in (status, unlock, reset):
        action.add_argument("-d", "--data-dir", required=True, help="the runtime's data folder")
    return parser


def _validate(path: str, extra: Sequence[str]) -> int:
    try:
        data = read_yaml_file(path)
        config = host.validate(data, extra)
    except ConfigError as err:
        print(f"{path}: {len(err.errors)} error(s)", file=sys.stderr)
        for line in err.errors:
            print(f"  {line}", file=sys.stderr)
        return 2
    print(f"{path}: valid ({len(config.channels)} channel(s))")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    data = read_yaml_file(args.config)
    _, registry = build_plugins(data, args.plugin)
    config = validate_config(data, registry, host.SECTIONS)
    data_dir = Path(args.data_dir or config.raw.get("data_dir", "data"))
    return stitching_command.run(config, registry, data_dir, args.device)


def _plugins(extra: Sequence[str]) -> int:
    pm, registry = build_plugins(None, extra)
    rows = [("NAME", "DISTRIBUTION", "VERSION", "KINDS")]
    for info in describe_plugins(pm, registry):
        kinds = "; ".join(f"{point}: {', '.join(names)}" for point, names in info.kinds.items())
        rows.append((info.name, info.distribution or "-", info.version or "-", kinds or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    return 0


def _new_password() -> str:
    """The new admin password: ``$CAMERA_RUNTIME_ADMIN_PASSWORD``, else asked twice on the
    terminal (never an option: it would show in ``ps`` and the shell's history)."""
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        raise CameraRuntimeError(f"no terminal to ask on: set {ADMIN_PASSWORD_ENV}")
    password = getpass.getpass("new admin password: ")
    if getpass.getpass("again: ") != password:
        raise CameraRuntimeError("the two passwords differ; nothing changed")
    return password


def _security(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    if args.action == "status":
        states = recovery.lock_states(data_dir)
        for state in states:
            print(f"{state.address}  locked for {state.seconds_left / 60:.1f} more minute(s)")
        if not states:
            print("no address is locked")
        return 0
    if args.action == "unlock":
        lifted = asyncio.run(recovery.unlock(data_dir, args.address))
        print(f"lifted the lock of {', '.join(lifted)}" if lifted else "no address was locked")
        return 0
    lifted = asyncio.run(recovery.reset_admin_password(data_dir, _new_password()))
    print("the admin password is set; API tokens are kept, browser sessions end")
    if lifted:
        print(f"lifted the lock of {', '.join(lifted)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "validate":
            return _validate(args.config, args.plugin)
        if args.command == "plugins":
            return _plugins(args.plugin)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "security":
            return _security(args)
        if args.command in ("run", "demo"):
            fix_mmap_threshold()  # a long-running process: its RSS stays flat
        if args.command == "run":
            runtime = _load_run_config(args)
            faces = host.compose(runtime, host=args.host, port=args.port)
            asyncio.run(serve(runtime, faces))
            return 0
        if args.command == "demo":
            runtime = host.runtime_from_data(
                mqtt_overrides(args, demo_config(args.channels)),
                data_dir=args.data_dir,
                extra_plugins=args.plugin,
            )
            faces = host.compose(
                runtime,
                host=args.host,
                port=args.port,
                zeroconf=False if args.no_zeroconf else None,
            )
            password = os.environ.get(ADMIN_PASSWORD_ENV) or generate_password()
            asyncio.run(serve(runtime, faces, admin_password=password, banner=True))
            return 0
    except ConfigError as err:
        print("invalid configuration:", file=sys.stderr)
        for line in err.errors:
            print(f"  {line}", file=sys.stderr)
        return 2
    except CameraRuntimeError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 1
