"""The hand-off between a source's stream thread and the channel thread that calls ``read()``.

Separate from the decoding so that its one subtle rule (how a live stream treats a reader that
falls behind) stays small enough to read at a glance.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from camera_runtime.exceptions import CameraRuntimeError
from camera_runtime.model import Frame


class MailboxClosed(Exception):
    """The mailbox was closed: the source is shutting down."""


class Mailbox:
    """A small bounded hand-off between a stream thread and ``read()``; ``close`` wakes both.

    A full mailbox makes the producer wait: without limit for finite sources; for live ones
    until the oldest frame has waited ``patience`` seconds, and then that frame is dropped.
    """

    def __init__(self, size: int, patience: float | None) -> None:
        self._items: deque[Frame | CameraRuntimeError] = deque()
        self._size = size
        self._patience = patience
        self._cond = threading.Condition()
        self.closed = False
        self.dropped = 0

    def put(self, item: Frame | CameraRuntimeError, *, final: bool = False) -> bool:
        """Queue ``item``; False once closed. A ``final`` item (the end) neither waits nor drops."""
        with self._cond:
            while not final and not self.closed and len(self._items) >= self._size:
                oldest = self._items[0]
                if self._patience is None or not isinstance(oldest, Frame):
                    self._cond.wait()
                    continue
                left = oldest.demux_time + self._patience - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                else:
                    self._items.popleft()
                    self.dropped += 1
            if self.closed:
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True

    def get(self) -> Frame | CameraRuntimeError:
        with self._cond:
            while not self._items and not self.closed:
                self._cond.wait()
            if self.closed:
                raise MailboxClosed
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` unless closed first; True when closed."""
        with self._cond:
            return self._cond.wait_for(lambda: self.closed, timeout=seconds)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
