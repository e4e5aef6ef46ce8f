"""Picture and clip upload to servers (manual 5.1.2 FTP, 5.1.3 NAS, 8.2.2 "upload to
FTP/NAS"), with automatic network replenishment: every picture or finished clip is queued on
disk first, then sent by one worker per target, oldest first, retried with backoff while the
server is away. A target's ``content`` says what it takes (``pictures``, ``clips``); a clip is
one MP4 file (its segments remuxed, never re-encoded), queued as a file the backend sends as
it reads it.

Nothing is lost silently: a failure is logged (once per episode), raised as the device's
``storage_error`` exception with the source ``upload <target>`` (what waits and what was
dropped in its data), retried, and counted in ``status()``. Credentials stay in the backend's
options and never reach a message: backends word their errors themselves.

The queue's own file failing (a full disk) is the same exception with the source ``upload
queue``: a picture it cannot take is counted (``unqueued``; the capture itself is kept in the
capture folder), a worker that cannot read or update it retries with backoff, and what was
queued before stays queued.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from ..data_folder import private_folder
from ..exceptions import CameraRuntimeError, ConfigError, NotFoundError, StorageError
from ..feed import BACKOFF_START, jittered, next_backoff
from ..interfaces import StorageBackend
from ..registry import PluginRegistry
from .naming import NAMING_SCHEMA, Picture, local_ip, remote_path
from .queue import QUEUE_FILE, UploadQueue
from .settings import UPLOADS_SCHEMA

_LOGGER = logging.getLogger(__name__)

#: Content types a target can take: captured pictures (JPEG) and finished clips (MP4).
CONTENT_TYPES = ("pictures", "clips")
#: The queue's content type of each.
MEDIA_TYPES = {"pictures": "image/jpeg", "clips": "video/mp4"}

_ID = vol.All(str, vol.Match(re.compile(r"^[a-z0-9_]{1,32}$"), msg="lower-case letters, digits, _"))
#: The keys every target has; the rest are its backend's own options.
TARGET_KEYS = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Required("type"): vol.All(str, vol.Length(min=1)),
        vol.Optional("enabled", default=True): bool,
        vol.Optional("content", default=["pictures"]): vol.All(
            [vol.In(CONTENT_TYPES)], vol.Length(min=1)
        ),
        vol.Optional("naming", default={}): NAMING_SCHEMA,
        vol.Optional("timeout", default=30.0): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=600)
        ),
    },
    extra=vol.ALLOW_EXTRA,
)
#: The storage watch's source for the queue's file.
QUEUE_SOURCE = "upload queue"
#: Reports a target's failure (an error) or recovery (``None``) to the storage watch.
Report = Callable[[str, str | None, int, int], None]


def _message(err: Exception, timeout: float) -> str:
    """A backend's failure in words (backends word theirs without credentials)."""
    if isinstance(err, CameraRuntimeError):
        return err.message
    if isinstance(err, TimeoutError):
        return f"no answer within {timeout:g} s"
    return getattr(err, "strerror", None) or type(err).__name__


def _humanize(err: vol.Invalid, where: str) -> str:
    path = ".".join(str(p) for p in err.path)
    return f"{where}.{path}: {err.msg}" if path else f"{where}: {err.msg}"


