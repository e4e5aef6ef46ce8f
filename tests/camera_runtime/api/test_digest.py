"""RFC 7616 digest on its own: the RFC's own example, header parsing (never raises on garbage),
nonce expiry, replay and the bounded memory of used nonces."""

from __future__ import annotations

import random

import pytest

from camera_runtime.api.digest import DigestAuth, Outcome, parse_params, response_for
from camera_runtime.security.credentials import digest_ha1

from .helpers import FakeClock, digest_authorization

REALM = "camera_runtime"
PASSWORD = "Str0ng-Passw0rd!"


def make(clock: FakeClock | None = None, **kwargs: object) -> DigestAuth:
    def secret(username: str, algorithm: str) -> str | None:
        return digest_ha1(algorithm, "admin", PASSWORD, REALM) if username == "admin" else None

    return DigestAuth(
        REALM, ("SHA-256", "SHA-512-256", "MD5"), secret, clock=clock or FakeClock(), **kwargs
    )


def challenge(auth: DigestAuth, algorithm: str = "SHA-256") -> dict[str, str]:
    return {"nonce": auth.new_nonce(), "realm": REALM, "algorithm": algorithm}


def header(auth_value: str) -> str:
    return auth_value.removeprefix("Digest ")


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_example(algorithm: str, expected: str) -> None:
    """RFC 7616 section 3.9.1, computed by the server's own function."""
    ha1 = digest_ha1(algorithm, "Mufasa", "Circle of Life", "http-auth@example.org")
    response = response_for(
        algorithm,
        ha1,
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "00000001",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "auth",
        "GET",
        "/dir/index.html",
    )
    assert response == expected


def test_parse_params() -> None:
    curl = (
        'username="admin", realm="r", nonce="abc", uri="/x?a=1", cnonce="Y2M=", nc=00000001, '
        'qop=auth, response="98f7", algorithm=SHA-256'
    )
    assert parse_params(curl) == {
        "username": "admin",
        "realm": "r",
        "nonce": "abc",
        "uri": "/x?a=1",
        "cnonce": "Y2M=",
        "nc": "00000001",
        "qop": "auth",
        "response": "98f7",
        "algorithm": "SHA-256",
    }
    assert parse_params(r'username="a\"b", Realm = "x,y"') == {"username": 'a"b', "realm": "x,y"}
    assert parse_params("") == {}
    for bad in (
        'username="open',
        "username",
        "a=b c=d",
        "a=b,,a=c",
        'a="1", a="2"',
        "=x",
        "a=" + "x" * 5000,
    ):
        assert parse_params(bad) is None, bad


def test_garbage_never_raises() -> None:
    rng = random.Random(7616)
    alphabet = 'ab=," \\\t\r\n\x00é\udc80uri=nonce=response=nc=00000001qop=auth'
    auth = make()
    for _ in range(5000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        parse_params(value)
        assert auth.verify(value, "GET", "/x").outcome is not Outcome.OK


@pytest.mark.parametrize("algorithm", ["SHA-256", "SHA-512-256", "MD5", "sha-256"])
def test_verify_ok(algorithm: str) -> None:
    auth = make()
    value = digest_authorization(
        challenge(auth), "GET", "/api/device?a=1", password=PASSWORD, algorithm=algorithm.upper()
    ).replace(f"algorithm={algorithm.upper()}", f"algorithm={algorithm}")
    result = auth.verify(header(value), "GET", "/api/device?a=1")
    assert result.outcome is Outcome.OK
    assert result.username == "admin"


def test_absolute_uri_form_is_the_same_target() -> None:
    auth = make()
    value = digest_authorization(
        challenge(auth), "GET", "http://cam.local:8080/api/x?y=1", password=PASSWORD
    )
    assert auth.verify(header(value), "GET", "/api/x?y=1").outcome is Outcome.OK


def test_outcomes() -> None:
    clock = FakeClock()
    auth = make(clock, lifetime=300.0)
    c = challenge(auth)

    def verify(**kwargs: object) -> Outcome:
        options: dict[str, object] = {"password": PASSWORD, **kwargs}
        uri = str(options.pop("uri", "/x"))
        value = digest_authorization(options.pop("challenge", c), "GET", uri, **options)  # type: ignore[arg-type]
        return auth.verify(header(value), "GET", "/x").outcome

    assert verify(nc=0) is Outcome.INVALID  # nc starts at 00000001
    assert verify(nc=0, password="Wr0ng-Passw0rd") is Outcome.INVALID  # and is not a guess
    assert verify(nc=1) is Outcome.OK
    assert verify(nc=1) is Outcome.INVALID  # replayed nc
    assert verify(nc=2) is Outcome.OK
    assert verify(nc=3, password="Wr0ng-Passw0rd") is Outcome.FAILED
    assert verify(nc=4, username="root") is Outcome.FAILED
    assert verify(nc=5, uri="/y") is Outcome.INVALID
    assert verify(nc=6, realm="other") is Outcome.INVALID
    forged = {**c, "nonce": "A" * 43}
    assert verify(challenge=forged) is Outcome.STALE  # right password, not our nonce
    assert verify(challenge=forged, password="Wr0ng-Passw0rd") is Outcome.FAILED
    clock.advance(301)
    assert verify(nc=7) is Outcome.STALE
    md5_only = DigestAuth(REALM, ("MD5",), lambda u, a: None)
    value = digest_authorization(challenge(md5_only), "GET", "/x", password=PASSWORD)
    assert md5_only.verify(header(value), "GET", "/x").outcome is Outcome.INVALID  # SHA-256


def test_qop_and_userhash_rules() -> None:
    auth = make()
    good = header(digest_authorization(challenge(auth), "GET", "/x", password=PASSWORD))
    assert (
        auth.verify(good.replace("qop=auth", "qop=auth-int"), "GET", "/x").outcome
        is Outcome.INVALID
    )
    assert auth.verify(good.replace("nc=00000001", "nc=1"), "GET", "/x").outcome is Outcome.INVALID
    assert auth.verify(good + ", userhash=true", "GET", "/x").outcome is Outcome.INVALID


def test_forgotten_nonces_become_stale_never_replayable() -> None:
    clock = FakeClock()
    auth = make(clock, max_nonces=2)
    first = challenge(auth)
    clock.advance(1)
    others = [challenge(auth) for _ in range(3)]

    def use(c: dict[str, str], nc: int) -> Outcome:
        value = digest_authorization(c, "GET", "/x", password=PASSWORD, nc=nc)
        return auth.verify(header(value), "GET", "/x").outcome

    assert use(first, 1) is Outcome.OK
    for c in others:
        assert use(c, 1) is Outcome.OK  # pushes ``first`` out of the table
    assert use(first, 1) is Outcome.STALE  # not accepted as new, though it was forgotten
    assert use(others[-1], 1) is Outcome.INVALID  # still remembered: a replay


def test_challenges_share_one_nonce() -> None:
    auth = make()
    values = auth.challenges(stale=True)
    assert len(values) == 3
    nonces = {parse_params(v.removeprefix("Digest "))["nonce"] for v in values}  # type: ignore[index]
    assert len(nonces) == 1
    assert all("stale=true" in v and 'qop="auth"' in v for v in values)
