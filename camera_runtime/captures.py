"""Captured pictures ("capture picture"): JPEG files in the data folder, indexed in SQLite
(the recording index's ``pictures`` table: searched, counted and expired by query), addressed by
id only.

Ids are generated here and checked against their exact pattern before any file access, so a
client-supplied id can never name a path outside the folder (TESTPLAN C1).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data_folder import private_folder, write_private
from .exceptions import NotFoundError, StorageError
from .model import EVENT_ID, new_event_id
from .recording.pictures import PictureIndex, PictureRow, picture_type

_LOGGER = logging.getLogger(__name__)

#: A capture is named like an event (``model.new_event_id``).
CAPTURE_ID = EVENT_ID


#: Why a picture was taken: ``manual``, ``timing`` or the event type that triggered it.
REASON = re.compile(r"[a-z0-9_]{1,64}")
MANUAL = "manual"
#: The index's file when the runtime names none (the runtime uses its recording index).
INDEX_FILE = "pictures.sqlite3"


@dataclass(frozen=True, slots=True)
class Capture:
    id: str
    channel: str
    time: float
    size: int
    reason: str = MANUAL

    @property
    def type(self) -> str:
        """The manual's capture type: ``manual``, ``timing`` or ``event``."""
        return picture_type(self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "time": self.time,
            "size": self.size,
            "type": self.type,
            "reason": self.reason,
            "url": f"/api/captures/{self.id}.jpg",
            "thumbnail": f"/api/captures/{self.id}/thumbnail.jpg",
        }


def _parse(name: str) -> Capture | None:
    """The capture a file name describes (its size unknown), or ``None``."""
    parts = name.split(".")
    if len(parts) not in (3, 4) or parts[-1] != "jpg" or not CAPTURE_ID.fullmatch(parts[0]):
        return None
    reason = parts[2] if len(parts) == 4 else MANUAL
    if not REASON.fullmatch(reason):
        return None
    return Capture(parts[0], parts[1], _taken(parts[0]), 0, reason)


