"""The illegal login lock (A4): per address, on the monotonic clock, bounded, kept across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from camera_runtime.security import Security
from camera_runtime.security.login_lock import MAX_TRACKED, LoginLock, LoginLockedError

from . import Clock


def read(path: Path) -> tuple[int, str]:
    return path.stat().st_mode & 0o777, path.read_text()


@pytest.fixture
def security(tmp_path: Path) -> Security:
    store = Security(tmp_path / "security.json")
    store.load()
    return store


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
