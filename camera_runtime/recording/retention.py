"""Retention of segments: expiration per channel (``expiration_days``) and, when
``overwrite`` is on, overwrite of the oldest when the video quota is reached or free space
runs low. Every deletion is counted and logged.

Nothing is deleted that a clip still references: a segment a clip overlaps (an event's, a
record-clip command's, a manual recording's) is deleted only after the clip was removed, and
a clip still being recorded is never removed. Expiration removes the clips that ended
``expiration_days`` ago, then the expired segments no remaining clip overlaps. Overwriting
goes oldest first: the closed clips an old segment belongs to are removed with it.
"""

from __future__ import annotations

import bisect
import logging
import math
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .index import Clip, RecordingIndex, Segment

_LOGGER = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    expired: int = 0
    overwritten: int = 0
    kept_for_clips: int = 0  # segments kept because a clip overlaps them
    clips_removed: int = 0  # clips removed by expiration or overwritten


class _References:
    """The clips' time ranges per channel, sorted by start: whether a segment overlaps one
    (a bisection, not a scan: months of segments against thousands of clips)."""

    def __init__(self, clips: Iterable[Clip]) -> None:
        spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for clip in clips:
            spans[clip.channel].append((clip.start, math.inf if clip.end is None else clip.end))
        self._starts: dict[str, list[float]] = {}
        #: The latest end among the clips starting at or before each index.
        self._reach: dict[str, list[float]] = {}
        for channel, ranges in spans.items():
            ranges.sort()
            self._starts[channel] = [start for start, _ in ranges]
            reach, furthest = [], -math.inf
            for _, end in ranges:
                furthest = max(furthest, end)
                reach.append(furthest)
            self._reach[channel] = reach

    def hold(self, segment: Segment) -> bool:
        starts = self._starts.get(segment.channel)
        if not starts:
            return False
        last = bisect.bisect_right(starts, segment.end) - 1  # clips starting before it ends
        return last >= 0 and self._reach[segment.channel][last] >= segment.start


def over_limits(root: Path, total: int, quota_bytes: int, min_free_bytes: int) -> str | None:
    """Why there is no room for more video (``None``: there is): ``total`` bytes of video
    past ``quota_bytes``, or less than ``min_free_bytes`` free on the disk (0: no limit)."""
    if quota_bytes and total > quota_bytes:
        return f"the video quota ({quota_bytes / 2**20:.0f} MB) is reached"
    if min_free_bytes and shutil.disk_usage(root).free < min_free_bytes:
        return f"less than {min_free_bytes / 2**20:.0f} MB free on the disk"
    return None


def prune(
    root: Path,
    index: RecordingIndex,
    expiration_days: Mapping[str, float],
    now: float,
    *,
    quota_bytes: int = 0,
    min_free_bytes: int = 0,
    overwrite: bool = True,
) -> RetentionReport:
    """Delete expired clips and segments, then (with ``overwrite``) the oldest while over
    ``quota_bytes`` (0: none) or while the disk has less than ``min_free_bytes`` free (0: no
    check). Blocking."""
    report = RetentionReport()
    for clip in index.clips():
        days = expiration_days.get(clip.channel, 0.0)
        if days and clip.end is not None and clip.end < now - days * 86_400:
            index.delete_clip(clip.id)
            report.clips_removed += 1
    references = _References(index.clips())
    kept: list[Segment] = []
    for segment in index.segments():
        days = expiration_days.get(segment.channel, 0.0)
        if days and segment.end < now - days * 86_400:
            if references.hold(segment):
                report.kept_for_clips += 1
                kept.append(segment)
                continue
            _delete(root, index, segment)
            report.expired += 1
        else:
            kept.append(segment)
    if overwrite and (quota_bytes or min_free_bytes):
        _overwrite(root, index, kept, report, quota_bytes, min_free_bytes)
    if report.expired or report.overwritten or report.clips_removed:
        index.checkpoint()
        _LOGGER.info(
            "recordings: %d expired and %d overwritten segments deleted, %d clips removed",
            report.expired,
            report.overwritten,
            report.clips_removed,
        )
    return report


def _overwrite(
    root: Path,
    index: RecordingIndex,
    kept: list[Segment],
    report: RetentionReport,
    quota_bytes: int,
    min_free_bytes: int,
) -> None:
    """The oldest first, whatever references them: a closed clip a segment belongs to is
    removed first (whole: its other segments stay, as plain video); a segment a clip still
    being recorded overlaps stays."""
    recording = _References(index.open_clips())
    total = sum(s.size for s in kept)
    rows_left: list[int] = []
    for segment in kept:  # oldest first
        if not over_limits(root, total, quota_bytes, min_free_bytes):
            break
        if recording.hold(segment):
            report.kept_for_clips += 1
            continue
        for clip in index.clips(segment.channel, segment.start, segment.end):
            if clip.end is not None:
                index.delete_clip(clip.id)
                report.clips_removed += 1
        try:
            _delete(root, index, segment)
        except sqlite3.Error:
            rows_left.append(segment.id)  # its file is gone: the row goes once there is room
        total -= segment.size
        report.overwritten += 1
    for segment_id in rows_left:
        try:
            index.checkpoint()
            index.delete_segment(segment_id)
        except sqlite3.Error as err:
            _LOGGER.error("recordings: a deleted segment's row stays until the next start: %s", err)


def _delete(root: Path, index: RecordingIndex, segment: Segment) -> None:
    """The row goes first: a crash in between leaves a file recovery indexes again, never a
    row naming no file. On a full disk the index cannot even delete (SQLite's journal must
    grow): then the file goes anyway, which makes the room, and the error is raised for the
    caller to delete the row again once there is room (a crash before that leaves a row
    without a file, which recovery removes)."""
    try:
        index.delete_segment(segment.id)
    except sqlite3.Error:
        (root / segment.path).unlink(missing_ok=True)
        raise
    (root / segment.path).unlink(missing_ok=True)
