"""Uploads to an S3-compatible bucket in a running runtime (moto's server on 127.0.0.1, which
checks every signature): a capture lands in the bucket under the manual's name; while the
bucket refuses, pictures wait, ``storage_error`` is raised with the store's reason in words
(never the secret), and they go once the bucket is there; bad options name their key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from camera_runtime.api.routes import REDACTED, redact
from camera_runtime.exceptions import ConfigError
from camera_runtime.host import runtime_from_data
from camera_runtime.model import EventUpdate
from tests.camera_runtime.uploads.test_uploads import started
from tests.s3_server import BUCKET, REGION, S3Server, moto_port, s3_server

__all__ = ["moto_port", "s3_server"]  # the fixtures, used by name


def config(target: dict[str, Any]) -> dict[str, Any]:
    target["naming"] = {"structure": "child", "child": "camera_no"}
    return {
        "device": {"name": "Home"},
        "channels": [{"id": "gate", "source": {"type": "synthetic", "width": 320, "height": 180}}],
        "uploads": {"targets": [target], "device_ip": "10.0.0.7"},
    }


async def test_a_capture_lands_in_the_bucket(tmp_path: Path, s3_server: S3Server) -> None:
    runtime = await started(config(s3_server.target(prefix="cams")), tmp_path / "data")
    try:
        assert (await runtime.uploads.test("cloud"))["ok"] is True
        capture = await runtime.capture("gate")
        assert capture["uploads"] == ["cloud"]
        await runtime.uploads.wait_for(lambda s: s["cloud"]["uploaded"] == 1)
        ((key, data),) = s3_server.objects().items()
        folders, name = key.rsplit("/", 1)
        assert folders == "cams/Home/01" and name.startswith("10.0.0.7_01_")
        assert name.endswith("_MANUAL.jpg") and data[:2] == b"\xff\xd8"
        assert runtime.uploads.status()["cloud"]["state"] == "ok"
        shown = redact(runtime.effective_config())["uploads"]["targets"][0]
        assert shown["secret_access_key"] == REDACTED  # as GET /api/config shows it
        assert shown["access_key_id"] == s3_server.access_key_id
    finally:
        await runtime.stop()


async def test_pictures_wait_while_the_bucket_is_missing(
    tmp_path: Path, s3_server: S3Server
) -> None:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.delete_bucket(BUCKET)
    runtime = await started(config(s3_server.target()), tmp_path / "data")
    updates: list[EventUpdate] = []
    runtime.subscribe_events(updates.append)
    try:
        await runtime.capture("gate")
        await runtime.uploads.wait_for(lambda s: s["cloud"]["failures"] >= 1)
        status = runtime.uploads.status()["cloud"]
        assert status["state"] == "failing" and status["pending"] == 1
        assert "NoSuchBucket" in status["last_error"]
        assert s3_server.secret_access_key not in str(status)
        assert any(u.event.type == "storage_error" for u in updates)
        test = await runtime.uploads.test("cloud")
        assert test["ok"] is False and "NoSuchBucket" in test["error"]

        backend.create_bucket(BUCKET, REGION)  # the bucket is made
        assert (await runtime.uploads.test("cloud"))["ok"] is True  # the retry goes now
        await runtime.uploads.wait_for(lambda s: s["cloud"]["uploaded"] == 1)
        assert len(s3_server.objects()) == 1
        assert runtime.uploads.status()["cloud"]["state"] == "ok"
    finally:
        await runtime.stop()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint": "s3.example.com"}, r"uploads\.targets\[0\]\.endpoint: an http:// or https:// URL"),
        ({"bucket": "Bad_Bucket"}, r"uploads\.targets\[0\]\.bucket: 3-63 of"),
        ({"secret_access_key": None}, r"uploads\.targets\[0\]\.secret_access_key"),
    ],
)  # fmt: skip
def test_bad_s3_options_are_refused_with_their_key(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    target = {
        "id": "cloud",
        "type": "s3",
        "endpoint": "https://s3.example.com",
        "bucket": "pictures",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "secret",
        **options,
    }
    with pytest.raises(ConfigError, match=message):
        runtime_from_data({"uploads": {"targets": [target]}}, data_dir=tmp_path)
