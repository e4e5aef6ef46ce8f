"""The hand-off between stream thread and reader: waits, drops only for live streams, closes."""

from __future__ import annotations

import threading
import time

import pytest

from camera_runtime.exceptions import SourceEndedError
from camera_runtime_plugins.sources import _mailbox
from camera_runtime_plugins.sources._mailbox import Mailbox, MailboxClosed, QueuedPacket

from .helpers import wait_until_blocked


def packet(name: str, *, key: bool = False, age: float = 0.0) -> QueuedPacket:
    """A stand-in packet: ``name`` tells which one came out."""
    return QueuedPacket(name, time.monotonic() - age, 0.0, key)


def take(box: Mailbox) -> str:
    item = box.get()
    assert isinstance(item, QueuedPacket)
    return str(item.packet)


def test_finite_streams_wait_for_the_reader_and_lose_nothing() -> None:
    box = Mailbox(2, patience=None)
    box.put(packet("i0", key=True, age=60))
    box.put(packet("p1", age=60))
    thread = threading.Thread(target=box.put, args=(packet("p2"),))
    thread.start()
    wait_until_blocked(thread)  # full: the producer waits, however old the packets are
    assert take(box) == "i0"
    thread.join(timeout=5)
    assert [take(box) for _ in range(2)] == ["p1", "p2"]
    assert box.dropped == 0
    assert not box.resumed


class Clock:
    """``time.monotonic`` of the mailbox module, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(_mailbox, "time", fake)
    return fake


def stamped(clock: Clock, name: str, *, key: bool = False) -> QueuedPacket:
    return QueuedPacket(name, clock.now, 0.0, key)


def test_live_streams_drop_the_rest_of_a_stale_gop(clock: Clock) -> None:
    box = Mailbox(10, patience=0.5)
    for name, key in [("p1", False), ("p2", False), ("i3", True)]:
        box.put(stamped(clock, name, key=key))
        clock.now += 0.04
    clock.now += 0.5  # p1 has waited too long now, but nothing happens until a packet comes
    assert box.dropped == 0
    box.put(stamped(clock, "p4"))
    # p1 waited too long: it goes, with p2 (not decodable without p1); the next GOP stays
    assert box.dropped == 2
    assert take(box) == "i3"
    assert box.resumed  # the reader flushes its decoder before i3
    assert take(box) == "p4"
    assert not box.resumed


def test_with_no_keyframe_queued_live_streams_wait_for_the_next_one(clock: Clock) -> None:
    box = Mailbox(10, patience=0.5)
    box.put(stamped(clock, "i0", key=True))
    box.put(stamped(clock, "p1"))
    clock.now += 0.6
    box.put(stamped(clock, "p2"))  # i0 and p1 go; p2 refers to them, so it goes too
    box.put(stamped(clock, "p3"))  # and every packet until a keyframe
    assert box.dropped == 4
    box.put(stamped(clock, "i4", key=True))
    box.put(stamped(clock, "p5"))
    assert box.dropped == 4
    assert [take(box) for _ in range(2)] == ["i4", "p5"]


def test_a_full_live_mailbox_waits_out_the_patience_then_drops() -> None:
    box = Mailbox(2, patience=0.2)
    box.put(packet("i0", key=True))
    box.put(packet("p1"))
    started = time.monotonic()
    box.put(packet("i2", key=True))  # full: waits until i0 has waited 0.2 s, then drops i0, p1
    assert time.monotonic() - started >= 0.15
    assert box.dropped == 2
    assert take(box) == "i2"
    assert box.resumed


def test_a_packet_that_waited_out_a_full_live_mailbox_goes_too_unless_a_keyframe() -> None:
    box = Mailbox(2, patience=0.2)
    box.put(packet("i0", key=True))
    box.put(packet("p1"))
    assert box.put(packet("p2"))  # waits, sheds i0 and p1; p2 refers to them: dropped as well
    assert box.dropped == 3
    box.put(packet("i3", key=True))
    assert take(box) == "i3"


def test_the_end_is_queued_behind_the_packets_even_when_full() -> None:
    box = Mailbox(1, patience=None)
    box.put(packet("i0", key=True))
    assert box.put(SourceEndedError("end"), final=True)
    assert take(box) == "i0"
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
    box.put(packet("i0", key=True))
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(box.put(packet("p1"))))
    thread.start()
    wait_until_blocked(thread)
    box.close()
    thread.join(timeout=5)
    assert results == [False]
    with pytest.raises(MailboxClosed):
        box.get()