@dataclass
class Target:
    """One upload target and what it did."""

    id: str
    kind: str
    content: tuple[str, ...]
    naming: Mapping[str, Any]
    timeout: float
    backend: StorageBackend
    #: Set when a picture is queued (an idle worker looks again)...
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    #: ...and when a test reached the server (a worker waiting to retry goes now).
    retry: asyncio.Event = field(default_factory=asyncio.Event)
    uploaded: int = 0
    failures: int = 0
    dropped: int = 0
    #: Pictures the queue's file could not take.
    unqueued: int = 0
    pending: int = 0
    last_error: str = ""
    last_upload: float | None = None
    retry_at: float | None = None
    #: Of the counts above, the clips' (``pending``, ``uploaded``, ``dropped``, ``unqueued``).
    clips: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("pending", "uploaded", "dropped", "unqueued"), 0)
    )

    def count_dropped(self, content_types: list[str]) -> None:
        """Count the items the queue's bound dropped."""
        self.dropped += len(content_types)
        clips = content_types.count(MEDIA_TYPES["clips"])
        self.clips["dropped"] += clips
        self.clips["pending"] = max(0, self.clips["pending"] - clips)

    def count_uploaded(self, content_type: str) -> None:
        """Count one item the server took."""
        self.uploaded += 1
        self.pending = max(0, self.pending - 1)
        if content_type == MEDIA_TYPES["clips"]:
            self.clips["uploaded"] += 1
            self.clips["pending"] = max(0, self.clips["pending"] - 1)

    def status(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "content": list(self.content),
            "state": "failing" if self.last_error else "ok",
            "pending": self.pending,
            "uploaded": self.uploaded,
            "failures": self.failures,
            "dropped": self.dropped,
            "unqueued": self.unqueued,
            "last_error": self.last_error,
            "last_upload": self.last_upload,
            "retry_at": self.retry_at,
            "clips": dict(self.clips),
        }


def build_targets(section: Mapping[str, Any], registry: PluginRegistry) -> list[Target]:
    """The targets of the validated ``uploads:`` section; ``ConfigError`` names the key."""
    targets: list[Target] = []
    seen: set[str] = set()
    for index, raw in enumerate(section["targets"]):
        where = f"uploads.targets[{index}]"
        try:
            common = TARGET_KEYS(raw)
        except vol.Invalid as err:
            raise ConfigError(_humanize(err, where)) from None
        if common["id"] in seen:
            raise ConfigError(f"{where}.id: {common['id']!r} is used twice")
        seen.add(common["id"])
        try:
            backend_cls = registry.get("storage_backend", common["type"])
        except CameraRuntimeError as err:
            raise ConfigError(f"{where}.type: {err.message}") from None
        own = {k: v for k, v in raw.items() if k not in TARGET_KEYS.schema}
        try:
            options = backend_cls.CONFIG_SCHEMA(own)
        except vol.Invalid as err:
            raise ConfigError(_humanize(err, where)) from None
        if not common["enabled"]:
            continue
        backend = backend_cls(options)
        assert isinstance(backend, StorageBackend)
        targets.append(
            Target(
                common["id"],
                common["type"],
                tuple(common["content"]),
                common["naming"],
                common["timeout"],
                backend,
            )
        )
    return targets


