"""Client library for a camera runtime, usable by any host: ``RemoteClient`` (over the HTTP
API and its event WebSocket) and ``LocalClient`` (a ``Runtime`` in the same process) share the
``RuntimeClient`` contract. Nothing here imports Home Assistant."""

from __future__ import annotations

from .base import (
    ConnectionCallback,
    Download,
    RuntimeClient,
    Unsubscribe,
    Update,
    UpdateCallback,
)
from .errors import (
    AuthError,
    CameraRuntimeError,
    CannotConnectError,
    InvalidAuthError,
    NotActivatedError,
    RequestError,
)
from .http import DEFAULT_PORT, DEFAULT_USERNAME
from .ptz import PtzCall
from .remote import RemoteClient

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_USERNAME",
    "AuthError",
    "CameraRuntimeError",
    "CannotConnectError",
    "ConnectionCallback",
    "Download",
    "InvalidAuthError",
    "NotActivatedError",
    "PtzCall",
    "RemoteClient",
    "RequestError",
    "RuntimeClient",
    "Unsubscribe",
    "Update",
    "UpdateCallback",
]
