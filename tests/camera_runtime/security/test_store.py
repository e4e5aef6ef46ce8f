"""The credential store without HTTP: activation and its file, users, tokens, timing of unknown
users (A5), no secrets logged."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from camera_runtime.exceptions import AuthError, NotActivatedError, NotFoundError, StorageError
from camera_runtime.security import AlreadyActivatedError, Security
from camera_runtime.security import store as security_module
from camera_runtime.security.credentials import (
    WeakPasswordError,
    digest_ha1,
)

from . import NEW_PASSWORD, PASSWORD


def read(path: Path) -> tuple[int, str]:
    return path.stat().st_mode & 0o777, path.read_text()


# ---------------------------------------------------------------- activation and the file


async def test_not_activated_until_activate(security: Security) -> None:
    assert not security.activated
    with pytest.raises(NotActivatedError):
        await security.verify_password("admin", PASSWORD, "127.0.0.1")
    with pytest.raises(WeakPasswordError):
        await security.activate("weak")
    assert not security.activated
    await security.activate(PASSWORD)
    assert security.activated
    with pytest.raises(AlreadyActivatedError):
        await security.activate(NEW_PASSWORD)
    user = await security.verify_password("admin", PASSWORD, "127.0.0.1")
    assert user.level == "administrator"


async def test_state_file_is_private_and_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "security.json"
    first = Security(path)
    first.load()
    await first.activate(PASSWORD)
    _, secret = await first.create_token("ha", first.user("admin"))  # type: ignore[arg-type]
    mode, text = read(path)
    assert mode == 0o600
    assert PASSWORD not in text and secret not in text
    assert not list(path.parent.glob("*.tmp"))
    second = Security(path)
    second.load()
    assert second.activated
    assert (await second.verify_password("admin", PASSWORD, "127.0.0.1")).name == "admin"
    assert second.token_user(secret) is not None
    assert second.digest_secret("admin", "SHA-256") == digest_ha1("SHA-256", "admin", PASSWORD)


def test_damaged_state_file_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "security.json"
    path.write_text("{not json")
    with pytest.raises(StorageError):
        Security(path).load()
    path.write_text(json.dumps({"users": {"admin": {"level": "god"}}}))
    with pytest.raises(StorageError):
        Security(path).load()


async def test_a_failed_save_names_the_file_not_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message reaches API clients (507): it says what failed, not where the data lives."""

    def full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(security_module, "write_private", full)
    with pytest.raises(StorageError) as caught:
        await Security(tmp_path / "hidden-place" / "security.json").activate(PASSWORD)
    assert "security.json" in caught.value.message
    assert "No space left on device" in caught.value.message
    assert "hidden-place" not in caught.value.message


async def test_wrong_and_unknown_users(security: Security) -> None:
    await security.activate(PASSWORD)
    for username, password in (("admin", "Wr0ng-Passw0rd"), ("root", PASSWORD), ("admin", "")):
        with pytest.raises(AuthError):
            await security.verify_password(username, password, f"192.0.2.{len(password)}")


