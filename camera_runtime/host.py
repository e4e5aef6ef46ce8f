"""Composes a runtime with its faces (HTTP API, zeroconf, MQTT), the same way for every host:
``camera-runtime run`` and ``demo``, Home Assistant's embedded mode and the tests.

The runtime knows none of its faces: each face brings its config section (``SECTIONS``) and
its service, and this module, with the CLI above it, is the only place that knows them all.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from zeroconf.asyncio import AsyncZeroconf

from .api import ApiServer
from .api.config import API_SECTION
from .config import ConfigSection, RuntimeConfig, validate_config
from .config_yaml import read_yaml_file
from .mqtt import MQTT_SECTION, MqttBridge
from .registry import build_plugins
from .runtime import Runtime
from .security import Security
from .zeroconf import ZEROCONF_SECTION, ZeroconfService

#: Every face's config section: a config is always validated against all of them, whichever
#: faces a host runs (an embedded runtime ignores ``api:`` rather than refusing the file).
SECTIONS: tuple[ConfigSection, ...] = (API_SECTION, ZEROCONF_SECTION, MQTT_SECTION)


@dataclass
class Faces:
    """The services ``compose`` added to a runtime (``None``: not running)."""

    api: ApiServer | None = None
    zeroconf: ZeroconfService | None = None
    mqtt: MqttBridge | None = None


def validate(data: Any, extra_plugins: Iterable[ModuleType | object | str] = ()) -> RuntimeConfig:
    """Check a config as a runtime would (the plugins its ``plugins.disabled`` leaves, every
    face's section); ``ConfigError`` lists every problem."""
    _, registry = build_plugins(data, extra_plugins)
    return validate_config(data, registry, SECTIONS)


def runtime_from_data(
    data: Any,
    *,
    data_dir: str | Path | None = None,
    extra_plugins: Iterable[ModuleType | object | str] = (),
) -> Runtime:
    """A runtime (not started, no face yet) for parsed config data."""
    return Runtime.from_data(
        data, data_dir=data_dir, extra_plugins=extra_plugins, sections=SECTIONS
    )


def runtime_from_file(
    path: str | Path,
    *,
    data_dir: str | Path | None = None,
    extra_plugins: Iterable[ModuleType | object | str] = (),
) -> Runtime:
    """A runtime (not started, no face yet) for a YAML file it writes channel changes back to."""
    runtime = runtime_from_data(
        read_yaml_file(path), data_dir=data_dir, extra_plugins=extra_plugins
    )
    runtime.config_file.path = Path(path)
    return runtime


def compose(
    runtime: Runtime,
    *,
    api: bool = True,
    host: str | None = None,
    port: int | None = None,
    zeroconf: bool | None = None,
    security: Security | None = None,
    ssl_context: ssl.SSLContext | None = None,
    async_zeroconf: AsyncZeroconf | None = None,
) -> Faces:
    """Add the faces the config asks for, and the host allows, to ``runtime`` (before it
    starts): the API unless ``api`` is false or ``api.enabled`` is, zeroconf with the API
    unless switched off (``zeroconf`` overrides the config), MQTT when there is an ``mqtt:``
    section. ``host``/``port`` override ``api.host``/``api.port``."""
    faces = Faces()
    settings = runtime.config.section("api")
    if api and (settings is None or settings["enabled"]):
        server = ApiServer(runtime, host, port, security=security, ssl_context=ssl_context)
        faces.api = server
        runtime.add_service(server)
        advertise = zeroconf
        if advertise is None:
            section = runtime.config.section("zeroconf")
            advertise = bool(section["enabled"]) if section is not None else True
        if advertise:
            faces.zeroconf = ZeroconfService(
                runtime, host=server.host, port=lambda: server.port, zeroconf=async_zeroconf
            )
            runtime.add_service(faces.zeroconf)
    mqtt = runtime.config.section("mqtt")
    if mqtt is not None:
        faces.mqtt = MqttBridge(runtime, mqtt)
        runtime.add_service(faces.mqtt)
    return faces


__all__ = [
    "SECTIONS",
    "Faces",
    "compose",
    "runtime_from_data",
    "runtime_from_file",
    "validate",
]
