"""Captured pictures ("capture picture"): JPEG files in the data folder, addressed by id only.

Ids are generated here and checked against their exact pattern before any file access, so a
client-supplied id can never name a path outside the folder (TESTPLAN C1).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data_folder import private_folder, write_private
from .exceptions import NotFoundError, StorageError
from .model import EVENT_ID, new_event_id

_LOGGER = logging.getLogger(__name__)

#: A capture is named like an event (``model.new_event_id``).
CAPTURE_ID = EVENT_ID


#: Why a picture was taken: ``manual``, ``timing`` or the event type that triggered it.
REASON = re.compile(r"[a-z0-9_]{1,64}")
MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Capture:
    id: str
    channel: str
    time: float
    size: int
    reason: str = MANUAL

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "time": self.time,
            "size": self.size,
            "reason": self.reason,
            "url": f"/api/captures/{self.id}.jpg",
        }


class Captures:
    """The capture folder. Files are named ``<id>.<channel>.jpg`` (manual captures, as before
    reasons were kept) or ``<id>.<channel>.<reason>.jpg``; channel ids and reasons cannot hold
    dots.

    Retention keeps the folder from filling the disk: pictures older than ``expired_time_days``
    go (0: never), then the oldest until the folder holds at most ``quota_mb`` (0: no quota).
    It runs at ``load``, after each ``save`` and whenever the runtime asks (hourly). Ids start
    with the capture time, so the oldest are the first in id order. Blocking: run it in an
    executor.
    """

    def __init__(self, folder: Path, expired_time_days: float = 30, quota_mb: float = 1024) -> None:
        self.folder = Path(folder)
        self.expired_time = expired_time_days * 86400
        self.quota = int(quota_mb * 1024 * 1024)
        self._lock = threading.Lock()
        self._index: dict[str, tuple[Path, int]] = {}  # id -> (file, size), oldest first
        self._info: dict[str, Capture] = {}
        self._size = 0
        #: Pictures deleted by retention since the start.
        self.deleted = 0

    def load(self) -> None:
        """Index the folder (and apply retention to what an earlier run left)."""
        found = []
        try:
            for path in self.folder.glob("*.jpg"):
                parts = path.name.split(".")
                if CAPTURE_ID.fullmatch(parts[0]) and len(parts) in (3, 4):
                    reason = parts[2] if len(parts) == 4 else MANUAL
                    size = path.stat().st_size
                    capture = Capture(parts[0], parts[1], _taken(parts[0]), size, reason)
                    found.append((parts[0], path, capture))
        except OSError:
            pass  # no folder yet, or unreadable: an empty index; saves say what fails
        with self._lock:
            for capture_id, path, capture in sorted(found, key=lambda item: item[0]):
                self._index[capture_id] = (path, capture.size)
                self._info[capture_id] = capture
                self._size += capture.size
        self.prune()

    def save(
        self, channel: str, jpeg: bytes, reason: str = MANUAL, capture_id: str | None = None
    ) -> Capture:
        """Write one picture atomically, then apply retention; blocking. ``reason``: why it
        was taken (``manual``, ``timing``, an event type); ``capture_id``: one named
        beforehand (an event's ``snapshot``), else a new one."""
        if not REASON.fullmatch(reason):
            raise ValueError(f"not a capture reason: {reason!r}")
        if capture_id is not None and not CAPTURE_ID.fullmatch(capture_id):
            raise ValueError(f"not a capture id: {capture_id!r}")
        capture_id = capture_id or new_event_id()
        capture = Capture(capture_id, channel, _taken(capture_id), len(jpeg), reason)
        tag = "" if reason == MANUAL else f".{reason}"
        path = self.folder / f"{capture.id}.{channel}{tag}.jpg"
        try:
            private_folder(self.folder)
            write_private(path, jpeg)
        except OSError as err:
            raise StorageError(
                f"cannot save the capture ({self.folder.name}/): {err.strerror or err}"
            ) from err
        with self._lock:
            self._index[capture.id] = (path, len(jpeg))
            self._info[capture.id] = capture
            self._size += len(jpeg)
        self.prune()
        return capture

    def search(
        self,
        channel: str | None = None,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
    ) -> list[Capture]:
        """The pictures kept, oldest first: of ``channel``, taken in ``[start, end]``, for
        ``reason`` (each ``None``: any)."""
        with self._lock:
            pictures = list(self._info.values())
        return [
            c
            for c in pictures
            if (channel is None or c.channel == channel)
            and (start is None or c.time >= start)
            and (end is None or c.time <= end)
            and (reason is None or c.reason == reason)
        ]

    def prune(self, now: float | None = None) -> int:
        """Delete what retention says must go; returns how many pictures went."""
        now = time.time() if now is None else now
        gone: list[tuple[str, Path]] = []
        with self._lock:
            for capture_id, (path, size) in list(self._index.items()):
                expired = self.expired_time > 0 and _taken(capture_id) < now - self.expired_time
                over = self.quota > 0 and self._size > self.quota
                if not (expired or over):
                    break  # oldest first: the rest is newer and fits
                del self._index[capture_id]
                self._info.pop(capture_id, None)
                self._size -= size
                gone.append((capture_id, path))
        for _, path in gone:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as err:
                _LOGGER.error("captures: cannot delete %s: %s", path.name, err.strerror or err)
        if gone:
            self.deleted += len(gone)
            _LOGGER.info(
                "captures: %d picture(s) deleted by retention (older than %.0f days, or over "
                "%.0f MB); %.1f MB kept",
                len(gone),
                self.expired_time / 86400,
                self.quota / 1024 / 1024,
                self._size / 1024 / 1024,
            )
        return len(gone)

    @property
    def size(self) -> int:
        """Bytes of pictures kept."""
        return self._size

    def __len__(self) -> int:
        return len(self._index)

    def path(self, capture_id: str) -> Path:
        """The file of a capture; ``NotFoundError`` for an unknown or malformed id."""
        if CAPTURE_ID.fullmatch(capture_id):
            with self._lock:
                known = self._index.get(capture_id)
            if known is not None and known[0].exists():
                return known[0]
        raise NotFoundError(f"no capture {capture_id!r}", "capture_not_found")


def _taken(capture_id: str) -> float:
    """When a capture was taken: its id starts with the milliseconds, in hex."""
    return int(capture_id[:13], 16) / 1000


__all__ = ["CAPTURE_ID", "MANUAL", "REASON", "Capture", "Captures"]
