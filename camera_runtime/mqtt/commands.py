"""MQTT commands: ``<base>/<channel>/<control>/set`` parsed, checked and applied to the runtime.

Every control a channel declares takes commands: a switch ``ON``/``OFF``, a number a decimal
number in its range, a select one of its options, a button ``PRESS``.

A bad command (unknown channel or feature, a payload that is not one of the accepted values,
wrong JSON, wrong type, a value out of range, or a runtime refusal) changes nothing: it is
logged and answered on the error topic with the topic, a safe copy of the payload and the
reason. Nothing a client sends can raise out of here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import CameraRuntimeError, ConfigError
from .topics import OFF, ON, PRESS

if TYPE_CHECKING:
    from ..interfaces import RuntimeView

_LOGGER = logging.getLogger(__name__)

#: Longest payload accepted (a command is a word or a small number).
MAX_PAYLOAD = 256
#: How much of a bad payload is echoed on the error topic.
ECHO_CHARS = 64

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$")


class CommandError(Exception):
    """A command that cannot be applied; the message goes to the error topic."""


def safe_payload(payload: bytes, limit: int = ECHO_CHARS) -> str:
    """The payload as text fit for a log line or a JSON error: decoded leniently, control
    characters (CR, LF, NUL...) replaced, cut to ``limit`` characters."""
    text = payload[: limit * 4].decode("utf-8", errors="replace")
    text = _CONTROL.sub("\ufffd", text)
    return text[:limit] + ("..." if len(text) > limit else "")


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise CommandError(f"payload too long ({len(payload)} bytes, at most {MAX_PAYLOAD})")
    try:
        # Exact: a command is ``ON``, not ``ON\n`` (what HA and Frigate send, byte for byte).
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("payload is not UTF-8 text") from None


def parse_on_off(payload: bytes) -> bool:
    """``ON`` or ``OFF`` (exactly, as Home Assistant and Frigate send them)."""
    text = _text(payload)
    if text == ON:
        return True
    if text == OFF:
        return False
    raise CommandError(f"expected {ON} or {OFF}")


def parse_number(payload: bytes) -> int | float:
    """A plain decimal number (``55``, ``-3``, ``0.25``; Home Assistant may send ``55.0``):
    the control checks its range and step."""
    text = _text(payload)
    if not _NUMBER.fullmatch(text):  # not match: "$" also matches before a final "\n"
        raise CommandError("expected a number")
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_press(payload: bytes) -> None:
    if _text(payload) != PRESS:
        raise CommandError(f"expected {PRESS}")


class Commands:
    """Applies commands to ``runtime``: ``<channel>/<control key>/set`` for every control the
    channel declares. ``channels`` maps topic level -> channel id (topic levels are sanitised
    ids). ``pressed`` publishes what a button's command produced."""

    def __init__(
        self,
        runtime: RuntimeView,
        channels: Callable[[], dict[str, str]],
        pressed: Callable[[str, str, dict[str, Any]], None],
    ) -> None:
        self._runtime = runtime
        self._channels = channels
        self._pressed = pressed

    def channel_id(self, level: str) -> str:
        channel_id = self._channels().get(level)
        if channel_id is None:
            raise CommandError(f"no channel {level!r}")
        return channel_id

    def prepare(self, level: str, feature: str, payload: bytes) -> Callable[[], Awaitable[None]]:
        """Check the command; return the action that applies it (raises ``CommandError``)."""
        channel_id = self.channel_id(level)
        runtime = self._runtime
        try:
            controls = {c["key"]: c for c in runtime.channel_status(channel_id)["controls"]}
        except CameraRuntimeError as err:
            raise CommandError(err.message) from err
        control = controls.get(feature)
        if control is None:
            known = ", ".join(sorted(controls))
            raise CommandError(f"unknown command {feature!r}; known: {known}")
        kind = control["kind"]
        if kind == "button":
            parse_press(payload)

            async def press() -> None:
                try:
                    result = await runtime.press(channel_id, feature)
                except CameraRuntimeError as err:
                    raise CommandError(err.message) from err
                self._pressed(channel_id, feature, result)

            return press
        value: Any
        if kind == "switch":
            value = parse_on_off(payload)
        elif kind == "number":
            value = parse_number(payload)
        else:
            value = _text(payload)

        async def apply() -> None:
            try:
                await runtime.set_control(channel_id, feature, value)
            except ConfigError as err:
                raise CommandError("; ".join(err.errors)) from err
            except CameraRuntimeError as err:
                raise CommandError(err.message) from err

        return apply


__all__ = ["CommandError", "Commands", "parse_number", "parse_on_off", "safe_payload"]
