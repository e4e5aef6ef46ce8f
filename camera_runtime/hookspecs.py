"""The whole plugin contract: every hook a plugin may implement, documented.

Registration hooks run once per Runtime, while it is built; lifecycle and event hooks run on
the event loop for low-rate happenings and receive the runtime's narrow view
(``interfaces.RuntimeView``), never the ``Runtime`` class. Nothing here runs per frame: frames
flow through the objects the registration hooks registered, by direct calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from aiohttp import web

    from .interfaces import (
        Action,
        Detector,
        Encoder,
        ImageStage,
        RuntimeView,
        Source,
        Stitcher,
        StorageBackend,
    )
    from .model import EventUpdate

PROJECT_NAME = "camera_runtime"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register source classes (RTSP camera, file, webcam, synthetic scene...).

    :param register: call once per class; the class's ``kind`` is the config ``type``.
    """


@hookspec
def register_stitchers(register: Callable[[type[Stitcher]], None]) -> None:
    """Register stitcher classes that compose several sensors into one picture.

    :param register: call once per class; the class's ``kind`` is the config ``type``.
    """


@hookspec
def register_image_stages(register: Callable[[type[ImageStage]], None]) -> None:
    """Register image stage classes (rotate, mirror, privacy mask, OSD...).

    :param register: call once per class; the class's ``kind`` is the config ``type``.
    """


@hookspec
def register_detectors(register: Callable[[type[Detector]], None]) -> None:
    """Register detector classes (motion, line crossing, intrusion...).

    :param register: call once per class; the class's ``kind`` is the key under a channel's
        ``detectors:``.
    """


@hookspec
def register_encoders(register: Callable[[type[Encoder]], None]) -> None:
    """Register encoder classes (H.264, H.265, MJPEG...).

    :param register: call once per class; the class's ``kind`` is the config ``type``.
    """


@hookspec
def register_storage_backends(register: Callable[[type[StorageBackend]], None]) -> None:
    """Register storage backend classes (local disk, FTP, NAS, cloud).

    :param register: call once per class; the class's ``kind`` is the config ``type``.
    """


@hookspec
def register_actions(register: Callable[[type[Action]], None]) -> None:
    """Register linkage action classes (capture, record, alarm output, notify...).

    :param register: call once per class; the class's ``kind`` names the action in linkage rules.
    """


@hookspec
def before_channels_start(runtime: RuntimeView) -> None:
    """Called on the event loop once the channels exist, before any of them runs (and before
    the host's services start): subscribe here to see every event and channel change.

    :param runtime: the starting runtime (its ``channel_ids()`` are known, none runs yet).
    """


@hookspec
def after_runtime_start(runtime: RuntimeView) -> None:
    """Called on the event loop once every channel has been started.

    :param runtime: the started runtime; a plugin may subscribe to its event bus here.
    """


@hookspec
def before_runtime_stop(runtime: RuntimeView) -> None:
    """Called on the event loop before channels stop; release what ``after_runtime_start`` took.

    :param runtime: the runtime that is stopping.
    """


@hookspec
def after_event(runtime: RuntimeView, update: EventUpdate) -> None:
    """Called on the event loop for every event change that passed the arming schedule.

    Must return quickly and must not raise: schedule slow work as a task.

    :param runtime: the runtime the event belongs to.
    :param update: the change (``new``, ``update`` or ``end``) and the event it concerns.
    """


@hookspec
def extend_api(app: web.Application, runtime: RuntimeView) -> None:
    """Add routes to the HTTP API before it starts. Routes added here require auth like the rest.

    :param app: the aiohttp application being built.
    :param runtime: the runtime the API serves.
    """
