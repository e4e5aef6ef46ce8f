"""One exception tree for the runtime, so hosts (CLI, API, Home Assistant) translate errors in one place."""

from __future__ import annotations


class CameraRuntimeError(Exception):
    """Base of every error the runtime raises on purpose.

    ``translation_key`` lets a host (the HA integration) show a translated message
    without parsing ``str(exc)``.
    """

    translation_key_default = "runtime_error"

    def __init__(self, message: str, translation_key: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.translation_key = translation_key or self.translation_key_default


class ConfigError(CameraRuntimeError):
    """The configuration is invalid; ``errors`` holds one line per problem, with its key path."""

    translation_key_default = "invalid_config"

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors: list[str] = errors if errors is not None else [message]


class CalibrationError(CameraRuntimeError):
    """Stitching calibration failed; the message says what the user can do about it (move
    the sensors so they overlap more, point them at a scene with more detail)."""

    translation_key_default = "calibration_failed"


class PluginError(CameraRuntimeError):
    """A plugin is missing, misdeclared, or registered a kind twice."""

    translation_key_default = "plugin_error"


class SourceUnavailableError(CameraRuntimeError):
    """A source cannot be opened or stopped delivering; the channel reconnects with backoff."""

    translation_key_default = "source_unavailable"


class NetworkDisconnectedError(SourceUnavailableError):
    """A network source cannot reach its camera: the connection was refused, reset or timed
    out, or the host or network is unreachable. The channel raises the manual's "network
    disconnected" exception beside video loss, so a user can tell a cable from a camera fault."""

    translation_key_default = "network_disconnected"


class SourceEndedError(CameraRuntimeError):
    """A finite source (a file without ``loop``) reached its end; the channel stops reading."""

    translation_key_default = "source_ended"


class AuthError(CameraRuntimeError):
    """Credentials are missing, wrong, or the client is locked out."""

    translation_key_default = "auth_failed"


class NotActivatedError(AuthError):
    """The device has no admin password yet; only activation is possible."""

    translation_key_default = "not_activated"


class StorageError(CameraRuntimeError):
    """Persistent storage (event history, data folder) failed."""

    translation_key_default = "storage_error"


class NotFoundError(CameraRuntimeError):
    """An addressed object (channel, event, token) does not exist."""

    translation_key_default = "not_found"


class InvalidValueError(CameraRuntimeError):
    """An argument of a request is out of range (a picture size larger than the source...);
    nothing was done. Its key is the API's error code for a bad parameter (HTTP 400), so a
    host sees the same code from a local runtime as from a remote one."""

    translation_key_default = "bad_parameter"


class NoFrameError(CameraRuntimeError):
    """A channel has no picture yet (starting, or its source is lost)."""

    translation_key_default = "no_frame"


class ChannelStoppedError(CameraRuntimeError):
    """A stopped (disabled) channel was asked for a picture: unlike a starting one, it will
    not have one however long the caller waits."""

    translation_key_default = "channel_stopped"


class NotRecordingError(CameraRuntimeError):
    """A recording command for a channel whose ``record`` is not enabled: the state of the
    channel's config, not a bad request (409)."""

    translation_key_default = "not_recording"


class StreamUnavailableError(CameraRuntimeError):
    """A stream cannot be served as asked: it is not encoded in a codec the format carries
    (a synthetic scene makes pictures, not H.264), or the channel has no such stream."""

    translation_key_default = "stream_unavailable"


class WorkerGoneError(CameraRuntimeError):
    """The worker process hosting a channel exited or stopped answering (``workers/``); the
    runtime restarts it, and the channel comes back with it."""

    translation_key_default = "worker_gone"


class DetectionProcessError(CameraRuntimeError):
    """The detection process (``detect.process``) exited or stopped answering; the channel
    starts it again at its next picture."""

    translation_key_default = "detection_process_gone"
