"""Who is calling: the auth middleware, route policies, and the four ways to authenticate.

Every route declares a policy when it is added (``add_route``): ``public`` (health, activation,
login, the web UI's files) or the lowest user level allowed. A route without a declared policy
(e.g. added by a plugin's ``extend_api``) needs an administrator: the default fails closed.

Credentials come only from headers and the session cookie, never from the URL (test plan A3):
- ``Authorization: Digest`` (RFC 7616; SHA-256/SHA-512-256 and/or MD5, manual 9.14.1);
- ``Authorization: Basic`` only with ``web_authentication: digest/basic`` and only over HTTPS or
  from loopback, never with an empty password;
- ``Authorization: Bearer <API token>`` for programs;
- the ``camera_runtime_session`` cookie from ``POST /api/login`` for browsers; a state-changing
  request or WebSocket riding on the cookie needs an ``Origin``/``Referer`` of this host (A7).
Password checks (digest, basic, login) go through the illegal login lock, per client address:
the transport's peer, never ``X-Forwarded-For``. Each check reserves one of the address's
attempts before it runs, so concurrent guesses cannot overtake the lock; a 401 for a wrong
password says how many attempts are left (``attempts_left``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from yarl import URL

from ..exceptions import AuthError, NotActivatedError
from ..logsafe import escape
from ..security import Revocation, Security, User
from ..security.credentials import Level
from ..security.login_lock import LoginFailedError
from ..security.store import AUDIT
from .connections import mark_authenticated
from .digest import ALGORITHMS, DigestAuth, Outcome
from .errors import ApiError

SESSION_COOKIE = "camera_runtime_session"
#: Where a request keeps its ``Identity``: a typed ``web.RequestKey`` where aiohttp has them
#: (3.12 and later warn about plain string keys), else the string.
IDENTITY: Any = (
    web.RequestKey("camera_runtime.identity", object)  # type: ignore[attr-defined,unused-ignore]
    if hasattr(web, "RequestKey")
    else "camera_runtime.identity"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Browser fetches (``Sec-Fetch-Mode``) get no challenge, so a 401 shows the web UI's own sign-in
#: form rather than the browser's password dialog.
_SCRIPTED_FETCH = frozenset({"cors", "same-origin", "no-cors", "websocket"})


class Policy(StrEnum):
    """Who may call a route: anyone, or users of at least this level."""

    PUBLIC = "public"
    #: A user, or a stream URL's grant for the route's ``channel_id`` and ``role``
    #: (``security.stream_access``): the one place a URL parameter opens anything.
    STREAM = "stream"
    USER = "user"
    OPERATOR = "operator"
    ADMINISTRATOR = "administrator"


@dataclass(frozen=True)
class Identity:
    """The authenticated caller of a request: ``request[IDENTITY]``."""

    user: User
    method: str  # "digest", "basic", "token", "session" or "stream_url"
    session: str | None = None
    token_id: str | None = None

    def revoked_by(self, revocation: Revocation) -> bool:
        """Whether ``revocation`` ends what this identity opened: its token was deleted, or
        (for passwords and sessions; tokens outlive a password change) its user's password
        changed."""
        if revocation.kind == "token":
            return self.token_id == revocation.value
        return self.method != "token" and self.user.name == revocation.value


class HttpAuth:
    """The HTTP side of authentication for one app: config switches and the digest authority."""

    def __init__(self, security: Security, api: Mapping[str, Any]) -> None:
        self.security = security
        self.digest = DigestAuth(
            security.realm, ALGORITHMS[api["web_digest_algorithm"]], security.digest_secret
        )
        self.basic_enabled = api["web_authentication"] == "digest/basic"

    # ------------------------------------------------------------ challenges

    def basic_allowed(self, request: web.BaseRequest) -> bool:
        return self.basic_enabled and (request.secure or is_loopback(request.remote))

    def unauthorized(
        self, request: web.BaseRequest, message: str, *, stale: bool = False, **extra: Any
    ) -> ApiError:
        headers: list[tuple[str, str]] = []
        if wants_challenge(request):
            self.digest.realm = self.security.realm
            headers = [(hdrs.WWW_AUTHENTICATE, c) for c in self.digest.challenges(stale=stale)]
            if self.basic_allowed(request):
                headers.append(
                    (hdrs.WWW_AUTHENTICATE, f'Basic realm="{self.security.realm}", charset="UTF-8"')
                )
        return ApiError(401, "unauthorized", message, headers=headers, **extra)

    # ------------------------------------------------------------ authentication

    async def authenticate(self, request: web.Request) -> Identity:
        """The caller's identity; raises ``ApiError`` (401/403) or ``LoginLockedError``."""
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            scheme, value = scheme.lower(), value.strip()
            if scheme == "digest":
                return await self._digest(request, value)
            if scheme == "basic":
                return await self._basic(request, value)
            if scheme == "bearer":
                token = self.security.token(value)
                user = self.security.user(token.user) if token is not None else None
                if token is None or user is None:
                    raise self.unauthorized(request, "unknown or deleted API token")
                return Identity(user, "token", token_id=token.id)
            raise self.unauthorized(request, "unsupported authorization scheme")
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            # Credentials first (a dead session is 401), then the origin (a live one used
            # from another site is 403): a refusal never depends on more than it must.
            user = self.security.session_user(session_id)
            if user is None:
                raise self.unauthorized(request, "the session has ended; sign in again")
            if (request.method not in SAFE_METHODS or is_websocket(request)) and not same_origin(
                request
            ):
                raise ApiError(
                    403, "cross_origin", "request refused: its Origin is not this device"
                )
            return Identity(user, "session", session_id)
        raise self.unauthorized(request, "authentication required")

    async def _digest(self, request: web.Request, value: str) -> Identity:
        client = request.remote or ""
        self.digest.realm = self.security.realm
        await self.security.begin_attempt(client)
        try:
            result = self.digest.verify(value, request.method, request.raw_path)
        except BaseException:
            await self.security.end_attempt(client, "", None)
            raise
        user = self.security.user(result.username) if result.outcome is Outcome.OK else None
        if user is not None:
            await self.security.end_attempt(client, result.username, True)
            return Identity(user, "digest")
        if result.outcome in (Outcome.OK, Outcome.FAILED):  # OK for a user deleted meanwhile
            try:
                await self.security.end_attempt(client, result.username, False)
            except LoginFailedError as err:
                raise self.unauthorized(
                    request, err.message, attempts_left=err.attempts_left
                ) from None
        await self.security.end_attempt(client, result.username, None)
        if result.outcome is Outcome.STALE:
            raise self.unauthorized(request, "the nonce is stale; retry", stale=True)
        raise self.unauthorized(request, f"digest refused: {result.reason}")

    async def _basic(self, request: web.Request, value: str) -> Identity:
        if not self.basic_allowed(request):
            raise self.unauthorized(
                request, "basic authentication is allowed only over HTTPS or loopback; use digest"
            )
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise self.unauthorized(request, "malformed basic credentials") from None
        username, colon, password = decoded.partition(":")
        if not colon or not password:
            raise self.unauthorized(request, "a password is required")
        try:
            user = await self.security.verify_password(username, password, request.remote or "")
        except LoginFailedError as err:
            raise self.unauthorized(request, err.message, attempts_left=err.attempts_left) from None
        return Identity(user, "basic")


