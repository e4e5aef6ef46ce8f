"""MQTT commands: ``<base>/<channel>/<feature>/set`` parsed, checked and applied to the runtime.

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

if TYPE_CHECKING:
    from ..runtime import Runtime

_LOGGER = logging.getLogger(__name__)

#: Longest payload accepted (a command is a word or a small number).
MAX_PAYLOAD = 256
#: How much of a bad payload is echoed on the error topic.
ECHO_CHARS = 64

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INTEGER = re.compile(r"^[0-9]{1,3}(\.0*)?$")

FEATURES = ("arming", "motion", "motion_sensitivity", "capture")


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
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError("payload is not UTF-8 text") from None


def parse_on_off(payload: bytes) -> bool:
    """``ON`` or ``OFF`` (exactly, as Home Assistant and Frigate send them)."""
    text = _text(payload)
    if text == "ON":
        return True
    if text == "OFF":
        return False
    raise CommandError("expected ON or OFF")


def parse_sensitivity(payload: bytes) -> int:
    """A whole number 0-100 (``55``; Home Assistant may send ``55.0``)."""
    text = _text(payload)
    if not _INTEGER.match(text):
        raise CommandError("expected a whole number from 0 to 100")
    value = int(text.split(".", 1)[0])
    if value > 100:
        raise CommandError("expected a whole number from 0 to 100")
    return value


def parse_press(payload: bytes) -> None:
    if _text(payload) != "PRESS":
        raise CommandError("expected PRESS")


class Commands:
    """Applies commands to ``runtime``. ``channels`` maps topic level -> channel id (topic
    levels are sanitised ids). ``capture_done`` publishes a capture's result."""

    def __init__(
        self,
        runtime: Runtime,
        channels: Callable[[], dict[str, str]],
        capture_done: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self._runtime = runtime
        self._channels = channels
        self._capture_done = capture_done

    def channel_id(self, level: str) -> str:
        channel_id = self._channels().get(level)
        if channel_id is None:
            raise CommandError(f"no channel {level!r}")
        return channel_id

    def prepare(self, level: str, feature: str, payload: bytes) -> Callable[[], Awaitable[None]]:
        """Check the command; return the action that applies it (raises ``CommandError``)."""
        channel_id = self.channel_id(level)
        runtime = self._runtime
        if feature == "arming":
            armed = parse_on_off(payload)
            return self._sync(lambda: runtime.set_armed(channel_id, armed))
        if feature == "motion":
            enabled = parse_on_off(payload)
            self._need_detector(channel_id, "motion")
            return self._sync(lambda: runtime.set_detector(channel_id, "motion", enabled=enabled))
        if feature == "motion_sensitivity":
            value = parse_sensitivity(payload)
            options = self._need_detector(channel_id, "motion")
            if options.get("mode", "normal") != "normal":
                raise CommandError(
                    "the motion detector is in expert mode: set day_sensitivity and "
                    "night_sensitivity through the HTTP API instead"
                )
            return self._sync(
                lambda: runtime.set_detector(channel_id, "motion", options={"sensitivity": value})
            )
        if feature == "capture":
            parse_press(payload)

            async def capture() -> None:
                try:
                    result = await runtime.capture(channel_id)
                except CameraRuntimeError as err:
                    raise CommandError(err.message) from err
                self._capture_done(channel_id, result)

            return capture
        raise CommandError(f"unknown command {feature!r}; known: {', '.join(FEATURES)}")

    def _need_detector(self, channel_id: str, kind: str) -> dict[str, Any]:
        detectors = self._runtime.channel(channel_id).detectors
        if kind not in detectors:
            raise CommandError(f"channel {channel_id!r} has no {kind} detector")
        return dict(detectors[kind].options)

    @staticmethod
    def _sync(fn: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                fn()
            except ConfigError as err:
                raise CommandError("; ".join(err.errors)) from err
            except CameraRuntimeError as err:
                raise CommandError(err.message) from err

        return run


__all__ = ["CommandError", "Commands", "parse_on_off", "parse_sensitivity", "safe_payload"]
