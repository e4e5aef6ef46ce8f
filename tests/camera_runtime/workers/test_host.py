"""The worker side of the link, in this process over a real pipe: a channel's events are sent
from the worker's status thread, never from the feed that emits them, so a feed does not wait
while the pipe is full (a stream's chunk the runtime has not read yet); they arrive in order,
and the last ones, emitted as the channels stop, are sent too."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator

import cv2
import pytest

from camera_runtime.model import Event, EventPhase, EventUpdate
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime.workers.host import WorkerHost, serve
from camera_runtime.workers.link import Link

#: Far more than a pipe holds (64 KiB on Linux): its writer waits until the other end reads.
CHUNK = b"x" * 4_000_000
WAIT = 10.0


def update(n: int) -> EventUpdate:
    return EventUpdate(EventPhase.NEW, Event("cam", "motion", float(n), id=f"e{n}"))


@pytest.fixture
def pipe() -> Iterator[tuple[WorkerHost, multiprocessing.connection.Connection]]:
    ours, theirs = multiprocessing.Pipe()
    link = Link(ours, "test-worker", on_message=lambda message: None)
    host = WorkerHost(collect_registry(create_plugin_manager()), link)
    host.start()
    try:
        yield host, theirs
    finally:
        ours.close()
        theirs.close()


def test_events_never_wait_for_a_full_pipe_and_arrive_in_order(
    pipe: tuple[WorkerHost, multiprocessing.connection.Connection],
) -> None:
    host, theirs = pipe
    chunk = threading.Thread(target=host.push, args=("chunk", "cam", 1, CHUNK), daemon=True)
    chunk.start()
    assert theirs.poll(WAIT)  # the chunk's bytes are in the pipe, its writer waits for more
    started = time.monotonic()
    for n in range(3):  # a feed's thread
        host.emit(update(n))
    assert time.monotonic() - started < 0.5  # the old path waited for the chunk: for ever here
    messages = [theirs.recv() for _ in range(4)]
    assert messages[0][0] == "chunk" and messages[0][3] == CHUNK
    assert [(kind, u.event.id) for kind, u in messages[1:]] == [
        ("event", "e0"),
        ("event", "e1"),
        ("event", "e2"),
    ]


def test_the_last_events_are_sent_when_the_host_stops(
    pipe: tuple[WorkerHost, multiprocessing.connection.Connection],
) -> None:
    host, theirs = pipe
    host.emit(update(0))
    host.shutdown()  # the status thread sends what it holds, and stops
    host.emit(update(1))  # a channel's last event as it stops: sent at once
    received = [theirs.recv() for _ in range(2)]
    assert [(kind, u.event.id) for kind, u in received] == [("event", "e0"), ("event", "e1")]
    assert not theirs.poll(0.2)


def test_a_worker_gives_opencv_no_threads_of_its_own() -> None:
    """As the runtime's process does (``Runtime.start``): the channels run in parallel
    already, and OpenCV's pool would hand each call's work over and wait for it."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    ours, theirs = multiprocessing.Pipe()
    ours.close()  # the runtime is gone at once: the worker sets up, then stops
    try:
        serve(theirs, [], "worker-test")
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
