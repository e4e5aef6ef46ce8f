"""The hand-off of packets between a source's stream thread and the channel thread that decodes them.

Separate from the decoding so that its one subtle rule (how a live stream treats a reader that
falls behind) stays small enough to read at a glance.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from camera_runtime.exceptions import CameraRuntimeError


class MailboxClosed(Exception):
    """The mailbox was closed: the source is shutting down."""


class QueuedPacket(NamedTuple):
    """A demuxed packet and when it left the demuxer (``Frame.demux_time`` / ``wall_time``).

    A named tuple: one is made per packet, and a frozen dataclass took 1.6 us to build where
    this takes a quarter of it."""

    packet: Any
    demux_time: float
    wall_time: float
    keyframe: bool


class Rewind:
    """Where a looping file ends: the reader seeks it back to the start (see ``_av``)."""

    def __repr__(self) -> str:
        return "REWIND"


REWIND: Final = Rewind()

Item = QueuedPacket | Rewind | CameraRuntimeError


class Mailbox:
    """A bounded hand-off from a stream thread to ``read()``; ``close`` wakes both.

    Finite sources lose nothing: a full mailbox makes the producer wait. Live ones must not fall
    ever further behind the camera: once the oldest packet has waited ``patience`` seconds, the
    packets before the next queued keyframe are dropped (a predicted frame cannot be decoded
    without the frames it refers to), or, with no keyframe queued, every queued packet and each
    new one until a keyframe arrives. Dropping packets rather than decoded frames also saves the
    decoding: a reader behind because the CPU is short gets its time back.
    """

    def __init__(self, size: int, patience: float | None) -> None:
        self._items: deque[Item] = deque()
        self._size = size
        self._patience = patience
        self._lock = threading.Lock()
        #: Only for ``wait_for``/``wake`` (a looping file's rewind: rare). Every packet's waits
        #: use the locks below instead: a ``Condition`` wait builds a lock and runs a page of
        #: Python each time, which with many cameras adds up to a share of the GIL.
        self._cond = threading.Condition(self._lock)
        #: Binary signals, held while nothing is to be had: the reader's (an item came, or the
        #: close), the producer's (room came, or the close) and the close's (``sleep``).
        self._item_signal = _signal()
        self._room_signal = _signal()
        self._closed_signal = _signal()
        self._awaiting_keyframe = False
        # Who waits for the other side; a signal is given only then (and once per wait).
        self._producer_waits = False
        self._reader_waits = False
        self._gap = False  # packets were dropped since the last ``get``
        self.closed = False
        self.dropped = 0
        #: Whether packets were dropped just before the item the last ``get`` returned: the
        #: reader then drops what its decoder still holds from before the gap.
        self.resumed = False

    def put(self, item: Item, *, final: bool = False) -> bool:
        """Queue ``item``; False once closed. A ``final`` item (the end) neither waits nor drops."""
        with self._lock:
            self._shed()
            if self._undecodable(item):
                return not self.closed
            while not final and not self.closed and len(self._items) >= self._size:
                oldest = self._items[0]
                self._producer_waits = True
                timeout = -1.0
                if self._patience is not None and isinstance(oldest, QueuedPacket):
                    timeout = max(0.0, oldest.demux_time + self._patience - time.monotonic())
                self._lock.release()
                try:
                    self._room_signal.acquire(timeout=timeout)
                finally:
                    self._lock.acquire()
                if self._producer_waits:  # timed out: no signal was given, none will be
                    self._producer_waits = False
                    self._shed()
            if self.closed:
                return False
            if self._undecodable(item):  # the wait above shed everything queued
                return True
            self._items.append(item)
            if self._reader_waits:
                self._reader_waits = False
                self._item_signal.release()
            return True

    def _shed(self) -> None:
        """Live streams: drop what waited past the patience, up to the next keyframe."""
        items = self._items
        if self._patience is None or not items:
            return
        oldest = items[0]
        if not isinstance(oldest, QueuedPacket):
            return
        if oldest.demux_time + self._patience > time.monotonic():
            return
        count = 1
        while count < len(items):
            queued = items[count]
            if not isinstance(queued, QueuedPacket) or queued.keyframe:
                break
            count += 1
        else:
            self._awaiting_keyframe = True  # nothing decodable left: wait for a keyframe
        for _ in range(count):
            items.popleft()
        self._drop(count)

    def _undecodable(self, item: Item) -> bool:
        """While a keyframe is awaited, drop ``item`` (True) unless it is that keyframe."""
        if not isinstance(item, QueuedPacket) or not self._awaiting_keyframe:
            return False
        if item.keyframe:
            self._awaiting_keyframe = False
            return False
        self._drop(1)
        return True

    def _drop(self, count: int) -> None:
        self.dropped += count
        self._gap = True

    def get(self) -> Item:
        with self._lock:
            while not self._items and not self.closed:
                self._reader_waits = True
                self._lock.release()
                try:
                    self._item_signal.acquire()
                finally:
                    self._lock.acquire()
            if self.closed:
                raise MailboxClosed
            item = self._items.popleft()
            self.resumed, self._gap = self._gap, False
            if self._producer_waits:
                self._producer_waits = False
                self._room_signal.release()
            return item

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` unless closed first; True when closed."""
        if self._closed_signal.acquire(timeout=seconds):
            self._closed_signal.release()  # stays open for every later sleep
            return True
        return False

    def wait_for(self, done: Callable[[], bool]) -> bool:
        """Wait until ``done()`` (after a ``wake``) or the close; True when closed."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or done())
            return self.closed

    def wake(self) -> None:
        """Have ``wait_for`` look at its condition again."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            if self.closed:
                return
            self.closed = True
            self._cond.notify_all()
            self._closed_signal.release()
            if self._reader_waits:
                self._reader_waits = False
                self._item_signal.release()
            if self._producer_waits:
                self._producer_waits = False
                self._room_signal.release()


def _signal() -> threading.Lock:
    """A binary signal: a lock held from the start, released by the side that gives it."""
    signal = threading.Lock()
    signal.acquire()
    return signal
