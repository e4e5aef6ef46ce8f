"""Bench-only instruments: a live-paced file source that records each frame's lateness, and a scheduling-delay probe.

``bench_file`` is the built-in ``file`` source plus one option, ``tag``, under which it records
its statistics in this process (``STATS[tag]``). It is registered through
``runtime_from_data(..., extra_plugins=[_paced])``.

Lateness. In ``realtime`` mode the file source sleeps until each packet's time on a schedule
fixed by its first packet (``origin + media time``), then stamps ``demux_time`` and
``wall_time`` with the clock *after* that sleep: the stamps say when the packet was actually
handed on, not when it was due. A live camera's packet is due at its schedule whatever our
threads do, so lateness is measured from the schedule: ``due = origin + frame.pts``, with
``origin`` the first frame's ``demux_time`` (the first packet is not slept for) minus its pts.
The channel's feed calls ``read_packet()`` for the next packet as soon as it has finished with
the previous one (fan-out, decode, slot, fps window, downscale, detectors, events), so the time
at the start of ``read_packet()`` is when the previous frame's processing finished. A frame is *late* when that is more than one
frame interval (40 ms at 25 fps) after its due time. ``wake`` (``demux_time - due``) is how
late the source's thread woke from its pacing sleep: scheduling delay before any decoding.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import Source
from camera_runtime.model import Frame, Packet
from camera_runtime_plugins.sources.file import FileSource


class Lateness:
    """Per-channel lateness samples (seconds). Appends come from the channel's thread; the
    lists are swapped, never cleared in place, so ``reset`` from another thread is safe.
    ``times`` holds when each ``done`` sample was taken (``time.monotonic()``, one clock for
    every process of the machine), so samples taken in a channel worker process can be cut
    to the measured window afterwards."""

    def __init__(self) -> None:
        self.done: list[float] = []
        self.times: list[float] = []
        self.wake: list[float] = []
        self.origin: float | None = None
        #: demux_time -> due time of recent frames; only kept when not None (event latency).
        self.due: dict[float, float] | None = None

    def reset(self) -> None:
        self.done = []
        self.times = []
        self.wake = []

    def window(self, start: float, end: float) -> tuple[list[float], list[float]]:
        """The ``done`` and ``wake`` samples taken between ``start`` and ``end``."""
        kept = [i for i, t in enumerate(self.times) if start <= t <= end]
        return [self.done[i] for i in kept], [self.wake[i] for i in kept]

    def as_data(self) -> dict[str, Any]:
        return {"done": self.done, "times": self.times, "wake": self.wake, "origin": self.origin}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Lateness:
        stats = cls()
        stats.done, stats.times, stats.wake = data["done"], data["times"], data["wake"]
        stats.origin = data["origin"]
        return stats


#: tag -> statistics of the bench_file sources of this process.
STATS: dict[str, Lateness] = {}
#: Where sources write their statistics as they close (``PacedFileSource.close``).
DUMP_DIR_ENV = "BENCH_PACED_DIR"


def dumped(folder: Path) -> dict[str, Lateness]:
    """The statistics the sources wrote to ``folder``, by tag (one file per tag and process;
    a channel restarted in another process writes another, and their samples are joined)."""
    found: dict[str, Lateness] = {}
    for path in sorted(folder.glob("*.json")):
        tag = path.name.split(".", 1)[0]
        stats = Lateness.from_data(json.loads(path.read_text()))
        have = found.get(tag)
        if have is None:
            found[tag] = stats
        else:
            have.done += stats.done
            have.times += stats.times
            have.wake += stats.wake
            have.origin = have.origin if have.origin is not None else stats.origin
    return found


class PacedFileSource(FileSource):
    """The ``file`` source, recording how late each frame's processing finished."""

    kind: ClassVar[str] = "bench_file"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = FileSource.CONFIG_SCHEMA.extend(
        {vol.Optional("tag", default=""): str}
    )

    def __init__(self, options: Any) -> None:
        super().__init__({k: v for k, v in options.items() if k != "tag"})
        self.tag = str(options.get("tag", ""))
        self.stats = STATS.setdefault(self.tag, Lateness())
        self._prev_due: float | None = None
        self._prev_demux = 0.0
        self._origin: float | None = None  # frames: demux time minus pts
        self._packet_origin: float | None = None  # packets: demux time minus media time

    def open(self) -> Any:
        self._prev_due = None
        self._origin = None
        self._packet_origin = None
        return super().open()

    def read_packet(self) -> Packet:
        """The channel reads the next packet once it is done with the last one (and the
        frames it decoded): record how late that is."""
        now = time.monotonic()
        if self._prev_due is not None:
            stats = self.stats
            stats.done.append(now - self._prev_due)
            stats.times.append(now)
            stats.wake.append(self._prev_demux - self._prev_due)
            self._prev_due = None
        packet = super().read_packet()
        media = packet.time
        if media is not None and packet.data:
            # A feed that does not decode (a passed-through main stream) is measured by its
            # packets; a loop's rewind starts their timeline over.
            if self._packet_origin is None or packet.discontinuity:
                self._packet_origin = packet.demux_time - media
            self._prev_due = self._packet_origin + media
            self._prev_demux = packet.demux_time
        return packet

    def close(self) -> None:
        """With ``BENCH_PACED_DIR`` set (channels in worker processes, where the benchmark
        cannot read ``STATS``), write this source's statistics there as it closes."""
        super().close()
        folder = os.environ.get(DUMP_DIR_ENV)
        if folder and self.tag:
            path = Path(folder) / f"{self.tag}.{os.getpid()}.json"  # main and sub share STATS[tag]
            path.write_text(json.dumps(self.stats.as_data()))

    def decode(self, packet: Packet) -> list[Frame]:
        """A decoding feed is measured by its frames, on their own (continuous) timeline."""
        frames = super().decode(packet)
        for frame in frames:
            if self._origin is None:
                self._origin = frame.demux_time - frame.pts
                self.stats.origin = self._origin
            due = self._origin + frame.pts
            due_map = self.stats.due
            if due_map is not None:
                due_map[frame.demux_time] = due
                if len(due_map) > 2000:
                    del due_map[next(iter(due_map))]
            self._prev_due, self._prev_demux = due, frame.demux_time
        return frames


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register ``bench_file``."""
    register(PacedFileSource)


class SleepProbe:
    """A thread that sleeps ``interval`` in a loop and records how much later than asked it
    woke (seconds). Waking needs a CPU and then the GIL: run one in a busy process and one in
    an idle process at the same time, and the difference is time spent waiting for the GIL."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.delays: list[float] = []
        self.recording = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self.interval
        clock = time.perf_counter
        sleep = time.sleep
        while not self._stop.is_set():
            start = clock()
            sleep(interval)
            delay = clock() - start - interval
            if self.recording:
                self.delays.append(delay)
