"""Captured pictures ("capture picture"): JPEG files in the data folder, addressed by id only.

Ids are generated here and checked against their exact pattern before any file access, so a
client-supplied id can never name a path outside the folder (TESTPLAN C1).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data_folder import private_folder, write_private
from .exceptions import NotFoundError, StorageError
from .model import new_event_id

#: ``new_event_id()``: 13 hex digits of milliseconds, a dash, 12 random hex digits.
CAPTURE_ID = re.compile(r"^[0-9a-f]{13}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class Capture:
    id: str
    channel: str
    time: float
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "time": self.time,
            "size": self.size,
            "url": f"/api/captures/{self.id}.jpg",
        }


class Captures:
    """The capture folder. Files are named ``<id>.<channel>.jpg``; channel ids cannot hold dots."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def save(self, channel: str, jpeg: bytes) -> Capture:
        """Write one picture atomically; blocking (call it in an executor)."""
        capture = Capture(new_event_id(), channel, time.time(), len(jpeg))
        path = self.folder / f"{capture.id}.{channel}.jpg"
        try:
            private_folder(self.folder)
            write_private(path, jpeg)
        except OSError as err:
            raise StorageError(
                f"cannot save the capture ({self.folder.name}/): {err.strerror or err}"
            ) from err
        return capture

    def path(self, capture_id: str) -> Path:
        """The file of a capture; ``NotFoundError`` for an unknown or malformed id."""
        if CAPTURE_ID.fullmatch(capture_id):
            for path in self.folder.glob(f"{capture_id}.*.jpg"):
                return path
        raise NotFoundError(f"no capture {capture_id!r}", "capture_not_found")


__all__ = ["CAPTURE_ID", "Capture", "Captures"]
