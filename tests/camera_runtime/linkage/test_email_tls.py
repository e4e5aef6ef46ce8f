"""Send email over STARTTLS and SSL/TLS with authentication, against a real aiosmtpd server
on 127.0.0.1 with a throw-away CA; a wrong password fails the action with a clear error."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ports import free_port

from .conftest import StartRuntime, config
from .test_actions import _Inbox

pytestmark = pytest.mark.slow

USER, PASSWORD = "camera", "Mail-Pa55word"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_email_over_tls_with_login(
    start_runtime: StartRuntime, certificates: tuple[Path, Path, Path], security: str
) -> None:
    ca, cert, key = certificates
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    port = free_port()
    tls: dict[str, Any] = (
        {"tls_context": context, "require_starttls": True}
        if security == "starttls"
        # aiosmtpd does not count implicit TLS as TLS for AUTH: the socket is TLS all the same.
        else {"ssl_context": context, "auth_require_tls": False}
    )
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator,
        auth_required=True, **tls,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, controller.start)
    try:
        mail = {
            "id": "mail", "type": "email", "host": "127.0.0.1", "port": port,
            "security": security, "username": USER, "password": PASSWORD, "ca_file": str(ca),
            "sender": "camera@home.test", "receivers": ["a@home.test", "b@home.test"],
            "attached_pictures": 0,
        }  # fmt: skip
        wrong = {**mail, "id": "wrong", "password": "not-it"}
        rules = [
            {"id": "mail", "source": "bell", "event": "doorbell_ring",
             "actions": [{"resource": "mail", "action": "send_email"},
                         {"resource": "wrong", "action": "send_email"}]},
        ]  # fmt: skip
        bell = {"id": "bell", "type": "doorbell", "events": ["doorbell_ring"]}
        runtime, watch = await start_runtime(
            config({"resources": [bell, mail, wrong], "rules": rules})
        )
        await runtime.linkage.receive("bell", {"event": "doorbell_ring"})
        fired = await watch.fired("mail", within=30)
        outcomes = {a["resource"]: a for a in fired["actions"]}
        assert outcomes["mail"]["outcome"] == "ok", outcomes
        assert outcomes["wrong"]["outcome"] == "failed"
        assert outcomes["wrong"]["error"] == "email: 127.0.0.1 refused the login"
        async with asyncio.timeout(10):
            await inbox.arrived.wait()
        (message,) = inbox.messages
        assert message["To"] == "a@home.test, b@home.test"
    finally:
        await loop.run_in_executor(None, controller.stop)