async def test_unknown_user_runs_the_same_hash_as_a_wrong_password(
    security: Security, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A5, the mechanism: an unknown user costs one scrypt run with the same parameters."""
    await security.activate(PASSWORD)
    checked: list[tuple[int, int, int]] = []
    real = security_module.check_password

    def counting(record: Mapping[str, Any], password: str) -> bool:
        checked.append((record["n"], record["r"], record["p"]))
        return real(record, password)

    monkeypatch.setattr(security_module, "check_password", counting)
    for username in ("nobody", "admin"):
        with pytest.raises(AuthError):
            await security.verify_password(username, "Wr0ng-Passw0rd", "192.0.2.1")
    assert len(checked) == 2 and checked[0] == checked[1]


async def test_unknown_user_takes_as_long_as_a_wrong_password(tmp_path: Path) -> None:
    """A5, measured: interleaved samples in random order, medians within 10 %. A real leak
    fails every round; a noisy machine gets three rounds."""
    security = Security(tmp_path / "security.json", lock_enabled=False)
    security.load()
    await security.activate(PASSWORD)
    rng = random.Random(5)
    gaps = []
    for _ in range(3):
        samples: dict[str, list[float]] = {"nobody": [], "admin": []}
        for _ in range(30):
            for username in rng.sample(list(samples), 2):
                started = time.perf_counter()
                with pytest.raises(AuthError):
                    await security.verify_password(username, "Wr0ng-Passw0rd", "192.0.2.1")
                samples[username].append(time.perf_counter() - started)
        unknown, wrong = (statistics.median(samples[k]) for k in ("nobody", "admin"))
        gaps.append(abs(unknown - wrong) / wrong)
        if gaps[-1] < 0.10:
            break
    security.close()
    assert min(gaps) < 0.10, gaps


async def test_password_change_and_host_reset(security: Security) -> None:
    await security.activate(PASSWORD)
    admin = security.user("admin")
    assert admin is not None
    session = security.create_session(admin)
    with pytest.raises(AuthError):
        await security.change_password("admin", "Wr0ng-Passw0rd", NEW_PASSWORD, "127.0.0.1")
    with pytest.raises(WeakPasswordError):
        await security.change_password("admin", PASSWORD, "weak", "127.0.0.1")
    with pytest.raises(WeakPasswordError):
        await security.change_password("admin", PASSWORD, PASSWORD, "127.0.0.1")
    assert security.session_user(session) is not None
    await security.change_password("admin", PASSWORD, NEW_PASSWORD, "127.0.0.1")
    assert security.session_user(session) is None
    with pytest.raises(AuthError):
        await security.verify_password("admin", PASSWORD, "127.0.0.1")
    await security.verify_password("admin", NEW_PASSWORD, "127.0.0.1")
    await security.set_admin_password(PASSWORD)  # the host (CLI demo) resets it
    await security.verify_password("admin", PASSWORD, "127.0.0.1")


async def test_tokens(security: Security) -> None:
    await security.activate(PASSWORD)
    admin = security.user("admin")
    assert admin is not None
    token, secret = await security.create_token(" ha ", admin)
    assert token.name == "ha" and secret.startswith("crt_")
    assert security.token_user(secret) is admin
    assert security.token_user(secret + "x") is None
    assert [t.public() for t in security.tokens()] == [token.public()]
    await security.delete_token(token.id)
    assert security.token_user(secret) is None
    with pytest.raises(NotFoundError):
        await security.delete_token(token.id)


async def test_no_secret_reaches_the_log(
    security: Security, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await security.activate(PASSWORD)
    admin = security.user("admin")
    assert admin is not None
    _, secret = await security.create_token("ha", admin)
    with pytest.raises(AuthError):
        await security.verify_password("admin", "Wr0ng-Passw0rd", "127.0.0.1")
    await security.change_password("admin", PASSWORD, NEW_PASSWORD, "127.0.0.1")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "activated" in logged and "failed login" in logged  # audited...
    for value in (PASSWORD, NEW_PASSWORD, "Wr0ng-Passw0rd", secret):
        assert value not in logged  # ...without a secret


async def test_concurrent_saves_end_with_the_last_state(security: Security) -> None:
    await security.activate(PASSWORD)
    admin = security.user("admin")
    assert admin is not None
    await asyncio.gather(*(security.create_token(f"t{i}", admin) for i in range(10)))
    reloaded = Security(security.path)
    reloaded.load()
    assert len(reloaded.tokens()) == 10


async def test_normal_operations_are_info_and_failures_warnings(
    security: Security, caplog: pytest.LogCaptureFixture
) -> None:
    """Activating or creating a token is what a camera is for: INFO. A wrong password is worth
    a warning."""
    caplog.set_level(logging.INFO, logger="camera_runtime.security.audit")
    await security.activate(PASSWORD)
    user = await security.verify_password("admin", PASSWORD, "127.0.0.1")
    await security.create_token("ha", user)
    with pytest.raises(AuthError):
        await security.verify_password("admin", "Wr0ng-Passw0rd!", "127.0.0.1")
    levels = {r.getMessage().split(":")[0].split(" for ")[0]: r.levelname for r in caplog.records}
    assert levels["device activated"] == "INFO"
    assert any(m.startswith("API token") and lvl == "INFO" for m, lvl in levels.items())
    assert levels["failed login"] == "WARNING"
