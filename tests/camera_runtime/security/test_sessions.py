"""Browser sessions (A6): idle timeout and the cap per user."""

from __future__ import annotations

from camera_runtime.security.sessions import SessionStore

from . import Clock

# ---------------------------------------------------------------- sessions


def test_session_idle_timeout_and_refresh() -> None:
    clock = Clock()
    store = SessionStore(60.0, clock=clock)
    sid = store.create("admin")
    clock.now += 59
    assert store.user(sid) == "admin"
    clock.now += 59
    assert store.user(sid) == "admin"  # refreshed by the previous use
    clock.now += 61
    assert store.user(sid) is None
    assert store.user("forged") is None


def test_session_cap_evicts_the_oldest() -> None:
    store = SessionStore(60.0, max_per_user=2, clock=Clock())
    first, second, third = (store.create("admin") for _ in range(3))
    assert store.user(first) is None
    assert store.user(second) == store.user(third) == "admin"
    store.end_user("admin")
    assert len(store) == 0