# ---------------------------------------------------------------- request helpers


def is_loopback(remote: str | None) -> bool:
    """The peer address is loopback (127/8, ::1, or v4-mapped 127/8)."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_websocket(request: web.BaseRequest) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def wants_challenge(request: web.BaseRequest) -> bool:
    """Send ``WWW-Authenticate`` to programs and page loads, not to the web UI's scripts."""
    if request.headers.get("Sec-Fetch-Mode", "").lower() in _SCRIPTED_FETCH:
        return False
    return "X-Requested-With" not in request.headers and SESSION_COOKIE not in request.cookies


def same_origin(request: web.BaseRequest) -> bool:
    """``Origin`` (else ``Referer``) names the host the request was sent to.

    Ports are compared as the browser saw them (the origin's scheme decides the default port),
    so a TLS-terminating proxy in front does not break the check.
    """
    origin = request.headers.get(hdrs.ORIGIN) or request.headers.get(hdrs.REFERER)
    if not origin or origin == "null":
        return False
    try:
        url = URL(origin)
        host = URL(f"{url.scheme}://{request.host}")
    except ValueError:
        return False
    if url.scheme not in ("http", "https") or not url.host or not host.host:
        return False
    return (url.host.lower(), url.port) == (host.host.lower(), host.port)


def identity(request: web.Request) -> Identity:
    """The caller of an authenticated route (set by the auth middleware)."""
    return cast(Identity, request[IDENTITY])


