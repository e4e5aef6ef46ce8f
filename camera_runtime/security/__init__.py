"""Users and security (manual chapter 9): activation, credentials, the illegal-login lock and
browser sessions, protocol-free, so the HTTP API (and later RTSP or ONVIF) share one store.

- ``store``: the credential store (``Security``): activation, users, API tokens, audit log;
- ``credentials``: the password strength rule, scrypt records, digest secrets, user levels;
- ``login_lock``: the illegal-login lock per client address;
- ``sessions``: browser sessions with an idle timeout and a cap per user.
"""

from __future__ import annotations

from .store import AlreadyActivatedError, ApiToken, IllegalLogin, Revocation, Security, User

__all__ = ["AlreadyActivatedError", "ApiToken", "IllegalLogin", "Revocation", "Security", "User"]
