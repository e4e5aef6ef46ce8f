"""A real S3-compatible server on 127.0.0.1 for the upload tests: moto's server mode, with
request authentication on, so every request's SigV4 signature is checked against an IAM
user's key as AWS does (a wrong secret is refused with ``SignatureDoesNotMatch``).

One server per test module (moto's backends load slowly); each test gets a fresh state: an
IAM user allowed ``s3:*``, its access key, and an empty bucket. The state is set up in the
server's own process (moto runs in a thread here), then everything goes over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.base_backend import BackendDict
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

from .ports import free_port

BUCKET = "pictures"
REGION = "us-east-1"
USER = "camera"
_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


@dataclass
class S3Server:
    """Where the server listens, and the key pair its bucket accepts."""

    port: int
    access_key_id: str
    secret_access_key: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def objects(self, bucket: str = BUCKET) -> dict[str, bytes]:
        """The bucket's objects as the server holds them."""
        store = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(bucket)
        return {key: store.keys[key].value for key in store.keys}

    def target(self, target_id: str = "cloud", **options: Any) -> dict[str, Any]:
        """An ``uploads.targets`` entry for this server."""
        return {
            "id": target_id,
            "type": "s3",
            "endpoint": self.endpoint,
            "region": REGION,
            "bucket": BUCKET,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            **options,
        }


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    port = free_port()
    server = ThreadedMotoServer("127.0.0.1", port, verbose=False)
    server.start()
    yield port
    server.stop()


def _reset() -> None:
    for backends in (iam_backends, s3_backends):
        assert isinstance(backends, BackendDict)
        backends.reset()


@pytest.fixture
def s3_server(moto_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    _reset()
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    iam.create_user(REGION, USER)
    iam.put_user_policy(USER, "upload", _POLICY)
    key = iam.create_access_key(USER)
    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].create_bucket(BUCKET, REGION)
    # From now on, every request must be signed with a key the server knows.
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
    yield S3Server(moto_port, key.access_key_id, key.secret_access_key)
    _reset()
