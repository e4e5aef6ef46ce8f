"""The hand-off between stream thread and reader: waits, drops only for live streams, closes."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from camera_runtime.exceptions import SourceEndedError
from camera_runtime.model import Frame
from camera_runtime_plugins.sources._mailbox import Mailbox, MailboxClosed

from .helpers import wait_until_blocked


def frame(pts: float, age: float = 0.0) -> Frame:
    plane = np.zeros((2, 2), np.uint8)
    now = time.monotonic()
    return Frame(y=plane, u=plane, v=plane, pts=pts, wall_time=0.0, demux_time=now - age)


def take(box: Mailbox) -> Frame:
    item = box.get()
    assert isinstance(item, Frame)
    return item


def test_finite_streams_wait_for_the_reader_and_lose_nothing() -> None:
    box = Mailbox(2, patience=None)
    box.put(frame(0, age=60))
    box.put(frame(1, age=60))
    thread = threading.Thread(target=box.put, args=(frame(2),))
    thread.start()
    wait_until_blocked(thread)  # full: the producer waits, however old the frames are
    assert take(box).pts == 0
    thread.join(timeout=5)
    assert [take(box).pts for _ in range(2)] == [1, 2]
    assert box.dropped == 0


def test_live_streams_drop_the_oldest_once_it_waited_too_long() -> None:
    box = Mailbox(2, patience=0.2)
    box.put(frame(0, age=1.0))  # already older than the patience
    box.put(frame(1))
    box.put(frame(2))  # does not wait: frame 0 goes
    assert box.dropped == 1
    started = time.monotonic()
    box.put(frame(3))  # frame 1 is fresh: wait until it has waited 0.2 s, then drop it
    assert time.monotonic() - started >= 0.15
    assert box.dropped == 2
    assert [take(box).pts for _ in range(2)] == [2, 3]


def test_the_end_is_queued_behind_the_frames_even_when_full() -> None:
    box = Mailbox(1, patience=None)
    box.put(frame(0))
    assert box.put(SourceEndedError("end"), final=True)
    assert isinstance(box.get(), Frame)
    assert isinstance(box.get(), SourceEndedError)


def test_close_wakes_a_waiting_reader() -> None:
    box = Mailbox(1, patience=None)
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            box.get()
        except MailboxClosed as err:
            errors.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    wait_until_blocked(thread)
    box.close()
    thread.join(timeout=5)
    assert len(errors) == 1
    assert box.sleep(10) is True  # returns at once once closed


def test_close_wakes_a_waiting_producer() -> None:
    box = Mailbox(1, patience=None)
    box.put(frame(0))
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(box.put(frame(1))))
    thread.start()
    wait_until_blocked(thread)
    box.close()
    thread.join(timeout=5)
    assert results == [False]
    with pytest.raises(MailboxClosed):
        box.get()
