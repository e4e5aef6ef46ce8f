"""An HTTPS alarm server (notify surveillance center) with its own certificate: trusted
through the resource's `http.ca_file`, refused (and reported) against the system's CAs."""

from __future__ import annotations

import ssl
from pathlib import Path

from .conftest import StartRuntime, config, receiving


async def test_an_https_alarm_server_with_its_own_ca(
    start_runtime: StartRuntime, certificates: tuple[Path, Path, Path]
) -> None:
    ca, cert, key = certificates
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    async with receiving(tls) as receiver:
        trusted = {
            "id": "trusted",
            "type": "surveillance_center",
            "http": {"url": receiver.url, "ca_file": str(ca)},
        }
        unknown = {"id": "unknown", "type": "surveillance_center", "http": {"url": receiver.url}}
        bell = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}
        rule = {
            "id": "r",
            "source": "bell",
            "event": "doorbell_ring",
            "actions": [
                {"resource": "trusted", "action": "notify_surveillance_center"},
                {"resource": "unknown", "action": "notify_surveillance_center"},
            ],
        }
        runtime, watch = await start_runtime(
            config({"resources": [bell, trusted, unknown], "rules": [rule]})
        )
        await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
        fired = await watch.fired("r")
        outcomes = {a["resource"]: a for a in fired["actions"]}
        assert outcomes["trusted"]["outcome"] == "ok"
        assert outcomes["unknown"]["outcome"] == "failed"
        assert outcomes["unknown"]["error"].startswith("unknown: cannot reach 127.0.0.1")
        (body,) = receiver.bodies
        assert body["resource"] == "trusted" and body["event"]["type"] == "doorbell_ring"
