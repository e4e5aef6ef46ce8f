"""Start-up recovery: what a crash (kill -9, a power cut) left in the recordings folder is made
consistent with the index before anything records.

- A ``.part`` file (the segment open at the crash) is finished when it demuxes and starts at
  a keyframe (MPEG-TS plays up to where it was cut): renamed to its final name and indexed;
  otherwise removed.
- A final file without a row (a crash between the rename and the insert) is indexed.
- A row whose file is gone is removed.
- A clip still open is closed at the end of its channel's last segment (or at its start).

Every action is counted in the ``RecoveryReport`` and logged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .index import RecordingIndex, Segment
from .segments import PART, SUFFIX, parse_name, probe

_LOGGER = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    finished: int = 0  # .part files recovered as segments
    discarded: int = 0  # .part files that held nothing playable
    indexed: int = 0  # complete files that had no row
    forgotten: int = 0  # rows whose file was gone
    clips_closed: int = 0


def recover(root: Path, index: RecordingIndex) -> RecoveryReport:
    """Reconcile ``root`` and ``index`` (blocking)."""
    report = RecoveryReport()
    known = index.paths()
    for part in sorted(root.rglob(f"*{SUFFIX}{PART}")):
        final = part.with_name(part.name[: -len(PART)])
        if adopt(root, part, index, final) is not None:
            report.finished += 1
            known.add(final.relative_to(root).as_posix())
            _LOGGER.warning("recovered the interrupted segment %s", final.name)
        else:
            part.unlink(missing_ok=True)
            report.discarded += 1
            _LOGGER.warning("removed the interrupted segment %s: nothing playable", part.name)
    for file in sorted(root.rglob(f"*{SUFFIX}")):
        name = file.relative_to(root).as_posix()
        if name not in known and adopt(root, file, index, file) is not None:
            report.indexed += 1
    for segment in index.segments():
        if not (root / segment.path).is_file():
            index.delete_segment(segment.id)
            report.forgotten += 1
            _LOGGER.warning("segment %s was gone: removed from the index", segment.path)
    for clip in index.open_clips():
        last = index.segments(clip.channel, clip.start)
        index.close_clip(clip.id, max([clip.start, *(s.end for s in last)]))
        report.clips_closed += 1
    return report


def adopt(root: Path, file: Path, index: RecordingIndex, final: Path) -> Segment | None:
    """Index ``file`` under ``final``'s name when it plays from a keyframe (its row; ``None``
    when it does not play)."""
    parsed = parse_name(final.name)
    found = probe(file)
    if parsed is None or found is None or not found.starts_with_keyframe:
        return None
    channel, stream, start = parsed
    if file != final:
        with open(file, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(file, final)
    return index.add_segment(
        channel,
        stream,
        start,
        start + found.duration,
        final.relative_to(root).as_posix(),
        final.stat().st_size,
        found.keyframes,
    )
