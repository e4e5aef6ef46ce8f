"""Errors a runtime client raises, on top of the runtime's own tree, so that a host (Home
Assistant) tells "cannot reach it" from "refused the credentials" from "refused the request"."""

from __future__ import annotations

from ..exceptions import AuthError, CameraRuntimeError, NotActivatedError


class CannotConnectError(CameraRuntimeError):
    """The runtime cannot be reached (refused, timed out, dropped, not a camera_runtime)."""

    translation_key_default = "cannot_connect"


class InvalidAuthError(AuthError):
    """The credentials or the API token were refused (401), or the account lacks the level."""

    translation_key_default = "invalid_auth"


class RequestError(CameraRuntimeError):
    """The runtime answered a request with an error: ``status`` is the HTTP status and
    ``translation_key`` the API's stable error code (``no_frame``, ``channel_not_found``...)."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message, code or "request_failed")
        self.status = status

    @property
    def is_client_error(self) -> bool:
        """The request itself was wrong (bad value, unknown channel): the caller's fault."""
        return 400 <= self.status < 500


__all__ = [
    "AuthError",
    "CameraRuntimeError",
    "CannotConnectError",
    "InvalidAuthError",
    "NotActivatedError",
    "RequestError",
]
