"""Shared helpers of the security tests: a hand-moved clock, passwords."""

from __future__ import annotations

PASSWORD = "Str0ng-Passw0rd!"
NEW_PASSWORD = "An0ther-Secret?"


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
