"""Upload targets over HTTP: their state, the manual's Test against a real FTP server on
127.0.0.1, and a capture that names the targets it went to."""

from __future__ import annotations

from pathlib import Path

from tests.ftp_server import PASSWORD as FTP_PASSWORD
from tests.ftp_server import FtpServer, ftp_target

from .conftest import ServerFactory
from .helpers import PASSWORD, client, runtime_config


async def test_upload_targets_their_state_and_the_test(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    (tmp_path / "ftp").mkdir()
    ftp = FtpServer(tmp_path / "ftp")  # not started yet: the server is away
    target = ftp_target(ftp)
    server = await make_server(data={**runtime_config(), "uploads": {"targets": [target]}})
    await server.security.activate(PASSWORD)
    try:
        async with client(server, auth="basic") as admin:
            async with admin.get("/api/uploads") as r:
                assert r.status == 200
                (state,) = (await r.json())["targets"].values()
                assert (state["type"], state["pending"], state["state"]) == ("ftp", 0, "ok")
                assert state["content"] == ["pictures"]  # the default
                assert state["clips"] == {"pending": 0, "uploaded": 0, "dropped": 0, "unqueued": 0}
            async with admin.post("/api/uploads/nas_ftp/test") as r:
                result = await r.json()
                assert r.status == 200 and result["ok"] is False
                assert "cannot be reached" in result["error"]
                assert FTP_PASSWORD not in result["error"]
            ftp.start()
            async with admin.post("/api/uploads/nas_ftp/test") as r:
                assert (await r.json()) == {"target": "nas_ftp", "ok": True, "error": ""}
            for unknown in ("nowhere", "A-B", "..%2Fx"):
                async with admin.post(f"/api/uploads/{unknown}/test") as r:
                    assert r.status == 404
            async with admin.get("/api/config") as r:
                shown = (await r.json())["uploads"]["targets"][0]
                assert shown["password"] != FTP_PASSWORD  # redacted like every secret
    finally:
        ftp.stop()