def audit(request: web.Request, action: str, *args: object) -> None:
    """Write ``action % args`` to the audit log with who did it, how and from where (test plan
    F2). Values from the request go in ``args`` formatted with ``%r``, never into ``action``.
    Changes are normal operations: logged at INFO (failed logins and locks are warnings)."""
    caller = identity(request)
    AUDIT.info(
        f"{action} by %r ({caller.method}) from %s",
        *args,
        caller.user.name,
        escape(request.remote),
    )


# ---------------------------------------------------------------- policies and middleware

ROUTE_POLICIES = web.AppKey("camera_runtime.route_policies", dict[tuple[str, str], Policy])
HTTP_AUTH = web.AppKey("camera_runtime.http_auth", HttpAuth)


def add_route(
    app: web.Application, method: str, path: str, handler: Handler, policy: Policy
) -> web.AbstractRoute:
    """Add a route with its policy (plugins may use this in ``extend_api`` too)."""
    route = app.router.add_route(method, path, handler)
    app[ROUTE_POLICIES][(method, route.resource.canonical if route.resource else path)] = policy
    return route


def route_policy(app: web.Application, route: web.AbstractRoute) -> Policy | None:
    """The declared policy of a route (``HEAD`` shares its ``GET``'s), ``None`` if undeclared."""
    if route.resource is None:
        return None
    method = "GET" if route.method == "HEAD" else route.method
    return app[ROUTE_POLICIES].get((method, route.resource.canonical))


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Second middleware (inside the error middleware, so every refusal is JSON)."""
    if request.match_info.http_exception is not None:
        return await handler(request)  # no such route: the error middleware answers 404/405
    policy = route_policy(request.app, request.match_info.route) or Policy.ADMINISTRATOR
    if policy is Policy.PUBLIC:
        return await handler(request)
    auth = request.app[HTTP_AUTH]
    if not auth.security.activated:
        raise NotActivatedError("the device is not activated")
    if policy is Policy.STREAM and STREAM_ACCESS in request.query:
        caller = stream_url_caller(request, auth.security)
        policy = Policy.USER
    else:
        caller = await auth.authenticate(request)
        policy = Policy.USER if policy is Policy.STREAM else policy
    mark_authenticated(request)  # this connection no longer counts as a stranger's
    if caller.user.level.rank < Level(policy.value).rank:
        raise ApiError(403, "forbidden", f"this needs the {policy.value} level")
    request[IDENTITY] = caller
    return await handler(request)


#: The query parameter of a stream URL's grant.
STREAM_ACCESS = "access"


def stream_url_caller(request: web.Request, security: Security) -> Identity:
    """The caller of a stream URL; refused like any missing credentials (401, no challenge:
    the URL is all such a client has)."""
    info = request.match_info
    try:
        user, grant = security.check_stream_access(
            request.query[STREAM_ACCESS], info["channel_id"], info["role"], time.time()
        )
    except AuthError as err:
        raise ApiError(401, "unauthorized", err.message) from None
    # Deleting the token it was given to ends an open stream too.
    return Identity(user, "stream_url", token_id=grant.token_id)


def setup_auth(app: web.Application, security: Security, api: Mapping[str, Any]) -> None:
    app[HTTP_AUTH] = HttpAuth(security, api)
    app.setdefault(ROUTE_POLICIES, {})


__all__ = [
    "HTTP_AUTH",
    "IDENTITY",
    "ROUTE_POLICIES",
    "SESSION_COOKIE",
    "STREAM_ACCESS",
    "HttpAuth",
    "Identity",
    "Policy",
    "add_route",
    "audit",
    "auth_middleware",
    "identity",
    "is_loopback",
    "route_policy",
    "same_origin",
    "setup_auth",
    "stream_url_caller",
]
