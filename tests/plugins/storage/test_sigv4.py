"""AWS Signature Version 4 against AWS's published examples, computed from their inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from camera_runtime_plugins.storage.sigv4 import (
    EMPTY_SHA256,
    Credentials,
    amz_date,
    authorization,
    canonical_request,
    uri_encode,
)

# The SigV4 test suite's key pair, region and service ("get-vanilla" and its siblings).
SUITE = Credentials(
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"
)
SUITE_HEADERS = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}


def test_get_vanilla_canonical_request() -> None:
    request, signed = canonical_request("GET", "/", {}, SUITE_HEADERS, EMPTY_SHA256)
    assert signed == "host;x-amz-date"
    assert request == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_get_vanilla_signature() -> None:
    assert authorization(SUITE, "GET", "/", {}, SUITE_HEADERS, EMPTY_SHA256) == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_get_vanilla_query_signature() -> None:
    """The suite's "get-vanilla-query-order-key-case": parameters are sorted before signing."""
    query = {"Param2": "value2", "Param1": "value1"}
    assert authorization(SUITE, "GET", "/", query, SUITE_HEADERS, EMPTY_SHA256).endswith(
        "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )


def test_the_s3_documented_get_object_example() -> None:
    """AWS's S3 API reference, "Signature calculations for the Authorization header", example
    GET Object: a range of /test.txt in examplebucket."""
    credentials = Credentials(
        "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"
    )
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
    }
    assert authorization(credentials, "GET", "/test.txt", {}, headers, EMPTY_SHA256) == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_a_changed_secret_changes_the_signature() -> None:
    other = Credentials(SUITE.access_key_id, SUITE.secret_access_key + "x", SUITE.region, "service")
    assert authorization(other, "GET", "/", {}, SUITE_HEADERS, EMPTY_SHA256) != authorization(
        SUITE, "GET", "/", {}, SUITE_HEADERS, EMPTY_SHA256
    )


def test_encoding_and_dates() -> None:
    assert uri_encode("a b/c~d+e", keep_slash=True) == "a%20b/c~d%2Be"
    assert uri_encode("a/b", keep_slash=False) == "a%2Fb"
    paris = timezone(timedelta(hours=2))
    assert amz_date(datetime(2015, 8, 30, 14, 36, tzinfo=paris)) == "20150830T123600Z"
    assert amz_date(datetime(2015, 8, 30, 12, 36, tzinfo=UTC)) == "20150830T123600Z"
