"""Playback for a browser: a time range's segments (MPEG-TS, which a ``<video>`` element does
not play) remuxed into one MP4 file with its index at the front (``faststart``), so the
browser plays it at once and seeks with byte ranges. No re-encoding: packets are copied.

Times in the file are the recording's wall-clock times from the first segment's start, so a
page that knows the segments puts ``currentTime`` at ``t - first.start``; a gap between
segments stays a gap. A few remuxed files are kept (a browser asks for several byte ranges of
one file; remuxing again for each would cost), the oldest deleted past ``keep``. Blocking:
run it off the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from ..data_folder import private_folder
from ..exceptions import NotFoundError
from .index import Segment

_LOGGER = logging.getLogger(__name__)


def _copy_of(dst: Any, stream: Any) -> Any:
    """An output stream copying ``stream``'s codec: PyAV 14 moved ``add_stream(template=)``
    (PyAV 13, Home Assistant's pin) to ``add_stream_from_template``."""
    from_template = getattr(dst, "add_stream_from_template", None)
    if from_template is not None:
        return from_template(stream)
    return dst.add_stream(template=stream)


def remux_mp4(segments: list[tuple[Path, float]], out: Path) -> None:
    """Write the video of ``segments`` (file, wall-clock start), in order, to ``out`` as MP4;
    ``NotFoundError`` when none holds a packet."""
    partial = out.with_name(f".{out.name}.part")
    written = 0
    try:
        with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as dst:
            target = None
            time_base: Fraction | None = None
            origin = segments[0][1] if segments else 0.0
            last_dts: int | None = None
            for path, start in segments:
                with av.open(str(path)) as src:
                    if not src.streams.video:
                        continue
                    stream = src.streams.video[0]
                    if target is None:
                        target = _copy_of(dst, stream)
                        time_base = stream.time_base
                    assert time_base is not None
                    shift: int | None = None
                    for packet in src.demux(stream):
                        if packet.dts is None or packet.pts is None or not packet.size:
                            continue
                        if shift is None:
                            shift = round((start - origin) / time_base) - packet.dts
                            if last_dts is not None and packet.dts + shift <= last_dts:
                                shift = last_dts + 1 - packet.dts  # keep the order
                        packet.dts += shift
                        packet.pts += shift
                        packet.stream = target
                        dst.mux(packet)
                        last_dts = packet.dts
                        written += 1
        if not written:
            raise NotFoundError("no picture recorded in that time range")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


class PlaybackFiles:
    """The remuxed files of the last ranges asked for, in ``folder`` (emptied at start)."""

    def __init__(self, folder: Path, keep: int = 4) -> None:
        self.folder = folder
        self.keep = keep
        self._files: OrderedDict[str, Path] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[str, threading.Lock] = {}

    def clear(self) -> None:
        """Delete what an earlier run left."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                path.unlink(missing_ok=True)

    def mp4(self, segments: list[Segment], root: Path) -> Path:
        """The MP4 of ``segments`` (files under ``root``), remuxed once per set of segments."""
        key = hashlib.sha256(",".join(f"{s.id}:{s.size}" for s in segments).encode()).hexdigest()[
            :32
        ]
        with self._lock:
            known = self._files.get(key)
            if known is not None and known.exists():
                self._files.move_to_end(key)
                return known
            making = self._making.setdefault(key, threading.Lock())
        with making:  # two requests of one range: one remux
            with self._lock:
                known = self._files.get(key)
            if known is not None and known.exists():
                return known
            private_folder(self.folder)
            out = self.folder / f"{key}.mp4"
            remux_mp4([(root / s.path, s.start) for s in segments], out)
            with self._lock:
                self._making.pop(key, None)
                self._files[key] = out
                while len(self._files) > self.keep:
                    _, old = self._files.popitem(last=False)
                    old.unlink(missing_ok=True)  # a response still sending keeps its handle
        return out


__all__ = ["PlaybackFiles", "remux_mp4"]
