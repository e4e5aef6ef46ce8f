"""Send email (manual 8.4 "Email"): the event to up to three receivers over SMTP (SSL/TLS,
STARTTLS or plain, with or without authentication), with up to three pictures of the channel
taken ``interval`` s apart.

The stdlib's ``smtplib`` does the work in an executor: a well-kept client, no new dependency.
The password is an option: used, never logged; errors name the server only.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import CameraRuntimeError
from camera_runtime.interfaces import Action, ActionRequest

ADDRESS = vol.All(str, vol.Match(r"^[^@\s]+@[^@\s]+$", msg="expected an email address"))
EMAIL_SCHEMA = vol.Schema(
    {
        vol.Required("host"): vol.All(str, vol.Length(min=1, max=253)),
        vol.Optional("port"): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("security", default="starttls"): vol.In(["ssl", "starttls", "none"]),
        vol.Optional("username"): vol.All(str, vol.Length(min=1, max=256)),
        vol.Optional("password"): vol.All(str, vol.Length(max=256)),
        vol.Required("sender"): ADDRESS,
        # Manual 8.4: up to three receivers.
        vol.Required("receivers"): vol.All([ADDRESS], vol.Length(min=1, max=3)),
        vol.Optional("attached_pictures", default=3): vol.All(int, vol.Range(min=0, max=3)),
        # Manual 8.4: "Interval: 2s, 3s, 4s, 5s" between the attached pictures.
        vol.Optional("interval", default=2): vol.In([2, 3, 4, 5]),
        vol.Optional("timeout", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=120)
        ),
        # A CA file to trust (a home server's own certificate); the system's by default.
        vol.Optional("ca_file"): vol.IsFile(msg="not a readable file"),
    }
)
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


class Email(Action):
    kind: ClassVar[str] = "email"
    ACTIONS: ClassVar[tuple[str, ...]] = ("send_email",)
    CONFIG_SCHEMA: ClassVar[vol.Schema] = EMAIL_SCHEMA

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        event = request.event
        channel = event.channel if event is not None and event.channel else None
        pictures: list[bytes] = []
        count = self.options["attached_pictures"] if channel else 0
        for index in range(count):
            if index:
                await asyncio.sleep(self.options["interval"])
            try:
                pictures.append(await request.runtime.snapshot(channel))  # type: ignore[arg-type]
            except CameraRuntimeError:
                break  # no picture (yet): the email goes without more
        message = self._message(request, pictures)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._send, message)
        return {"receivers": len(self.options["receivers"]), "pictures": len(pictures)}

    def _message(self, request: ActionRequest, pictures: list[bytes]) -> EmailMessage:
        event = request.event
        what = event.type if event is not None else "test"
        where = (event.channel or "device") if event is not None else self.name
        message = EmailMessage()
        message["From"] = self.options["sender"]
        message["To"] = ", ".join(self.options["receivers"])
        message["Subject"] = f"camera_runtime: {what} on {where}"
        when = time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(event.start if event else time.time())
        )
        lines = [f"Event: {what}", f"Channel: {where}", f"Time: {when}"]
        if event is not None:
            lines.append(f"Event id: {event.id}")
        message.set_content("\n".join(lines) + "\n")
        for index, jpeg in enumerate(pictures, 1):
            message.add_attachment(
                jpeg, maintype="image", subtype="jpeg", filename=f"{where}_{what}_{index}.jpg"
            )
        return message

    def _send(self, message: EmailMessage) -> None:
        options = self.options
        host, security = options["host"], options["security"]
        port = options.get("port") or DEFAULT_PORTS[security]
        context = ssl.create_default_context(cafile=options.get("ca_file"))
        try:
            smtp: smtplib.SMTP
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=options["timeout"], context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=options["timeout"])
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=context)
                if options.get("username"):
                    try:
                        smtp.login(options["username"], options.get("password", ""))
                    except smtplib.SMTPServerDisconnected:  # some servers hang up on a bad login
                        raise smtplib.SMTPAuthenticationError(535, b"disconnected") from None
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError:
            raise CameraRuntimeError(f"email: {host} refused the login") from None
        except (smtplib.SMTPException, OSError) as err:
            raise CameraRuntimeError(
                f"email: cannot send through {host}:{port} ({type(err).__name__})"
            ) from None


@hookimpl
def register_actions(register: Callable[[type[Action]], None]) -> None:
    """``email`` under ``linkage.resources[].type``: the send email linkage method."""
    register(Email)