class Captures:
    """The capture folder and its pictures' rows in the recording index (``index``: the
    SQLite file; by default one in the folder). Files are named ``<id>.<channel>.jpg``
    (manual captures, as before reasons were kept) or ``<id>.<channel>.<reason>.jpg``;
    channel ids and reasons cannot hold dots.

    Retention keeps the folder from filling the disk: pictures older than ``expired_time_days``
    go (0: never), then the oldest until the folder holds at most ``quota_mb`` (0: no quota),
    chosen by query on the index. It runs at ``load``, after each ``save`` and whenever the
    runtime asks (hourly). Blocking: run it in an executor.
    """

    def __init__(
        self,
        folder: Path,
        expired_time_days: float = 30,
        quota_mb: float = 1024,
        index: Path | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.expired_time = expired_time_days * 86400
        self.quota = int(quota_mb * 1024 * 1024)
        self._lock = threading.Lock()
        self.index = PictureIndex(index if index is not None else self.folder / INDEX_FILE)
        self._totals: tuple[int, int] | None = None  # (count, bytes), read once from the index
        #: Pictures deleted by retention since the start.
        self.deleted = 0
        #: Files found without a row at ``load`` (adopted) and rows without a file (forgotten).
        self.adopted = 0
        self.forgotten = 0

    def _counts(self) -> tuple[int, int]:
        if self._totals is None:
            self._totals = self.index.totals()
        return self._totals

    def _change(self, count: int, size: int) -> None:
        before = self._counts()
        self._totals = (before[0] + count, before[1] + size)

    def load(self) -> None:
        """Reconcile the index with the folder: adopt the pictures without a row, forget the
        rows whose file is gone; then apply retention to what an earlier run left."""
        try:
            on_disk = {p.name: p for p in self.folder.glob("*.jpg")}
        except OSError as err:  # unreadable: keep the rows as they are; saves say what fails
            _LOGGER.error("captures: cannot list the capture folder: %s", err.strerror or err)
            return
        try:
            with self._lock:
                known = self.index.files()
                gone = [picture_id for name, picture_id in known.items() if name not in on_disk]
                if gone:
                    self.index.delete(gone)
                adopted = 0
                for name, path in sorted(on_disk.items()):
                    capture = _parse(name)
                    if name in known or capture is None:
                        continue
                    size = path.stat().st_size
                    self.index.add(_row(dataclasses.replace(capture, size=size), name))
                    adopted += 1
                self._totals = self.index.totals()
        except (OSError, sqlite3.Error) as err:
            _LOGGER.error("captures: cannot index the capture folder: %s", err)
            return
        self.adopted += adopted
        self.forgotten += len(gone)
        if adopted or gone:
            _LOGGER.info(
                "captures: %d picture(s) adopted into the index, %d row(s) without a file "
                "forgotten",
                adopted,
                len(gone),
            )
        self.prune()

    def save(
        self, channel: str, jpeg: bytes, reason: str = MANUAL, capture_id: str | None = None
    ) -> Capture:
        """Write one picture atomically, index it, then apply retention; blocking. ``reason``:
        why it was taken (``manual``, ``timing``, an event type); ``capture_id``: one named
        beforehand (an event's ``snapshot``), else a new one."""
        if not REASON.fullmatch(reason):
            raise ValueError(f"not a capture reason: {reason!r}")
        if capture_id is not None and not CAPTURE_ID.fullmatch(capture_id):
            raise ValueError(f"not a capture id: {capture_id!r}")
        capture_id = capture_id or new_event_id()
        capture = Capture(capture_id, channel, _taken(capture_id), len(jpeg), reason)
        tag = "" if reason == MANUAL else f".{reason}"
        name = f"{capture.id}.{channel}{tag}.jpg"
        try:
            private_folder(self.folder)
            write_private(self.folder / name, jpeg)
            with self._lock:
                self._counts()  # before the row: it is counted once
                self.index.add(_row(capture, name))
                self._change(1, len(jpeg))
        except (OSError, sqlite3.Error) as err:
            reason_text = err.strerror if isinstance(err, OSError) and err.strerror else err
            raise StorageError(
                f"cannot save the capture ({self.folder.name}/): {reason_text}"
            ) from err
        self.prune()
        return capture

    def search(
        self,
        channel: str | None = None,
        start: float | None = None,
        end: float | None = None,
        reason: str | None = None,
        limit: int | None = None,
    ) -> list[Capture]:
        """The pictures kept, oldest first: of ``channel``, taken in ``[start, end]``, of
        ``reason`` (a capture type, ``manual``/``timing``/``event``, or the event type it was
        taken for); each ``None``: any."""
        rows = self.index.search(channel, start, end, reason, limit)
        return [Capture(r.id, r.channel, r.time, r.size, r.reason) for r in rows]

    def prune(self, now: float | None = None) -> int:
        """Delete what retention says must go; returns how many pictures went."""
        now = time.time() if now is None else now
        with self._lock:
            try:
                gone = self._to_prune(now)
                if gone:
                    self.index.delete([row.id for row in gone])
            except sqlite3.Error as err:
                _LOGGER.error("captures: retention cannot query the index: %s", err)
                return 0
            self._change(-len(gone), -sum(row.size for row in gone))
        for row in gone:
            try:
                (self.folder / row.file).unlink()
            except FileNotFoundError:
                pass
            except OSError as err:
                _LOGGER.error("captures: cannot delete %s: %s", row.file, err.strerror or err)
        if gone:
            self.deleted += len(gone)
            _LOGGER.info(
                "captures: %d picture(s) deleted by retention (older than %.0f days, or over "
                "%.0f MB); %.1f MB kept",
                len(gone),
                self.expired_time / 86400,
                self.quota / 1024 / 1024,
                self.size / 1024 / 1024,
            )
        return len(gone)

    def _to_prune(self, now: float) -> list[PictureRow]:
        """The expired rows, then the oldest while the rest is over the quota."""
        gone: list[PictureRow] = []
        if self.expired_time > 0:
            gone = self.index.search(end=now - self.expired_time)
        size = self._counts()[1] - sum(row.size for row in gone)
        if self.quota <= 0 or size <= self.quota:
            return gone
        taken = {row.id for row in gone}
        batch = 64
        while True:
            rows = self.index.search(limit=batch)
            for row in rows:
                if row.id in taken:
                    continue
                if size <= self.quota:
                    return gone
                gone.append(row)
                taken.add(row.id)
                size -= row.size
            if size <= self.quota or len(rows) < batch:
                return gone
            batch *= 4

    @property
    def size(self) -> int:
        """Bytes of pictures kept."""
        return self._totals[1] if self._totals is not None else 0

    def __len__(self) -> int:
        return self._counts()[0]

    def get(self, capture_id: str) -> Capture:
        """A picture by id; ``NotFoundError`` for an unknown or malformed id."""
        row = self.index.get(capture_id) if CAPTURE_ID.fullmatch(capture_id) else None
        if row is None:
            raise NotFoundError(f"no capture {capture_id!r}", "capture_not_found")
        return Capture(row.id, row.channel, row.time, row.size, row.reason)

    def path(self, capture_id: str) -> Path:
        """The file of a capture; ``NotFoundError`` for an unknown or malformed id."""
        if CAPTURE_ID.fullmatch(capture_id):
            row = self.index.get(capture_id)
            if row is not None and (self.folder / row.file).exists():
                return self.folder / row.file
        raise NotFoundError(f"no capture {capture_id!r}", "capture_not_found")

    def close(self) -> None:
        self.index.close()


def _row(capture: Capture, file: str) -> PictureRow:
    return PictureRow(
        capture.id, capture.channel, capture.time, capture.type, capture.reason, capture.size,
        file,
    )  # fmt: skip


def _taken(capture_id: str) -> float:
    """When a capture was taken: its id starts with the milliseconds, in hex."""
    return int(capture_id[:13], 16) / 1000


__all__ = ["CAPTURE_ID", "MANUAL", "REASON", "Capture", "Captures"]
