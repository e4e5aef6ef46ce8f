"""The illegal login lock (manual 2.3.3): too many failed logins from one address lock it out.

Per client address, on the monotonic clock, so stepping the wall clock neither frees nor extends
a lock. A lock survives a restart: it is exported with its wall-clock end and restored with the
time left, never more than the configured duration.

Under concurrency: a password check takes a while (scrypt, ~50 ms), so an attempt is *reserved*
before the check starts and settled after it. An address never has more checks running or
failed than ``attempts``: however many guesses arrive at once, at most ``attempts`` passwords
are tried before the lock starts, and the rest wait for a free attempt (then find the address
locked, or free again after a success).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from ..exceptions import AuthError

#: Addresses with failures remembered at once; the oldest are forgotten first (a flood of
#: spoofed addresses cannot grow memory without bound).
MAX_TRACKED = 10_000
#: Where the host's way out is documented (``camera-runtime security unlock``).
RECOVERY_HINT = "the device's owner can lift it on the host with 'camera-runtime security unlock'"


class LoginLockedError(AuthError):
    """The client address is locked; ``retry_after`` is in seconds."""

    translation_key_default = "login_locked"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after))
        super().__init__(
            "too many failed logins from this address: locked for "
            f"{self.retry_after} more seconds ({RECOVERY_HINT})"
        )


class LoginFailedError(AuthError):
    """A wrong user name or password; ``attempts_left`` before the address is locked (``None``
    when the lock is switched off, 0 when this failure started the lock)."""

    translation_key_default = "invalid_credentials"

    def __init__(self, attempts_left: int | None, duration: float) -> None:
        self.attempts_left = attempts_left
        minutes = f"{max(1, round(duration / 60))} minute(s)"
        #: What the lock says of this failure, to follow any wording of it ("" when off).
        self.lock_note = ""
        if attempts_left == 0:
            self.lock_note = f"; this address is now locked for {minutes}"
        elif attempts_left is not None:
            self.lock_note = (
                f"; {attempts_left} attempt(s) left before this address is locked for {minutes}"
            )
        super().__init__("wrong user name or password" + self.lock_note)


class LoginLock:
    """Counts failures per address; ``attempts`` failures in a row lock it for ``duration`` s.

    ``reserve`` before checking a password, ``release`` after, with the outcome. ``failure``
    and ``success`` count an outcome without a reservation (a check that cannot overlap
    another, because it never awaits).
    """

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
        self._pending: dict[str, int] = {}  # address -> checks running now
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

    def attempts_left(self, client: str) -> int | None:
        """Password checks ``client`` may still start before the lock (``None``: no lock)."""
        if not self.enabled:
            return None
        if self.remaining(client) > 0:
            return 0
        used = self._failures.get(client, 0) + self._pending.get(client, 0)
        return max(0, self.attempts - used)

    def reserve(self, client: str) -> bool:
        """Take one of ``client``'s attempts for a check about to start: False when all of them
        are running or failed (wait for one to end, then ask again). Raises ``LoginLockedError``
        while the address is locked."""
        self.check(client)
        if not self.enabled:
            return True
        if self.attempts_left(client) == 0:
            return False
        self._pending[client] = self._pending.get(client, 0) + 1
        return True

    def release(self, client: str, failed: bool | None) -> bool:
        """End a reserved check: ``failed`` True (a wrong password), False (the right one) or
        None (no password was judged). True when this failure starts a lock."""
        if self.enabled:
            left = self._pending.get(client, 0) - 1
            if left > 0:
                self._pending[client] = left
            else:
                self._pending.pop(client, None)
        if failed is None:
            return False
        if failed:
            return self.failure(client)
        self.success(client)
        return False

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

    def clear(self, client: str | None = None) -> list[str]:
        """Lift the lock and forget the failures of ``client`` (every address when ``None``);
        the addresses that were locked."""
        if client is None:
            lifted = [ip for ip in list(self._locked) if self.remaining(ip) > 0]
            self._locked.clear()
            self._failures.clear()
            return lifted
        lifted = [client] if self.remaining(client) > 0 else []
        self._locked.pop(client, None)
        self._failures.pop(client, None)
        return lifted

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


__all__ = ["RECOVERY_HINT", "LoginFailedError", "LoginLock", "LoginLockedError"]
