"""Password primitives: the strength rule, scrypt records, digest secrets."""

from __future__ import annotations

import hashlib
import json

import pytest

from camera_runtime.cli import generate_password
from camera_runtime.security.credentials import (
    GUESSABLE,
    PASSWORD_RULE,
    check_password,
    common_words,
    digest_ha1,
    hash_password,
    is_guessable,
    password_problem,
)

from . import PASSWORD

# ---------------------------------------------------------------- the rule and the hashes


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Mkvdtrw1", True),  # upper, lower, digit
        ("mkvdtrw1!", True),  # lower, digit, special
        ("MKVDTRW1!", True),  # upper, digit, special
        ("Mkvdtrwq!", True),  # upper, lower, special
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


@pytest.mark.parametrize(
    "password",
    [
        "Passw0rd",
        "P@ssw0rd1",
        "Qwerty123!",
        "Admin1234!",
        "Summer2024!",
        "Welcome1!",
        "Iloveyou2!",
        "MyPassword1!",
        "Camera01!",
        "1qaz2WSX!",
        "Zaq12wsx!",
        "Qwertz12!",
        "Aa123456!",
        "Abc!Abc!",
        "Abcdefg1",
        "Dragon99x",
        "!!Hello!!",
    ],
)
def test_common_and_patterned_passwords_are_refused(password: str) -> None:
    """Issue #11, item 6: common words under leetspeak, digits and symbols, and keyboard or
    sequence patterns, are refused with a message that says why."""
    assert is_guessable(password)
    problem = password_problem(password, "operator")
    assert problem == GUESSABLE
    assert "too easy to guess" in problem


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "An0ther-Secret?",
        "Cam3ra-Runtime!",
        "Correct-Horse-Battery-1",  # several words: a passphrase, not one common word
        "Xk9#mQ2$",
        "Tr0ub4dor&3",
        "Pässwört1",
    ],
)
def test_strong_passwords_are_not_guessable(password: str) -> None:
    assert password_problem(password) is None


def test_generated_passwords_are_never_taken_for_common_ones() -> None:
    assert not any(is_guessable(generate_password()) for _ in range(2000))


def test_the_word_list_ships_with_the_package() -> None:
    words = common_words()
    assert len(words) >= 300
    assert {"password", "admin", "qwerty", "letmein", "camera", "iloveyou"} <= words
    assert all(word.isalpha() and word.islower() for word in words)


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