class Uploads:
    """The upload targets of one runtime and their workers. ``start``/``stop`` on the loop."""

    def __init__(
        self, section: Mapping[str, Any], registry: PluginRegistry, data_dir: Path, report: Report
    ) -> None:
        self.targets = {t.id: t for t in build_targets(section, registry)}
        self._queue = UploadQueue(
            Path(data_dir) / QUEUE_FILE,
            max_items=section["max_items"],
            max_bytes=int(section["max_mb"] * 1024 * 1024),
        )
        self._report = report
        #: The queue's file fails now (reported as ``QUEUE_SOURCE``).
        self._queue_failing = False
        #: The address in picture names: configured, or found once at start.
        self.device_ip: str = section.get("device_ip") or ""
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = asyncio.Condition()

    async def _off[T](self, call: Callable[..., T], *args: Any) -> T:
        assert self._pool is not None
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)

    async def start(self) -> None:
        if not self.targets:
            return
        self.device_ip = self.device_ip or local_ip()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uploads")
        try:
            await self._off(self._queue.open)
            for target in self.targets.values():
                target.pending = await self._off(self._queue.pending, target.id)
                target.clips["pending"] = await self._off(
                    self._queue.pending_of, target.id, MEDIA_TYPES["clips"]
                )
        except StorageError as err:  # the storage error; every use tries to open it again
            self._queue_failed(err)
        for target in self.targets.values():
            self._tasks.append(asyncio.create_task(self._work(target), name=f"upload {target.id}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        self._tasks = []
        if self._pool is not None:
            await self._off(self._queue.close)
            self._pool.shutdown(wait=True)
            self._pool = None

    def status(self) -> dict[str, Any]:
        return {target_id: t.status() for target_id, t in self.targets.items()}

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Wait until ``predicate(status())`` holds: it is asked after every upload's outcome
        (for a client waiting on a test, or a test waiting on the uploads)."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self.status()))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def offer_picture(self, picture: Picture, jpeg: bytes) -> list[str]:
        """Queue a picture for every target that takes pictures; returns the ids of those
        whose queue took it. A queue that cannot be written is reported (the storage error),
        the picture counted as ``unqueued`` for the target, and the others still offered."""
        taken = []
        for target in self.targets.values():
            if "pictures" not in target.content:
                continue
            name = remote_path(picture, target.naming)
            try:
                dropped = await self._off(
                    self._queue.put, target.id, name, MEDIA_TYPES["pictures"], jpeg
                )
            except StorageError as err:
                target.unqueued += 1
                self._queue_failed(err)
                continue
            self._queue_works()
            target.count_dropped(dropped)
            target.pending += 1 - len(dropped)
            target.wake.set()
            taken.append(target.id)
        await self._notify()
        return taken

    def takes(self, content: str) -> bool:
        """Whether any target takes ``content`` (``pictures``, ``clips``)."""
        return any(content in t.content for t in self.targets.values())

    async def offer_clip(self, picture: Picture, make: Callable[[Path], object]) -> list[str]:
        """Queue a finished clip for every target that takes clips; returns the ids of those
        whose queue took it. ``make(path)`` writes the clip's MP4 to ``path`` (blocking: it
        runs in a thread); ``NotFoundError`` from it means nothing of the clip was recorded
        (logged, nothing queued). Each target's queue gets its own link to the one file
        (no copy where the file system links). A clip that cannot be made or queued (a full
        disk) is counted as ``unqueued`` and reported, as a picture is."""
        targets = [t for t in self.targets.values() if "clips" in t.content]
        if not targets:
            return []
        made = self._queue.files / f".clip-{uuid.uuid4().hex}.mp4"
        try:
            await asyncio.to_thread(private_folder, self._queue.files)
            await asyncio.to_thread(make, made)
        except NotFoundError as err:
            _LOGGER.warning("clip of %s not uploaded: %s", picture.camera_name, err.message)
            return []
        except Exception as err:  # a full disk, a damaged segment (FFmpeg's own error)
            made.unlink(missing_ok=True)
            _LOGGER.exception("clip of %s cannot be made for upload", picture.camera_name)
            for target in targets:
                target.unqueued += 1
                target.clips["unqueued"] += 1
            message = (
                _message(err, 0) if isinstance(err, CameraRuntimeError | OSError) else str(err)
            )
            self._queue_failed(StorageError(f"a clip cannot be made for upload: {message}"))
            await self._notify()
            return []
        taken = []
        try:
            for target in targets:
                name = remote_path(picture, target.naming, "mp4")
                try:
                    dropped = await self._off(self._queue_link, target.id, name, made)
                except StorageError as err:
                    target.unqueued += 1
                    target.clips["unqueued"] += 1
                    self._queue_failed(err)
                    continue
                self._queue_works()
                target.count_dropped(dropped)
                target.pending += 1 - len(dropped)
                target.clips["pending"] += 1
                target.wake.set()
                taken.append(target.id)
        finally:
            made.unlink(missing_ok=True)
        await self._notify()
        return taken

    def _queue_link(self, target_id: str, name: str, made: Path) -> list[str]:
        """Queue a link (or, where links fail, a copy) of ``made`` for one target."""
        queued = self._queue.files / f"{uuid.uuid4().hex}.mp4"
        try:
            try:
                os.link(made, queued)
            except OSError:
                shutil.copyfile(made, queued)
        except OSError as err:
            queued.unlink(missing_ok=True)
            raise StorageError(f"the upload queue cannot queue a clip: {_message(err, 0)}") from err
        return self._queue.put_file(target_id, name, MEDIA_TYPES["clips"], queued)

    async def test(self, target_id: str) -> dict[str, Any]:
        """The manual's *Test*: reach the server now. ``ok``, or the ``error`` in words; a
        server that answers makes a waiting retry go at once."""
        target = self.targets.get(target_id)
        if target is None:
            raise NotFoundError(f"no upload target {target_id!r}", "upload_target_not_found")
        try:
            async with asyncio.timeout(target.timeout):
                await target.backend.check()
        except (CameraRuntimeError, OSError, TimeoutError) as err:
            return {"target": target_id, "ok": False, "error": _message(err, target.timeout)}
        target.retry.set()
        return {"target": target_id, "ok": True, "error": ""}

    def _queue_failed(self, err: StorageError) -> None:
        """The queue's file refused a read or write: the storage error (logged once)."""
        self._queue_failing = True
        unqueued = sum(t.unqueued for t in self.targets.values())
        pending = sum(t.pending for t in self.targets.values())
        self._report(QUEUE_SOURCE, err.message, pending, unqueued)

    def _queue_works(self) -> None:
        """A write of the queue's file went through: the storage error ends (reads do not
        tell: a full disk still reads)."""
        if self._queue_failing:
            self._queue_failing = False
            unqueued = sum(t.unqueued for t in self.targets.values())
            self._report(QUEUE_SOURCE, None, 0, unqueued)

    async def _wait_retry(self, target: Target, backoff: float) -> None:
        """Wait ``backoff`` (jittered), or until a test reached the server."""
        delay = jittered(backoff)
        target.retry_at = time.time() + delay
        target.retry.clear()
        try:
            async with asyncio.timeout(delay):
                await target.retry.wait()  # a test reached the server: go now
        except TimeoutError:
            pass

    async def _work(self, target: Target) -> None:
        backoff = BACKOFF_START
        while True:
            try:
                backoff = await self._attempt(target, backoff)
            except StorageError as err:  # the queue's file: retried, the items stay queued
                self._queue_failed(err)
                await self._notify()
                await self._wait_retry(target, backoff)
                backoff = next_backoff(backoff)

    async def _attempt(self, target: Target, backoff: float) -> float:
        """Upload the oldest waiting item (or wait for one); returns the next backoff."""
        source = f"upload {target.id}"
        target.wake.clear()
        item = await self._off(self._queue.first, target.id)
        if item is None:
            target.pending = 0
            await target.wake.wait()
            return backoff
        try:
            async with asyncio.timeout(target.timeout):
                if item.path is not None:  # a clip: sent as it is read
                    await target.backend.store_file(item.name, item.path, item.content_type)
                else:
                    await target.backend.store(item.name, item.data, item.content_type)
        except (CameraRuntimeError, OSError, TimeoutError) as err:
            message = _message(err, target.timeout)
            # Counted and reported together: whoever sees the count sees the report too.
            target.failures += 1
            target.last_error = message
            self._report(source, message, target.pending, target.dropped)
            await self._notify()
            await self._off(self._queue.failed, item.id)
            self._queue_works()  # a write went through
            target.pending = await self._off(self._queue.pending, target.id)
            await self._wait_retry(target, backoff)
            return next_backoff(backoff)
        await self._off(self._queue.done, item)
        self._queue_works()
        target.count_uploaded(item.content_type)
        target.last_upload = time.time()
        target.retry_at = None
        if target.last_error:
            target.last_error = ""
            self._report(source, None, 0, target.dropped)
        await self._notify()
        return BACKOFF_START


__all__ = [
    "CONTENT_TYPES",
    "MEDIA_TYPES",
    "QUEUE_SOURCE",
    "UPLOADS_SCHEMA",
    "Target",
    "Uploads",
    "build_targets",
]
