"""Users and credentials: activation, the password rule, scrypt hashes, digest secrets, API tokens,
browser sessions and the illegal-login lock (manual 2, 2.3.3, 9.14, 9.16).

Protocol-free on purpose: the HTTP API (and later RTSP/ONVIF) call these methods; nothing here
knows about headers. State lives in ``<data_dir>/security.json`` (mode 0600, atomic replace).
Secrets are never logged; the audit logger ``camera_runtime.security.audit`` says who did what.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ..buses import Bus
from ..data_folder import private_folder, write_private
from ..exceptions import (
    AuthError,
    CameraRuntimeError,
    NotActivatedError,
    NotFoundError,
    StorageError,
)
from .credentials import (
    ADMIN,
    DIGEST_HASHES,
    PASSWORD_RULE,
    REALM,
    Level,
    WeakPasswordError,
    check_password,
    digest_ha1,
    dummy_record,
    hash_password,
    password_problem,
)
from .login_lock import LoginFailedError, LoginLock, LoginLockedError
from .sessions import SessionStore
from .stream_access import SESSION_URL_LIFETIME, StreamGrant, derive_key
from .stream_access import read as read_grant
from .stream_access import sign as sign_grant
from .stream_access import verify as verify_grant

_LOGGER = logging.getLogger(__name__)
AUDIT = logging.getLogger("camera_runtime.security.audit")

SECURITY_FILE = "security.json"
MAX_TOKENS = 64
#: What a token name must not contain: control characters (C0, DEL, C1).
TOKEN_NAME_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f]")
TOKEN_PREFIX = "crt_"


class AlreadyActivatedError(CameraRuntimeError):
    """Activation happens once; afterwards the password is changed with the old one."""

    translation_key_default = "already_activated"


@dataclass
class User:
    name: str
    level: Level
    password: dict[str, Any]
    #: algorithm -> HA1. Password-equivalent for this realm (the price of digest auth), hence
    #: the 0600 file; the scrypt record is what logins and basic auth check.
    digest: dict[str, str]


@dataclass(frozen=True, slots=True)
class Revocation:
    """Credentials that stopped being valid: ``kind`` "token" (``value`` the token id) or
    "user" (``value`` the user name: a password change or reset ends what the old one opened).
    Open connections (the events WebSocket) listen so that they end too."""

    kind: str
    value: str


@dataclass(frozen=True)
class ApiToken:
    id: str
    name: str
    user: str
    hash: str  # sha256 of the token: the token itself has 256 random bits, a slow hash adds nothing
    created: float

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "user": self.user, "created": self.created}


@dataclass
class _State:
    realm: str = REALM
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, ApiToken] = field(default_factory=dict)  # by hash


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode(errors="surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class IllegalLogin:
    """A checked login that failed (the manual's "illegal login": an incorrect user name or
    password). ``user`` is what the client sent, cut to 64 characters; ``locked`` says the
    failure locked the address out."""

    client: str
    user: str
    attempts_left: int | None
    locked: bool


class Security:
    """The credential store and login protection of one runtime.

    Call ``load()`` (blocking; hosts run it in an executor) before use. Mutations happen on the
    event loop and are saved in order by ``_save``. Slow hashing runs on a two-thread pool, so
    a flood of wrong passwords costs at most two cores' worth of scrypt and never the loop.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_enabled: bool = True,
        lock_attempts: int = 5,
        lock_duration: float = 30 * 60.0,
        session_timeout: float = 15 * 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.lock = LoginLock(
            enabled=lock_enabled,
            attempts=lock_attempts,
            duration=lock_duration,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._state = _State()
        self._loaded = False
        self.sessions = SessionStore(session_timeout, clock=clock)
        self.revocations: Bus[Revocation] = Bus("revocations")
        #: Every failed password check, for the ``illegal_login`` exception event. Bounded by
        #: the login lock: a locked address is refused before any check.
        self.illegal_logins: Bus[IllegalLogin] = Bus("illegal_logins")
        self._verified: OrderedDict[bytes, str] = OrderedDict()  # keyed MACs of good passwords
        self._cache_key = secrets.token_bytes(32)
        # Checked for unknown users, so they cost the same scrypt run as a wrong password.
        self._dummy = dummy_record()
        self._pool: ThreadPoolExecutor | None = None
        self._write_lock = asyncio.Lock()
        self._activate_lock = asyncio.Lock()
        # Set (and replaced) whenever a password check ends: checks waiting for a free attempt
        # of their address look again.
        self._attempt_ended = asyncio.Event()

    @classmethod
    def from_config(cls, data_dir: Path, security: Mapping[str, Any]) -> Security:
        """From the validated ``security:`` section (minutes in the config, seconds here)."""
        lock = security["illegal_login_lock"]
        return cls(
            Path(data_dir) / SECURITY_FILE,
            lock_enabled=lock["enabled"],
            lock_attempts=lock["attempts"],
            lock_duration=lock["duration"] * 60.0,
            session_timeout=security["session_timeout"] * 60.0,
        )

    # ------------------------------------------------------------ persistence

    def load(self) -> None:
        """Read the state file; a missing file means "not activated". A damaged one stops the
        start (fail closed: never fall back to an unactivated, open device)."""
        if self._loaded:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self._state = _State(
                realm=str(raw.get("realm", REALM)),
                users={
                    name: User(name, Level(u["level"]), dict(u["password"]), dict(u["digest"]))
                    for name, u in raw.get("users", {}).items()
                },
                tokens={t["hash"]: ApiToken(**t) for t in raw.get("tokens", [])},
            )
            self.lock.restore(raw.get("locks", {}))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
            raise StorageError(
                f"{self.path} is damaged ({type(err).__name__}); restore it from a backup or "
                "remove it to activate the device again"
            ) from None
        self._loaded = True

    def _snapshot(self) -> bytes:
        state = self._state
        data = {
            "version": 1,
            "realm": state.realm,
            "users": {
                u.name: {"level": u.level.value, "password": u.password, "digest": u.digest}
                for u in state.users.values()
            },
            "tokens": [dataclasses.asdict(t) for t in state.tokens.values()],
            "locks": self.lock.export(),
        }
        return json.dumps(data, indent=1).encode()

    def _write(self, data: bytes) -> None:
        private_folder(self.path.parent)
        write_private(self.path, data)

    async def _save(self) -> None:
        """Write the current state; writes are serialised, so the file ends as the last state."""
        data = self._snapshot()
        async with self._write_lock:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self._write, data)
            except OSError as err:
                # Said to API clients: the file's name, not where the data folder lives.
                _LOGGER.error("cannot save %s: %s", self.path, err)
                raise StorageError(
                    f"cannot save the accounts ({self.path.name}): {err.strerror or err}"
                ) from err

    def _hash_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")
        return self._pool

    def close(self) -> None:
        """Release the hashing threads (a later call recreates them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # ------------------------------------------------------------ activation and passwords

    @property
    def activated(self) -> bool:
        return ADMIN in self._state.users

    @property
    def realm(self) -> str:
        return self._state.realm

    def user(self, name: str) -> User | None:
        return self._state.users.get(name)

    async def _hash(self, username: str, password: str) -> tuple[dict[str, Any], dict[str, str]]:
        loop = asyncio.get_running_loop()
        record = await loop.run_in_executor(self._hash_pool(), hash_password, password)
        ha1 = {alg: digest_ha1(alg, username, password, self.realm) for alg in DIGEST_HASHES}
        return record, ha1

    async def activate(self, password: str) -> None:
        """Set the first admin password (manual 2.2). Only once; the rule applies."""
        await self._set_admin(password, first=True)
        AUDIT.info("device activated: password set for %r", ADMIN)

    async def set_admin_password(self, password: str) -> None:
        """The host (CLI ``demo``, an installer) sets the admin password directly: activation,
        or a reset without the old password. The rule applies; every admin session ends."""
        await self._set_admin(password, first=False)
        self._verified.clear()
        self.end_sessions(ADMIN)
        AUDIT.info("admin password set by the host")

    async def _set_admin(self, password: str, *, first: bool) -> None:
        async with self._activate_lock:
            if first and self.activated:
                raise AlreadyActivatedError("the device is already activated")
            problem = password_problem(password, ADMIN)
            if problem:
                raise WeakPasswordError(problem)
            record, ha1 = await self._hash(ADMIN, password)
            previous = self._state.users.get(ADMIN)
            self._state.users[ADMIN] = User(ADMIN, Level.ADMINISTRATOR, record, ha1)
            try:
                await self._save()
            except StorageError:
                if previous is None:
                    del self._state.users[ADMIN]
                else:
                    self._state.users[ADMIN] = previous
                raise

    def _cache_mac(self, username: str, password: str) -> bytes:
        data = f"{username}\0{password}".encode(errors="surrogatepass")
        return hmac.digest(self._cache_key, data, "sha256")

    async def verify_password(self, username: str, password: str, client: str) -> User:
        """Check a user name and password from ``client`` (an IP address).

        Raises ``LoginLockedError`` while the client is locked, even for the right password, and
        ``LoginFailedError`` (an ``AuthError`` saying how many attempts are left) otherwise. An
        unknown user costs the same scrypt run as a wrong password, so timing does not tell
        which user names exist. Successful checks are remembered (by a keyed MAC, never the
        password) so basic-auth clients do not pay scrypt per request.
        """
        if not self.activated:
            raise NotActivatedError("the device is not activated")
        self.lock.check(client)
        user = self._state.users.get(username)
        mac = self._cache_mac(username, password)
        if user is not None and password and self._verified.get(mac) == username:
            self._verified.move_to_end(mac)
            self.lock.success(client)
            return user
        record = user.password if user is not None else self._dummy
        await self.begin_attempt(client)
        ok = False
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._hash_pool(), check_password, record, password)
            ok = ok and user is not None and bool(password)
        finally:
            # Cancelled or failed, the password may have been tried: it counts as a failure.
            started_lock = self._release_attempt(client, failed=not ok)
        if not ok or user is None:
            await self._failed(client, username, started_lock)
        self._verified[mac] = username
        while len(self._verified) > 64:
            self._verified.popitem(last=False)
        return user

    async def begin_attempt(self, client: str) -> None:
        """Reserve one of ``client``'s login attempts before checking a password (every scheme
        does, so concurrent guesses cannot overtake the lock); waits while all of them are
        being checked. Raises ``LoginLockedError`` when the address is (or becomes) locked.
        End it with ``end_attempt``."""
        while not self.lock.reserve(client):
            await self._attempt_ended.wait()

    async def end_attempt(self, client: str, username: str, ok: bool | None) -> None:
        """Settle a reserved attempt: ``ok`` True (right password), False (wrong: counted,
        audited; raises ``LoginFailedError``) or None (no password was judged)."""
        started_lock = self._release_attempt(client, None if ok is None else not ok)
        if ok is False:
            await self._failed(client, username, started_lock)

    def _release_attempt(self, client: str, failed: bool | None) -> bool:
        started_lock = self.lock.release(client, failed)
        ended, self._attempt_ended = self._attempt_ended, asyncio.Event()
        ended.set()
        return started_lock

    async def _failed(self, client: str, username: str, started_lock: bool) -> NoReturn:
        """Audit a failed login (and the lock it started, which is saved), then raise."""
        AUDIT.warning("failed login for %r from %s", username[:64], client)
        attempts_left = self.lock.attempts_left(client)
        self.illegal_logins.publish(
            IllegalLogin(client, username[:64], attempts_left, started_lock)
        )
        if started_lock:
            AUDIT.warning("illegal login lock: %s locked for %.0f s", client, self.lock.duration)
            await self._save()
        raise LoginFailedError(attempts_left, self.lock.duration)

    async def clear_locks(self, client: str | None = None, *, by: str = "the host") -> list[str]:
        """Lift the illegal login lock of ``client`` (every address when ``None``) and forget
        its failures; saved and audited. Returns the addresses that were locked."""
        lifted = self.lock.clear(client)
        await self._save()
        which = client if client is not None else "every address"
        AUDIT.warning(
            "illegal login lock lifted for %s by %s (%d lock(s) lifted)", which, by, len(lifted)
        )
        return lifted

    async def change_password(self, username: str, old: str, new: str, client: str) -> None:
        """Manual 9.16.1: the old password is required; every session of the user ends."""
        user = await self.verify_password(username, old, client)
        problem = password_problem(new, username)
        if problem:
            raise WeakPasswordError(problem)
        if new == old:
            raise WeakPasswordError("the new password must differ from the old one")
        record, ha1 = await self._hash(username, new)
        previous = (user.password, user.digest)
        user.password, user.digest = record, ha1
        try:
            await self._save()
        except StorageError:
            user.password, user.digest = previous
            raise
        self._verified.clear()
        self.end_sessions(username)
        AUDIT.info("password changed for %r from %s", username, client)

    def digest_secret(self, username: str, algorithm: str) -> str | None:
        """The HA1 of ``username`` for ``algorithm``, or ``None`` (unknown user)."""
        user = self._state.users.get(username)
        return user.digest.get(algorithm) if user is not None else None

    # ------------------------------------------------------------ browser sessions

    def create_session(self, user: User) -> str:
        """A new session id for the cookie."""
        return self.sessions.create(user.name)

    def session_user(self, session_id: str) -> User | None:
        """The user of a live session, refreshing its idle timer (manual 9.14.7)."""
        name = self.sessions.user(session_id)
        return self._state.users.get(name) if name is not None else None

    def end_session(self, session_id: str) -> None:
        self.sessions.end(session_id)

    def end_sessions(self, username: str) -> None:
        self.sessions.end_user(username)
        self.revocations.publish(Revocation("user", username))

    # ------------------------------------------------------------ API tokens

    async def create_token(self, name: str, user: User) -> tuple[ApiToken, str]:
        """A new token for programs; the secret is returned once and stored only hashed."""
        unsafe = TOKEN_NAME_UNSAFE.search(name)  # before strip(): NEL and \x1c-\x1f are spaces
        name = name.strip()
        if unsafe or not 1 <= len(name) <= 64:
            raise CameraRuntimeError(
                "a token name is 1 to 64 characters, not blank, without control characters",
                "bad_name",
            )
        if len(self._state.tokens) >= MAX_TOKENS:
            raise CameraRuntimeError(f"at most {MAX_TOKENS} tokens; delete one first", "too_many")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(secrets.token_hex(8), name, user.name, _token_hash(secret), time.time())
        self._state.tokens[token.hash] = token
        await self._save()
        AUDIT.info("API token %s (%r) created by %r", token.id, name, user.name)
        return token, secret

    def tokens(self) -> list[ApiToken]:
        return sorted(self._state.tokens.values(), key=lambda t: t.created)

    async def delete_token(self, token_id: str, *, by: str = "the host") -> None:
        """Delete a token; ``by`` says who, for the audit log."""
        for key, token in list(self._state.tokens.items()):
            if token.id == token_id:
                del self._state.tokens[key]
                try:
                    await self._save()
                except StorageError:
                    self._state.tokens[key] = token
                    raise
                AUDIT.info(
                    "API token %s (%r of %r) deleted by %s", token_id, token.name, token.user, by
                )
                self.revocations.publish(Revocation("token", token_id))
                return
        raise NotFoundError(f"no token {token_id!r}", "token_not_found")

    def token(self, secret: str) -> ApiToken | None:
        return self._state.tokens.get(_token_hash(secret))

    def token_exists(self, token_id: str) -> bool:
        return any(t.id == token_id for t in self._state.tokens.values())

    def stream_url_access(
        self, user: User, channel: str, role: str, token_id: str | None, now: float
    ) -> str:
        """A signed grant to watch one stream (``stream_access``): for ``token_id``'s life, or
        ``SESSION_URL_LIFETIME`` from ``now`` when no API token asked for it."""
        expires = None if token_id is not None else now + SESSION_URL_LIFETIME
        grant = StreamGrant(channel, role, user.name, token_id, expires)
        return sign_grant(grant, derive_key(user.password))

    def check_stream_access(
        self, value: str, channel: str, role: str, now: float
    ) -> tuple[User, StreamGrant]:
        """The user a stream URL's grant was given to, and the grant, if it is still good
        (``AuthError``)."""
        user = self.user(read_grant(value).user)
        if user is None:
            raise AuthError("invalid stream access")
        grant = verify_grant(value, derive_key(user.password), channel=channel, role=role, now=now)
        if grant.token_id is not None and not self.token_exists(grant.token_id):
            raise AuthError("the API token this stream URL was given to was deleted")
        return user, grant

    def token_user(self, secret: str) -> User | None:
        token = self.token(secret)
        return self._state.users.get(token.user) if token is not None else None


__all__ = [
    "ADMIN",
    "PASSWORD_RULE",
    "REALM",
    "AlreadyActivatedError",
    "ApiToken",
    "IllegalLogin",
    "Level",
    "LoginFailedError",
    "LoginLock",
    "LoginLockedError",
    "Revocation",
    "Security",
    "User",
    "WeakPasswordError",
    "check_password",
    "digest_ha1",
    "hash_password",
    "password_problem",
]
