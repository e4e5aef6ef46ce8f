"""HTTP Digest access authentication (RFC 7616): challenges, stateless nonces, nc replay checks.

Nonces carry their issue time and an HMAC under a per-process key, so the server keeps no table
of issued nonces; only nonces a client actually used are remembered, with their last ``nc``, to
refuse replays. That memory is bounded: when an entry is evicted, every nonce issued up to it
becomes stale (the client retries with a fresh one), so eviction can never re-open a replay.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import re
import secrets
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yarl import URL

from ..security.credentials import DIGEST_HASHES

#: Config ``api.web_digest_algorithm`` (manual 9.14.1) -> challenges offered, preferred first.
#: SHA-512-256 rides with SHA-256 (same family, RFC 7616's other algorithm).
ALGORITHMS = {
    "MD5": ("MD5",),
    "SHA256": ("SHA-256", "SHA-512-256"),
    "MD5/SHA256": ("SHA-256", "SHA-512-256", "MD5"),
}
NONCE_LIFETIME = 300.0
MAX_TRACKED_NONCES = 4096
MAX_HEADER = 4096

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*("(?:[^"\\]|\\.)*"|{_TOKEN})\s*(?:,|$)', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_NC = re.compile(r"[0-9a-fA-F]{8}")


class Outcome(enum.Enum):
    OK = "ok"
    #: The password was right but the nonce is expired or not ours: retry (``stale=true``).
    STALE = "stale"
    #: Wrong password (or unknown user): counts towards the illegal login lock.
    FAILED = "failed"
    #: A replayed ``nc``, a ``uri`` for another resource, an algorithm not offered, a malformed
    #: header: refused, but not a password guess.
    INVALID = "invalid"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    username: str = ""
    reason: str = ""


def parse_params(value: str) -> dict[str, str] | None:
    """``k=v, k2="quoted \\" string"`` -> dict; ``None`` for anything malformed or duplicated."""
    if len(value) > MAX_HEADER:
        return None
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while pos < end:
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            return None
        key, raw = match.group(1).lower(), match.group(2)
        if key in params:
            return None
        params[key] = _UNESCAPE.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
        pos = match.end()
    return params


def _hex(algorithm: str, text: str) -> str:
    return str(DIGEST_HASHES[algorithm](text.encode("utf-8", errors="surrogatepass")).hexdigest())


