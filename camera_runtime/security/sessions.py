"""Browser sessions: random ids for the session cookie, an idle timeout (manual 9.14.7) and a
cap per user (manual 9.16.2, simultaneous login: the oldest session is evicted).

Kept in memory only: a restart signs every browser out, which is the safe direction. Only a
hash of each id is stored, so a memory dump does not hand out live cookies.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_SESSIONS_PER_USER = 16


@dataclass
class _Session:
    user: str
    last_seen: float


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", errors="surrogatepass")).hexdigest()


class SessionStore:
    """Sessions by id; ``timeout`` is idle seconds on the monotonic ``clock``."""

    def __init__(
        self,
        timeout: float,
        *,
        max_per_user: int = MAX_SESSIONS_PER_USER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.max_per_user = max_per_user
        self._clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    def create(self, user: str) -> str:
        """A new session id for ``user`` (evicting the user's oldest beyond the cap)."""
        now = self._clock()
        self._expire(now)
        own = [key for key, s in self._sessions.items() if s.user == user]
        for key in own[: max(0, len(own) - self.max_per_user + 1)]:
            del self._sessions[key]
        session_id = secrets.token_urlsafe(32)
        self._sessions[_key(session_id)] = _Session(user, now)
        return session_id

    def user(self, session_id: str) -> str | None:
        """The user of a live session, refreshing its idle timer; ``None`` if ended or expired."""
        now = self._clock()
        key = _key(session_id)
        session = self._sessions.get(key)
        if session is None:
            return None
        if now - session.last_seen > self.timeout:
            del self._sessions[key]
            return None
        session.last_seen = now
        return session.user

    def end(self, session_id: str) -> None:
        self._sessions.pop(_key(session_id), None)

    def end_user(self, user: str) -> None:
        """End every session of ``user`` (password change, logout everywhere)."""
        for key in [k for k, s in self._sessions.items() if s.user == user]:
            del self._sessions[key]

    def _expire(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if now - s.last_seen > self.timeout]:
            del self._sessions[key]

    def __len__(self) -> int:
        return len(self._sessions)


__all__ = ["MAX_SESSIONS_PER_USER", "SessionStore"]
