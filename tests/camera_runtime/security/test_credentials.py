"""Password primitives: the strength rule, scrypt records, digest secrets."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from camera_runtime.security import Security
from camera_runtime.security.credentials import (
    PASSWORD_RULE,
    check_password,
    digest_ha1,
    hash_password,
    password_problem,
)

from . import PASSWORD


def read(path: Path) -> tuple[int, str]:
    return path.stat().st_mode & 0o777, path.read_text()


@pytest.fixture
def security(tmp_path: Path) -> Security:
    store = Security(tmp_path / "security.json")
    store.load()
    return store


# ---------------------------------------------------------------- the rule and the hashes


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Abcdefg1", True),  # upper, lower, digit
        ("abcdefg1!", True),  # lower, digit, special
        ("ABCDEFG1!", True),  # upper, digit, special
        ("Abcdefgh!", True),  # upper, lower, special
        ("Abcdef1", False),  # 7 characters
        ("abcdefgh1", False),  # two classes
        ("ABCDEFGH", False),
        ("12345678!", False),
        ("", False),
        ("Admin-1234", False),  # contains the user name
        ("Abcdefg1\n", False),  # control character
        ("Aa1!" * 33, False),  # 132 characters
        ("Pässwört1", True),  # non-ASCII letters count as letters
    ],
)
def test_password_rule(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok


def test_rule_message_states_the_rule() -> None:
    assert "8" in PASSWORD_RULE and "three" in PASSWORD_RULE
    assert password_problem("short") == PASSWORD_RULE


def test_scrypt_records() -> None:
    record = hash_password(PASSWORD)
    assert record["scheme"] == "scrypt" and PASSWORD not in json.dumps(record)
    assert check_password(record, PASSWORD)
    assert not check_password(record, PASSWORD + "x")
    assert not check_password(record, "\udc80")  # lone surrogate: False, not an exception
    assert not check_password({"salt": "!!", "hash": "", "n": 1, "r": 1, "p": 1}, PASSWORD)
    assert not check_password({}, PASSWORD)
    assert hash_password(PASSWORD)["salt"] != record["salt"]


def test_digest_ha1_is_h_of_user_realm_password() -> None:
    text = b"Mufasa:http-auth@example.org:Circle of Life"
    assert digest_ha1("MD5", "Mufasa", "Circle of Life", "http-auth@example.org") == (
        hashlib.md5(text).hexdigest()
    )
    assert digest_ha1("SHA-256", "Mufasa", "Circle of Life", "http-auth@example.org") == (
        hashlib.sha256(text).hexdigest()
    )
