"""The illegal login lock (manual 2.3.3): too many failed logins from one address lock it out.

Per client address, on the monotonic clock, so stepping the wall clock neither frees nor extends
a lock. A lock survives a restart: it is exported with its wall-clock end and restored with the
time left, never more than the configured duration.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from ..exceptions import AuthError

#: Addresses with failures remembered at once; the oldest are forgotten first (a flood of
#: spoofed addresses cannot grow memory without bound).
MAX_TRACKED = 10_000


class LoginLockedError(AuthError):
    """The client address is locked; ``retry_after`` is in seconds."""

    translation_key_default = "login_locked"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after))
        super().__init__(
            f"too many failed logins from this address: locked for {self.retry_after} more seconds"
        )


class LoginLock:
    """Counts failures per address; ``attempts`` failures in a row lock it for ``duration`` s."""

    def __init__(
        self,
        *,
        enabled: bool,
        attempts: int,
        duration: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.enabled = enabled
        self.attempts = attempts
        self.duration = duration
        self._clock = clock
        self._wall = wall_clock
        self._failures: OrderedDict[str, int] = OrderedDict()
        self._locked: dict[str, float] = {}  # address -> monotonic end

    def remaining(self, client: str) -> float:
        """Seconds left on ``client``'s lock (0: not locked)."""
        until = self._locked.get(client)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._locked[client]
            return 0.0
        return left

    def check(self, client: str) -> None:
        """Raise ``LoginLockedError`` while ``client`` is locked."""
        left = self.remaining(client)
        if left > 0:
            raise LoginLockedError(left)

    def failure(self, client: str) -> bool:
        """Count a failure; True when this one starts a lock."""
        if not self.enabled:
            return False
        count = self._failures.pop(client, 0) + 1
        if count >= self.attempts:
            self._locked[client] = self._clock() + self.duration
            return True
        self._failures[client] = count
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)
        return False

    def success(self, client: str) -> None:
        self._failures.pop(client, None)

    def export(self) -> dict[str, float]:
        """Active locks as address -> wall-clock end, for the state file."""
        now = self._wall()
        return {ip: now + left for ip in list(self._locked) if (left := self.remaining(ip)) > 0}

    def restore(self, locks: Mapping[str, float]) -> None:
        """Re-arm exported locks with the time they had left (capped at ``duration``)."""
        now_wall, now = self._wall(), self._clock()
        for client, until in locks.items():
            left = min(float(until) - now_wall, self.duration)
            if left > 0 and self.enabled:
                self._locked[str(client)] = now + left


__all__ = ["LoginLock", "LoginLockedError"]
