"""The linkage method "upload to FTP/NAS" (manual 8.2.2): a rule's capture goes to the upload
targets, named after the event that fired the rule, and reaches a real FTP server."""

from __future__ import annotations

import re

from tests.ftp_server import FtpServer, ftp_server, ftp_target
from tests.polling import eventually

from .conftest import StartRuntime, config

__all__ = ["ftp_server"]  # the fixture, used by name

BELL = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}


async def test_a_rule_s_capture_is_uploaded_under_its_event_s_name(
    start_runtime: StartRuntime, ftp_server: FtpServer
) -> None:
    rule = {
        "id": "ring",
        "source": "bell",
        "event": "doorbell_ring",
        "actions": [{"resource": "cam1", "action": "capture_picture"}],
    }
    data = config(
        {"resources": [BELL], "rules": [rule]},
        uploads={"targets": [ftp_target(ftp_server)], "device_ip": "10.1.2.3"},
    )
    runtime, watch = await start_runtime(data)
    await eventually(lambda: runtime.has_picture("cam1"), within=20)
    await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
    fired = await watch.fired("ring")
    (outcome,) = fired["actions"]
    assert outcome["outcome"] == "ok" and outcome["result"]["uploads"] == ["nas_ftp"]
    await runtime.uploads.wait_for(lambda s: s["nas_ftp"]["uploaded"] == 1)
    (name,) = ftp_server.files()
    assert re.fullmatch(r"10\.1\.2\.3_01_\d{17}_DOORBELL_RING\.jpg", name), name
