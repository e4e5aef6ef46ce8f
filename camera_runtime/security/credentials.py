"""Password primitives: the manual's strength rule, scrypt records, digest secrets, user levels.

Pure functions without state, shared by the credential store (``store.py``) and any protocol
that checks passwords (HTTP today, RTSP and ONVIF later).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import importlib.resources
import secrets
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from ..exceptions import CameraRuntimeError

ADMIN = "admin"
#: Part of every stored digest secret (HA1): changing it would lock every digest client out.
REALM = "camera_runtime"
MIN_PASSWORD, MAX_PASSWORD = 8, 128
PASSWORD_RULE = (
    f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long and contain at least "
    "three of: upper case letters, lower case letters, digits, special characters"
)
#: scrypt cost: about 50 ms and 16 MiB per hash on the reference machine.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_MAXMEM = 64 << 20
#: Digest algorithms a stored HA1 exists for (RFC 7616 names).
DIGEST_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data),
}


class Level(StrEnum):
    """User levels of manual 9.16.1, lowest first."""

    USER = "user"
    OPERATOR = "operator"
    ADMINISTRATOR = "administrator"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class WeakPasswordError(CameraRuntimeError):
    """A new password breaks the strength rule; the message states the rule."""

    translation_key_default = "weak_password"


def password_problem(password: str, username: str = ADMIN) -> str | None:
    """What is wrong with ``password`` under the manual's rule (chapter 2: at least 8
    characters, at least three of four classes), or ``None`` when it is fine."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return PASSWORD_RULE
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return "the password must not contain control characters"
    classes = (
        any(c.isupper() for c in password),
        any(c.islower() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    if sum(classes) < 3:
        return PASSWORD_RULE
    if username and username.lower() in password.lower():
        return "the password must not contain the user name"
    if is_guessable(password):
        return GUESSABLE
    return None


# ---------------------------------------------------------------- guessable passwords

GUESSABLE = (
    "the password is too easy to guess: common passwords (like Passw0rd, Admin1234! or "
    "Summer2024!) and keyboard or sequence patterns (like Qwerty123! or 1qaz2wsx) are refused, "
    "whatever digits and symbols surround them"
)
#: Fewer characters than this outside one common word and any patterns: guessable.
MIN_FREE = 4
#: Keyboard rows and columns (US, German, French) and sequences; read both ways.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "qwertzuiop",
    "azertyuiop",
    "asdfghjkl",
    "qsdfghjklm",
    "zxcvbnm",
    "yxcvbnm",
    "wxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!@#$%^&*()_+",
    "`1234567890-=",
)
_RUNS = _SEQUENCES + tuple(seq[::-1] for seq in _SEQUENCES)
#: The longest piece worth trying: longer runs and repeats are covered by several pieces.
_LONGEST = max(len(seq) for seq in _SEQUENCES)
_EDGES = "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "
#: Leetspeak undone, with both readings of 1.
_LEET = (
    str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
                   "7": "t", "!": "i", "|": "l", "8": "b", "+": "t"}),
    str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
                   "7": "t", "!": "i", "|": "i", "8": "b", "+": "t"}),
)  # fmt: skip


@functools.cache
def common_words() -> frozenset[str]:
    """The common base words shipped with the package (``common_passwords.txt``)."""
    text = importlib.resources.files(__package__).joinpath("common_passwords.txt").read_text()
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _is_run(text: str) -> bool:
    """A piece of a keyboard row or sequence (either way), or one character repeated."""
    return len(set(text)) == 1 or any(text in run for run in _RUNS)


def _free(form: str, words: frozenset[str]) -> int:
    """The fewest characters of ``form`` left once it is covered by runs of three or more
    (``_is_run``) and at most one common word (a passphrase of several words stays fine)."""
    n = len(form)
    inf = n + 1
    # best[used][i]: fewest free characters covering form[:i], with the word used or not.
    best = [[inf] * (n + 1) for _ in range(2)]
    best[0][0] = 0
    for i in range(n + 1):
        for used in (0, 1):
            here = best[used][i]
            if here >= inf or i == n:
                continue
            best[used][i + 1] = min(best[used][i + 1], here + 1)  # a free character
            for j in range(i + 3, min(n, i + _LONGEST) + 1):
                piece = form[i:j]
                if _is_run(piece):
                    best[used][j] = min(best[used][j], here)
                elif not used and piece in words:
                    best[1][j] = min(best[1][j], here)
    return min(best[0][n], best[1][n])


def is_guessable(password: str) -> bool:
    """A common password or a pattern, once lower-cased, stripped of leading and trailing
    digits and symbols, and with leetspeak undone: ``Passw0rd``, ``P@ssw0rd1``,
    ``Qwerty123!``, ``Admin1234!``, ``Summer2024!``, ``1qaz2WSX!``, ``Abc!Abc!``."""
    lowered = password.lower()
    core = lowered.strip(_EDGES)
    words = common_words()
    forms = {lowered, core, *(core.translate(table) for table in _LEET)}
    return any(_free(form, words) < MIN_FREE for form in forms)


def _encode(password: str) -> bytes:
    # Lone surrogates (from JSON "\udc80") must hash, not raise.
    return password.encode("utf-8", errors="surrogatepass")


def hash_password(password: str) -> dict[str, Any]:
    """A salted scrypt record, carrying its parameters so they can change later."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_encode(password), salt=salt, dklen=32, maxmem=_MAXMEM, **SCRYPT)
    return {
        "scheme": "scrypt",
        **SCRYPT,
        "salt": base64.b64encode(salt).decode(),
        "hash": base64.b64encode(digest).decode(),
    }


def dummy_record() -> dict[str, Any]:
    """A record no password matches, with the real parameters (same cost to check)."""
    return {
        "scheme": "scrypt",
        **SCRYPT,
        "salt": base64.b64encode(secrets.token_bytes(16)).decode(),
        "hash": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def check_password(record: Mapping[str, Any], password: str) -> bool:
    """Constant-time check of ``password`` against a ``hash_password`` record (slow, ~50 ms)."""
    try:
        salt = base64.b64decode(record["salt"], validate=True)
        expected = base64.b64decode(record["hash"], validate=True)
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
    except (KeyError, TypeError, ValueError):
        return False
    actual = hashlib.scrypt(_encode(password), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=_MAXMEM)
    return hmac.compare_digest(actual, expected)


def digest_ha1(algorithm: str, username: str, password: str, realm: str = REALM) -> str:
    """RFC 7616 ``H(username:realm:password)``: what digest auth needs instead of the password."""
    return str(DIGEST_HASHES[algorithm](_encode(f"{username}:{realm}:{password}")).hexdigest())


__all__ = [
    "ADMIN",
    "DIGEST_HASHES",
    "GUESSABLE",
    "PASSWORD_RULE",
    "REALM",
    "Level",
    "WeakPasswordError",
    "check_password",
    "digest_ha1",
    "dummy_record",
    "hash_password",
    "is_guessable",
    "password_problem",
]
