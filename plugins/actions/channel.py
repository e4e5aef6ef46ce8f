"""The camera channel as a linked resource: the document's "Camera (Channel)" rows, each one
call of the runtime (capture, record 5 s before for 30 s, call preset, call patrol, call
pattern, arm, disarm, privacy mask on/off).

The ePTZ rows take the number in the link's ``params`` (``preset``, ``patrol``, ``pattern``);
the runtime checks it (a channel without ePTZ, or nothing saved under that number, fails the
action with its reason, like any other failure: retried, then reported).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from camera_runtime import hookimpl
from camera_runtime.exceptions import InvalidValueError
from camera_runtime.interfaces import Action, ActionRequest

#: The document: "starts from 5 s before the detection of the Triggering Event, and lasts 30 s".
RECORD_PRE, RECORD_LENGTH = 5.0, 30.0
PRIVACY_MASK = "privacy_mask"

Run = Callable[[ActionRequest], Awaitable[dict[str, Any]]]


async def _capture(request: ActionRequest) -> dict[str, Any]:
    # The triggering event's type names the picture where it is uploaded (manual 5.1.2).
    reason = request.event.type if request.event is not None else "manual"
    return await request.runtime.capture(request.target, reason)


async def _record(request: ActionRequest) -> dict[str, Any]:
    return await request.runtime.record_clip(request.target, RECORD_PRE, RECORD_LENGTH)


def _ptz(method: str, param: str) -> Run:
    """``runtime.<method>(channel, params[param])``: the ePTZ rows."""

    async def run(request: ActionRequest) -> dict[str, Any]:
        if param not in request.params:
            raise InvalidValueError(f"the rule's {request.action} needs params.{param}")
        call = getattr(request.runtime, method)
        result: dict[str, Any] = await call(request.target, request.params[param])
        return result

    return run


def _arming(armed: bool) -> Run:
    async def run(request: ActionRequest) -> dict[str, Any]:
        await request.runtime.set_armed(request.target, armed)
        return {"armed": armed}

    return run


def _mask(enabled: bool) -> Run:
    async def run(request: ActionRequest) -> dict[str, Any]:
        await request.runtime.set_stage(request.target, PRIVACY_MASK, enabled=enabled)
        return {"privacy_mask": enabled}

    return run


#: The rows of the document's table for a camera channel, in its order.
CHANNEL_ACTIONS: dict[str, Run] = {
    "capture_picture": _capture,
    "record": _record,
    "call_preset": _ptz("call_preset", "preset"),
    "call_patrol": _ptz("start_patrol", "patrol"),
    "call_pattern": _ptz("run_pattern", "pattern"),
    "arm": _arming(True),
    "disarm": _arming(False),
    "enable_privacy_mask": _mask(True),
    "disable_privacy_mask": _mask(False),
}


class ChannelAction(Action):
    """Every channel of the runtime is a linked resource of this kind (no config needed)."""

    kind: ClassVar[str] = "channel"
    ACTIONS: ClassVar[tuple[str, ...]] = tuple(CHANNEL_ACTIONS)
    CAMERA: ClassVar[bool] = True

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        return await CHANNEL_ACTIONS[request.action](request)


@hookimpl
def register_actions(register: Callable[[type[Action]], None]) -> None:
    """The camera channel's linkage actions."""
    register(ChannelAction)
