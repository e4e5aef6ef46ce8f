"""The illegal login lock (A4): per address, on the monotonic clock, bounded, kept across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from camera_runtime.security import Security
from camera_runtime.security import store as store_module
from camera_runtime.security.login_lock import (
    MAX_TRACKED,
    LoginFailedError,
    LoginLock,
    LoginLockedError,
)

from . import PASSWORD, Clock

# ---------------------------------------------------------------- the illegal login lock


def test_lock_counts_per_address_and_resets_on_success() -> None:
    clock = Clock()
    lock = LoginLock(enabled=True, attempts=3, duration=60.0, clock=clock)
    for _ in range(2):
        assert not lock.failure("a")
    lock.success("a")
    assert not lock.failure("a") and not lock.failure("a")
    assert lock.failure("a")  # third in a row
    with pytest.raises(LoginLockedError) as err:
        lock.check("a")
    assert err.value.retry_after == 60
    lock.check("b")  # another address is not affected
    clock.now += 60.5
    lock.check("a")


def test_disabled_lock_never_locks() -> None:
    lock = LoginLock(enabled=False, attempts=3, duration=60.0)
    assert not any(lock.failure("a") for _ in range(10))
    lock.check("a")


def test_lock_export_restore_keeps_the_time_left_capped() -> None:
    wall = Clock(1_700_000_000.0)
    first = LoginLock(enabled=True, attempts=1, duration=600.0, clock=Clock(), wall_clock=wall)
    first.failure("a")
    exported = first.export()
    wall.now += 100
    second = LoginLock(enabled=True, attempts=1, duration=600.0, clock=Clock(5), wall_clock=wall)
    second.restore(exported)
    assert second.remaining("a") == pytest.approx(500)
    wall.now -= 10_000  # the wall clock stepped back: never longer than the duration
    third = LoginLock(enabled=True, attempts=1, duration=600.0, clock=Clock(5), wall_clock=wall)
    third.restore(exported)
    assert third.remaining("a") == pytest.approx(600)


def test_lock_memory_is_bounded() -> None:
    lock = LoginLock(enabled=True, attempts=5, duration=60.0)
    for i in range(MAX_TRACKED + 100):
        lock.failure(f"10.0.{i // 256}.{i % 256}")
    assert len(lock._failures) == MAX_TRACKED


# ---------------------------------------------------------------- concurrency and attempts left


def test_reserved_attempts_count_before_their_outcome() -> None:
    lock = LoginLock(enabled=True, attempts=3, duration=60.0, clock=Clock())
    assert lock.attempts_left("a") == 3
    assert all(lock.reserve("a") for _ in range(3))
    assert lock.attempts_left("a") == 0
    assert not lock.reserve("a")  # all three are being checked: wait for one
    assert not lock.release("a", failed=None)  # no password judged: the attempt comes back
    assert lock.reserve("a")
    assert not lock.release("a", failed=True)
    assert not lock.release("a", failed=True)
    assert lock.release("a", failed=True)  # the third failure starts the lock
    with pytest.raises(LoginLockedError):
        lock.reserve("a")
    assert lock.attempts_left("a") == 0
    assert lock.attempts_left("b") == 3


def test_a_success_gives_the_attempts_back() -> None:
    lock = LoginLock(enabled=True, attempts=3, duration=60.0, clock=Clock())
    lock.reserve("a")
    lock.release("a", failed=True)
    lock.reserve("a")
    assert lock.attempts_left("a") == 1
    lock.release("a", failed=False)
    assert lock.attempts_left("a") == 3


def test_clear_lifts_locks() -> None:
    lock = LoginLock(enabled=True, attempts=1, duration=60.0, clock=Clock())
    lock.failure("a")
    lock.failure("b")
    assert lock.clear("a") == ["a"]
    lock.check("a")
    with pytest.raises(LoginLockedError):
        lock.check("b")
    assert lock.clear() == ["b"]
    lock.check("b")
    assert lock.clear("c") == []


async def test_concurrent_guesses_try_at_most_the_allowed_passwords(
    security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #11, item 1: 40 wrong passwords at once from one address: the store checks at
    most ``attempts`` of them; the others find the address locked."""
    await security.activate(PASSWORD)
    checked = 0
    real = store_module.check_password

    def counting(record: Mapping[str, Any], password: str) -> bool:
        nonlocal checked
        checked += 1
        return real(record, password)

    monkeypatch.setattr(store_module, "check_password", counting)
    results = await asyncio.gather(
        *(security.verify_password("admin", f"Wr0ng-Passw0rd-{i}", "192.0.2.7") for i in range(40)),
        return_exceptions=True,
    )
    attempts = security.lock.attempts
    assert checked == attempts
    failed = [r for r in results if isinstance(r, LoginFailedError)]
    assert len(failed) == attempts
    assert sorted(r.attempts_left for r in failed) == [0] * attempts  # all counted at once
    assert sum(isinstance(r, LoginLockedError) for r in results) == 40 - attempts
    # The right password is refused too, without a check.
    with pytest.raises(LoginLockedError):
        await security.verify_password("admin", PASSWORD, "192.0.2.7")
    assert checked == attempts
    # Another address is not affected.
    assert (await security.verify_password("admin", PASSWORD, "192.0.2.8")).name == "admin"


async def test_wrong_password_says_how_many_attempts_are_left(security: Security) -> None:
    await security.activate(PASSWORD)
    lefts = []
    for _ in range(security.lock.attempts):
        with pytest.raises(LoginFailedError) as err:
            await security.verify_password("admin", "Wr0ng-Passw0rd", "192.0.2.9")
        lefts.append(err.value.attempts_left)
        assert "wrong user name or password" in err.value.message
    assert lefts == [4, 3, 2, 1, 0]
    assert "now locked for 30 minute(s)" in err.value.message
    with pytest.raises(LoginLockedError) as locked:
        await security.verify_password("admin", PASSWORD, "192.0.2.9")
    assert "camera-runtime security unlock" in locked.value.message
