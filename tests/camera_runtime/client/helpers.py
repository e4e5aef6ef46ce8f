"""A runtime config whose synthetic scene makes a motion event start and end every few seconds,
and small waiting helpers (on queues fed by client callbacks, never fixed sleeps)."""

from __future__ import annotations

import asyncio
from typing import Any

import cv2
import numpy as np

PASSWORD = "Str0ng-Passw0rd!"


def motion_channel(channel_id: str = "cam1", name: str = "Front door") -> dict[str, Any]:
    """A small synthetic camera: a box crosses for 1.5 s of every 3 s; motion ends 0.5 s later."""
    return {
        "id": channel_id,
        "name": name,
        "source": {
            "type": "synthetic",
            "width": 160,
            "height": 120,
            "fps": 20,
            "objects": [
                {
                    "size": [0.3, 0.4],
                    "color": [240, 240, 240],
                    "period": 3.0,
                    "path": [{"t": 0.0, "x": 0.1, "y": 0.5}, {"t": 1.5, "x": 0.9, "y": 0.5}],
                }
            ],
        },
        "detect": {"fps": 10},
        "detectors": {"motion": {"sensitivity": 80, "hold_time": 0.5}},
    }


def motion_config(**api: Any) -> dict[str, Any]:
    return {
        "device": {"name": "Test NVR"},
        "api": api,
        "zeroconf": {"enabled": False},
        "channels": [motion_channel()],
    }


async def next_matching(
    queue: asyncio.Queue[dict[str, Any]], predicate: Any, within: float = 15.0
) -> dict[str, Any]:
    """The next update in ``queue`` for which ``predicate(update)`` holds."""
    async with asyncio.timeout(within):
        while True:
            update = await queue.get()
            if predicate(update):
                return update


def decode(jpeg: bytes) -> Any:
    """The picture of a JPEG (height x width x 3), decoded by OpenCV; fails on anything else."""
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None, "not a JPEG"
    return picture