def response_for(
    algorithm: str, ha1: str, nonce: str, nc: str, cnonce: str, qop: str, method: str, uri: str
) -> str:
    """RFC 7616 3.4.1 ``response`` for qop=auth (also what a test client computes)."""
    ha2 = _hex(algorithm, f"{method}:{uri}")
    return _hex(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


class DigestAuth:
    """Issues challenges and checks ``Authorization: Digest`` headers for one realm.

    ``secret(username, algorithm)`` returns the stored HA1 or ``None``; ``dummy`` is used for
    unknown users so they cost the same as known ones.
    """

    def __init__(
        self,
        realm: str,
        algorithms: Sequence[str],
        secret: Callable[[str, str], str | None],
        *,
        lifetime: float = NONCE_LIFETIME,
        max_nonces: int = MAX_TRACKED_NONCES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.realm = realm
        self.algorithms = tuple(algorithms)
        self._secret = secret
        self.lifetime = lifetime
        self._max = max_nonces
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._dummy = secrets.token_hex(32)
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()  # nonce -> (issued, nc)
        self._watermark = float("-inf")

    # ------------------------------------------------------------ nonces

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, "sha256")[:16]

    def new_nonce(self) -> str:
        payload = struct.pack(">d", self._clock()) + secrets.token_bytes(8)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def _issued(self, nonce: str) -> float | None:
        """When we issued ``nonce``, or ``None`` if we did not (forged, or before a restart)."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 32 or not hmac.compare_digest(raw[16:], self._mac(raw[:16])):
            return None
        return float(struct.unpack(">d", raw[:8])[0])

    def challenges(self, *, stale: bool = False) -> list[str]:
        """``WWW-Authenticate`` values, one per algorithm, sharing one nonce (clients that merge
        the headers, like python-requests, then still get a consistent nonce)."""
        nonce = self.new_nonce()
        extra = ", stale=true" if stale else ""
        return [
            f'Digest realm="{self.realm}", qop="auth", algorithm={alg}, nonce="{nonce}", '
            f"charset=UTF-8{extra}"
            for alg in self.algorithms
        ]

    # ------------------------------------------------------------ verification

    def verify(self, value: str, method: str, request_uri: str) -> Result:
        """Check the credentials part of ``Authorization: Digest <value>`` for a request whose
        target (path and query as sent) is ``request_uri``."""
        p = parse_params(value)
        if p is None:
            return Result(Outcome.INVALID, reason="malformed digest header")
        username = p.get("username", "")
        if "username*" in p or p.get("userhash", "false").lower() == "true":
            return Result(Outcome.INVALID, username, "userhash is not supported")
        algorithm = self._algorithm(p.get("algorithm", "MD5"))
        if algorithm is None:
            return Result(Outcome.INVALID, username, "algorithm not offered")
        missing = [
            k for k in ("username", "realm", "nonce", "uri", "response", "cnonce") if k not in p
        ]
        if missing:
            return Result(Outcome.INVALID, username, f"missing {', '.join(missing)}")
        if p.get("qop") != "auth" or not _NC.fullmatch(p.get("nc", "")):
            return Result(Outcome.INVALID, username, "qop=auth with an 8-digit nc is required")
        if int(p["nc"], 16) == 0:  # RFC 7616 3.4: the first request with a nonce sends 00000001
            return Result(Outcome.INVALID, username, "the nonce count starts at 00000001")
        if p["realm"] != self.realm:
            return Result(Outcome.INVALID, username, "wrong realm")
        if not _same_target(p["uri"], request_uri):
            return Result(Outcome.INVALID, username, "uri does not match the request")
        ha1 = self._secret(username, algorithm)
        expected = response_for(
            algorithm,
            ha1 or self._dummy,
            p["nonce"],
            p["nc"],
            p["cnonce"],
            "auth",
            method,
            p["uri"],
        )
        good = hmac.compare_digest(expected.encode(), p["response"].lower().encode())
        if ha1 is None or not good:
            return Result(Outcome.FAILED, username, "wrong user name or password")
        return self._check_nonce(p["nonce"], int(p["nc"], 16), username)

    def _algorithm(self, name: str) -> str | None:
        for alg in self.algorithms:
            if alg.lower() == name.lower():
                return alg
        return None

    def _check_nonce(self, nonce: str, nc: int, username: str) -> Result:
        issued = self._issued(nonce)
        now = self._clock()
        if issued is None or not 0 <= now - issued <= self.lifetime:
            return Result(Outcome.STALE, username, "nonce expired")
        seen = self._seen.get(nonce)
        if seen is None and issued <= self._watermark:
            return Result(Outcome.STALE, username, "nonce forgotten")
        if seen is not None and nc <= seen[1]:
            return Result(Outcome.INVALID, username, "nonce count replayed")
        self._seen[nonce] = (issued, nc)
        self._forget(now)
        return Result(Outcome.OK, username)

    def _forget(self, now: float) -> None:
        # Entries are in first-use order; expired ones are stale anyway and go first.
        for nonce, (issued, _) in list(self._seen.items()):
            if now - issued <= self.lifetime and len(self._seen) <= self._max:
                break
            del self._seen[nonce]
            self._watermark = max(self._watermark, issued)


def _same_target(uri: str, request_uri: str) -> bool:
    """The digest ``uri`` names the request target: the same path and query as sent, or the
    absolute form of it."""
    if uri == request_uri:
        return True
    if uri.startswith(("http://", "https://")):
        try:
            return URL(uri, encoded=True).raw_path_qs == request_uri
        except ValueError:
            return False
    return False


__all__ = ["ALGORITHMS", "DigestAuth", "Outcome", "Result", "parse_params", "response_for"]
