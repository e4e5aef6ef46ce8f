"""Retention of segments: expiration per channel (``expiration_days``) and overwrite of the
oldest when a quota is reached or free space runs low. A segment an open clip overlaps is
never deleted; every deletion is counted and logged."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .index import RecordingIndex, Segment

_LOGGER = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    expired: int = 0
    overwritten: int = 0
    kept_for_clips: int = 0  # candidates kept because an open clip overlaps them


def _protected(segment: Segment, open_clips: list[tuple[str, float]]) -> bool:
    return any(channel == segment.channel and segment.end >= start for channel, start in open_clips)


def prune(
    root: Path,
    index: RecordingIndex,
    expiration_days: Mapping[str, float],
    now: float,
    *,
    quota_bytes: int = 0,
    min_free_bytes: int = 0,
) -> RetentionReport:
    """Delete expired segments, then the oldest while over ``quota_bytes`` (0: none) or
    while the disk has less than ``min_free_bytes`` free (0: no check). Blocking."""
    report = RetentionReport()
    open_clips = [(c.channel, c.start) for c in index.open_clips()]
    segments = index.segments()
    kept: list[Segment] = []
    for segment in segments:
        days = expiration_days.get(segment.channel, 0.0)
        if days and segment.end < now - days * 86_400:
            if _protected(segment, open_clips):
                report.kept_for_clips += 1
                kept.append(segment)
                continue
            _delete(root, index, segment)
            report.expired += 1
        else:
            kept.append(segment)
    total = sum(s.size for s in kept)

    def over() -> bool:
        if quota_bytes and total > quota_bytes:
            return True
        return bool(min_free_bytes) and shutil.disk_usage(root).free < min_free_bytes

    for segment in kept:  # oldest first
        if not over():
            break
        if _protected(segment, open_clips):
            report.kept_for_clips += 1
            continue
        _delete(root, index, segment)
        total -= segment.size
        report.overwritten += 1
    if report.expired or report.overwritten:
        _LOGGER.info(
            "recordings: %d expired and %d overwritten segments deleted",
            report.expired,
            report.overwritten,
        )
    return report


def _delete(root: Path, index: RecordingIndex, segment: Segment) -> None:
    """The row goes first: a crash in between leaves a file recovery indexes again, never a
    row naming no file."""
    index.delete_segment(segment.id)
    (root / segment.path).unlink(missing_ok=True)
