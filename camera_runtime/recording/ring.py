"""The pre-record ring: a channel's newest encoded packets, from a keyframe on, bounded by time
and by bytes, so that a recording can start before the moment it was asked for.

Packets, not decoded frames: 5 s of 1080p H.264 is a few MB where the same pictures decoded
take hundreds. The ring is kept in GOPs (a keyframe and the packets that follow it): the oldest
GOP goes once the next one starts at or before ``seconds`` ago, so the ring always holds the
keyframe a recording that starts ``seconds`` back needs, and at most one GOP more than that.
"""

from __future__ import annotations

import logging
import math
from collections import deque

from ..model import Packet

_LOGGER = logging.getLogger(__name__)

#: Bytes a ring holds at most, whatever its seconds (a camera with a 60 s GOP at 16 Mb/s).
MAX_RING_BYTES = 64 * 1024 * 1024


class PreRecordRing:
    """Not thread-safe: used by its recorder's writer thread only. Times are ``wall_time``."""

    def __init__(self, seconds: float, max_bytes: int = MAX_RING_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._gops: deque[list[Packet]] = deque()
        self.bytes = 0
        #: GOPs dropped to keep ``max_bytes`` (the ring then covers less than ``seconds``).
        self.trimmed_for_memory = 0

    @property
    def packets(self) -> int:
        return sum(len(gop) for gop in self._gops)

    def add(self, packet: Packet) -> None:
        if packet.keyframe:
            self._gops.append([packet])
        elif packet.discontinuity or not self._gops:
            # Nothing decodable leads to this packet: the ring restarts at the next keyframe.
            self.clear()
            return
        else:
            self._gops[-1].append(packet)
        self.bytes += len(packet.data)
        self._trim(packet.wall_time - self.seconds)

    def _trim(self, since: float) -> None:
        while len(self._gops) > 1 and self._gops[1][0].wall_time <= since:
            self._drop_oldest()
        while self.bytes > self.max_bytes and len(self._gops) > 1:
            self._drop_oldest()
            self.trimmed_for_memory += 1
            _LOGGER.warning("pre-record ring over %d bytes: oldest GOP dropped", self.max_bytes)

    def _drop_oldest(self) -> None:
        self.bytes -= sum(len(p.data) for p in self._gops.popleft())

    def since(self, when: float, after: float = -math.inf) -> list[Packet]:
        """The packets from the newest keyframe at or before ``when`` (the oldest keyframe
        held when none is that old) to the newest; empty before the first keyframe. Only
        GOPs starting after ``after`` (what was recorded already is not recorded twice)."""
        gops = [gop for gop in self._gops if gop[0].wall_time > after]
        start = 0
        for at, gop in enumerate(gops):
            if gop[0].wall_time <= when:
                start = at
        return [packet for gop in gops[start:] for packet in gop]

    def clear(self) -> None:
        self._gops.clear()
        self.bytes = 0
