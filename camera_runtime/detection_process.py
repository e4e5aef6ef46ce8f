"""The detection process: the channels' picture detectors run in a Python process of their own
(``detect.process: true``), one shared by every channel of the process that runs them (the
runtime's or a channel worker's), so that their OpenCV calls stop trading the interpreter lock
with the feeds' threads.

Why: each OpenCV call gives up the lock and must take it back; in a process of 16 channels
taking it back costs the detecting thread 15-20 us of CPU a call (the other threads run in
between, the thread moves between cores). The tracker and the smart detectors make about 38
such calls a picture on a busy scene: 1155 us a picture there against 698 us alone in one
thread (``docs/smart-events.md``, cost). Here the detectors run alone in one thread.

How: the channel's thread shrinks the picture as before, copies it into one of ``SLOTS``
shared-memory slots of the channel with its sequence number and times, marks the slot busy (a
byte beside the slots) and rings the channel's bell (a byte written to a pipe, which wakes
nobody): it never waits for detection. Every ``TICK`` (or before a call) the process reads the
bells that have busy slots behind them, takes that many pictures of each channel, oldest
first, copies each out, marks its slot free, runs the detectors in order and sends the
picture's event changes back, if it has any; this process's reader thread hands them to the
channel (``DetectorSet``), so they come one detection and up to a ``TICK`` later than inline.
Most pictures change nothing, and then nothing comes back: no wake-up of the reader thread, no
interpreter lock taken for it. A picture that finds no free slot (detection fell behind by
``SLOTS`` pictures) is skipped and counted, never queued without bound.

Why a bell and a tick rather than a message a picture: the message (pickled, framed, sent
under a lock) cost the channel's thread about 35-70 us a picture, and woke the process for
each one. In a worker of 16 yard cameras the hand-over (with the picture's downscale) costs
115-117 us a picture this way against 150-183, and 167-173 against 216-258 with the host
slower (``bench/profile_capacity.py``, 2026-12-07); the process's own CPU, and the cameras two
cores carry, moved within the runs' spread.
Why a bell at all, rather than the busy byte alone: the bell's write and read go through the
kernel's lock, so a picture whose ring the process has read is seen whole on any CPU; a byte
written after the picture may be seen before it on weakly ordered ones (ARM). So the process
takes as many pictures of a channel as its bell counted, never one whose flag it merely saw.

Building, dropping and finishing detectors are calls: the channel's thread waits for the
answer, so a detector's start error and the end of its events are what they are inline (and
every change of the pictures before comes first: the process takes the pictures handed over
before each call, and all comes back on one pipe to one reader, in order).

The channel's thread never waits for the process's start-up (its imports, 0.5-1 s, far more
on a full machine): the process starts when a channel starts (``Lane.up``), says ``ready``
once it can take calls, and until then the channel's pictures are not detected on. Waiting
held every channel of a worker started meanwhile until the same instant: their sub-streams
came out of it in step, keyframes together, and on two cores their frames came late at 70 %
load where channels started apart stay on time (``bench/capacity.py``, 2026-12-07).

The process is a plain ``python -m camera_runtime.detection_process`` on one end of a socket
pair, not a ``multiprocessing`` child: channel workers are daemonic processes, which may not
have those. It exits when its socket closes (this process ended or released it).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import logging
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np
import numpy.typing as npt

from .exceptions import CameraRuntimeError, DetectionProcessError
from .interfaces import Detector, DetectorContext
from .model import Event, EventPhase, Plane

_LOGGER = logging.getLogger(__name__)

#: Pictures of one channel that may wait in the process at once (1.6 s at 10 fps). Detection is
#: far quicker than a picture interval, but on a full machine the process, one thread among a
#: hundred, is kept waiting for hundreds of ms at a time: with 4 slots 48 smart cameras on two
#: cores skipped 2.2 % of their pictures, with 16 none (``bench/capacity.py``, 2026-12-07).
SLOTS = 16
#: How often the process takes the pictures handed over (s): at 10 fps a channel hands one over
#: every 100 ms, so a tick takes a few channels' pictures at once for one wake-up, and an event
#: comes at most this much later than with a wake-up a picture.
TICK = 0.02
#: How long a call may take (s); the first also waits for the process to start and import the
#: detectors' modules. A process that answers no call, or takes no picture, for this long is
#: stuck (a detector in an endless loop): it is killed, and started again as if it had died.
CALL_TIMEOUT = 10.0
START_TIMEOUT = 60.0

#: An event change as it comes back: the detector's kind, the phase, the event.
Change = tuple[str, EventPhase, Event]
#: What a channel is given back: its changes and the ``demux_time`` of the picture (or None).
Deliver = Callable[[list[Change], float | None], None]


@dataclass
class _Waiter:
    done: threading.Event
    answer: Any = None


class DetectionProcess:
    """This process's handle on the detection process, shared by its channels (``shared``)."""

    _shared: DetectionProcess | None = None
    _shared_lock = threading.Lock()
    _users = 0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._conn: Connection | None = None
        #: The socket under ``_conn``: shut down to stop (a close alone would not wake the
        #: reader thread blocked on it, nor tell the process).
        self._socket: socket.socket | None = None
        self._child: subprocess.Popen[bytes] | None = None
        #: Set once the process now running has said it is up: until then a call may take as
        #: long as the process's start (``START_TIMEOUT``).
        self._ready = threading.Event()
        #: ``time.monotonic()`` when the process now running was started.
        self._started_at = 0.0
        self._tokens = itertools.count(1)
        self._waiters: dict[int, _Waiter] = {}
        self._lanes: dict[str, Lane] = {}
        self._keys = itertools.count(1)
        #: How many processes were started (each start after the first is a restart).
        self.generation = 0

    @property
    def restarts(self) -> int:
        """How many times the process had to be started again after it died."""
        return max(0, self.generation - 1)

    # ----------------------------------------------------------------- sharing

    @classmethod
    def acquire(cls) -> DetectionProcess:
        """This process's detection process (started at its first call), for one more user."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = DetectionProcess()
            cls._users += 1
            return cls._shared

    @classmethod
    def release(cls) -> None:
        """One user fewer; the last one stops the process."""
        with cls._shared_lock:
            cls._users -= 1
            if cls._users > 0 or cls._shared is None:
                return
            shared, cls._shared = cls._shared, None
        shared.stop()

    # ----------------------------------------------------------------- process

    def ensure(self) -> None:
        """Start the process if it is not running (first use, or it died), without waiting
        for it to come up (``DetectionProcessError`` if it cannot be started)."""
        with self._lock:
            if self._conn is not None:
                return
            ours, theirs = socket.socketpair()
            # this process's import path, so the detectors' modules import there as here
            path = os.pathsep.join(entry for entry in sys.path if entry)
            try:
                child = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "camera_runtime.detection_process",
                        str(theirs.fileno()),
                        str(os.getpid()),
                    ],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, "PYTHONPATH": path},
                )
            except OSError as err:
                ours.close()
                raise DetectionProcessError(f"detection process not started: {err}") from err
            finally:
                theirs.close()
            self._ready.clear()
            self._started_at = time.monotonic()
            conn = Connection(os.dup(ours.fileno()))
            self.generation += 1
            self._conn, self._socket, self._child = conn, ours, child
            threading.Thread(
                target=self._read, args=(conn, child), name="detection-reader", daemon=True
            ).start()
            _LOGGER.info("detection process started (pid %d)", child.pid)

    def ready(self) -> bool:
        """Whether the process now running has said it is up (``ensure`` starts it). One that
        has not in ``START_TIMEOUT`` is stuck: this kills it, and it is taken for dead."""
        if self._ready.is_set():
            return True
        if self._conn is not None and time.monotonic() - self._started_at > START_TIMEOUT:
            self.stuck(f"not up in {START_TIMEOUT:g} s")
        return False

    def stop(self) -> None:
        with self._lock:
            sock, child, self._conn, self._socket, self._child = (
                self._socket,
                self._child,
                None,
                None,
                None,
            )
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if child is not None:
            try:
                child.wait(CALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                _LOGGER.warning("detection process did not stop in %g s: killed", CALL_TIMEOUT)
                child.kill()
                child.wait()

    def kill(self) -> None:
        """Kill the process: the channels take it as its death (and start it again)."""
        child = self._child
        if child is not None:
            child.kill()

    def stuck(self, why: str) -> None:
        _LOGGER.error("detection process stuck (%s): killed", why)
        self.kill()

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None else None

    def _read(self, conn: Connection, child: subprocess.Popen[bytes]) -> None:
        """The reader thread: hands each picture's changes to its channel, answers calls.
        A channel's error in taking them is logged; the thread goes on (it alone sees the
        process end)."""
        try:
            while True:
                try:
                    op, key, token, *args = conn.recv()
                except (EOFError, OSError):
                    break
                self._ready.set()
                try:
                    self._handle(op, key, token, args)
                except Exception:
                    _LOGGER.exception("detection process: %s for %s not handled", op, key)
        finally:
            self._ended(conn, child)

    def _handle(self, op: str, key: str, token: int, args: list[Any]) -> None:
        if op == "changes":
            changes, demux_time = args
            lane = self._lanes.get(key)
            if lane is not None:
                lane.returned(changes, demux_time)
        waiter = self._waiters.pop(token, None) if token else None
        if waiter is not None:
            waiter.answer = _Failed(args[0]) if op == "failed" else args[-1]
            waiter.done.set()

    def _ended(self, conn: Connection, child: subprocess.Popen[bytes]) -> None:
        """The process is gone. While this holds the lock no other can start, so every
        channel hears of this one's death before any of them starts the next, and every call
        waiting is one made to this one (answer None: gone)."""
        code = child.wait()
        with self._lock:
            lost = self._conn is conn
            if lost:
                assert self._socket is not None
                self._socket.close()
                self._conn = self._socket = self._child = None
            waiters, self._waiters = self._waiters, {}
            for waiter in waiters.values():
                waiter.done.set()
            if lost:
                _LOGGER.error("detection process exited unexpectedly (exit code %s)", code)
                for lane in list(self._lanes.values()):
                    try:
                        lane.lost()
                    except Exception:
                        _LOGGER.exception("%s: the detection process's end not handled", lane.key)
        conn.close()

    def _send(self, message: tuple[Any, ...], fds: tuple[int, ...] = ()) -> bool:
        """Send a message, and ``fds`` right behind it (on one byte of their own, which the
        process reads with them as it takes the message)."""
        conn, sock = self._conn, self._socket
        if conn is None or sock is None:
            return False
        try:
            with self._send_lock:
                conn.send(message)
                if fds:
                    socket.send_fds(sock, [b"\0"], list(fds))
        except OSError:
            return False
        return True

    def call(self, op: str, key: str, *args: Any, fds: tuple[int, ...] = ()) -> Any:
        """Send ``op`` (with ``fds``) and wait for its answer (``DetectionProcessError`` if
        none comes, or if the process failed to do it)."""
        self.ensure()
        token = next(self._tokens)
        waiter = _Waiter(threading.Event())
        self._waiters[token] = waiter
        timeout = CALL_TIMEOUT if self._ready.is_set() else START_TIMEOUT
        if not self._send((op, key, token, *args), fds):
            self._waiters.pop(token, None)
            raise DetectionProcessError(f"detection process gone: {op} not sent")
        if not waiter.done.wait(timeout):
            self._waiters.pop(token, None)
            self.stuck(f"no answer to {op} in {timeout:g} s")
            raise DetectionProcessError(f"detection process: no answer to {op} in {timeout:g} s")
        if waiter.answer is None:
            raise DetectionProcessError(f"detection process exited during {op}")
        if isinstance(waiter.answer, _Failed):
            raise DetectionProcessError(f"detection process: {op} failed: {waiter.answer.why}")
        return waiter.answer

    def lane(self, channel_id: str, deliver: Deliver, on_lost: Callable[[], None]) -> Lane:
        """A new lane for a channel: its own key, so a stopped channel's late calls cannot
        reach the detectors of the channel started after it under the same id."""
        lane = Lane(self, f"{channel_id}/{next(self._keys)}", channel_id, deliver, on_lost)
        self._lanes[lane.key] = lane
        return lane

    def forget(self, lane: Lane) -> None:
        self._lanes.pop(lane.key, None)


@dataclass(frozen=True)
class _Failed:
    """The answer to a call the process could not do (``why``)."""

    why: str


class Lane:
    """One channel's way to the detection process: its picture slots and its detectors there.

    ``deliver`` gets each picture's changes on the reader thread, in order; ``on_lost`` is told
    when the process died (the detectors there are gone: the channel ends their events and
    starts them again, ``DetectorSet``).
    """

    def __init__(
        self,
        process: DetectionProcess,
        key: str,
        channel_id: str,
        deliver: Deliver,
        on_lost: Callable[[], None],
    ) -> None:
        self.key = key
        self.channel_id = channel_id
        self._process = process
        self._deliver = deliver
        self._on_lost = on_lost
        self._memory: SharedMemory | None = None
        self._slots: list[Plane] = []
        #: One byte per slot after the slots: 1 while the process has not copied its picture.
        self._busy: memoryview | None = None
        #: Per slot: the picture's sequence number, timestamp and demux time (NaN: none).
        self._header: npt.NDArray[np.float64] | None = None
        #: The pipe rung (a byte) once a picture is handed over; the process reads the other end.
        self._bell: int | None = None
        self._sequence = 0
        self._generation = 0
        #: Pictures skipped because every slot was still waiting in the process.
        self.skipped = 0
        #: ``time.monotonic()`` of the first picture skipped since one was taken.
        self._behind_since: float | None = None

    @property
    def started(self) -> bool:
        """Whether the detectors' context is up in the process now running."""
        return self._memory is not None and self._generation == self._process.generation

    def ready(self) -> bool:
        """Whether the process is up (``DetectionProcess.ready``); never starts it."""
        return self._process.ready()

    def up(self) -> bool:
        """Start the process if it is not running; whether it is up to take ``start`` now.
        Never waits for it (``DetectionProcessError`` if it cannot be started)."""
        self._process.ensure()
        return self._process.ready()

    def start(self, width: int, height: int, fps: float) -> None:
        """A new context for pictures of this size: the channel's detectors there are dropped."""
        self._close_memory()
        memory = SharedMemory(create=True, size=_size(width, height))
        self._memory = memory
        self._slots, self._busy, self._header = _slots(memory, width, height)
        # the process's end non-blocking (the same open file, passed to it): it reads the bell
        # when a slot looks busy, and a ring may come a moment after its busy mark
        reader, self._bell = os.pipe()
        os.set_blocking(reader, False)
        self._sequence = 0
        try:
            self._process.call(
                "start", self.key, self.channel_id, memory.name, width, height, fps, fds=(reader,)
            )
        finally:
            os.close(reader)  # the process has its own
        self._generation = self._process.generation

    def build(self, detector: type[Detector], options: Mapping[str, Any]) -> str | None:
        """Build (or rebuild) ``detector`` there; its start error's message, if it failed."""
        where = (detector.__module__, detector.__qualname__)  # imported there, errors answered
        answer: str = self._process.call("build", self.key, detector.kind, where, dict(options))
        return answer or None

    def drop(self, kind: str) -> None:
        self._process.call("drop", self.key, kind)

    def finish(self, kinds: list[str], timestamp: float) -> None:
        """End what these detectors have active; their changes are delivered before this
        returns."""
        self._process.call("finish", self.key, kinds, timestamp)

    def picture(self, small: Plane, timestamp: float, demux_time: float | None) -> bool:
        """Hand a picture over (``False``: skipped, every slot still busy, or no process)."""
        busy, header, bell = self._busy, self._header, self._bell
        if busy is None or header is None or bell is None or self._process.pid is None:
            return False
        for slot in range(SLOTS):
            if not busy[slot]:
                break
        else:
            self.skipped += 1
            now = time.monotonic()
            if self._behind_since is None:
                self._behind_since = now
            elif now - self._behind_since > CALL_TIMEOUT:
                self._behind_since = None
                self._process.stuck(f"no picture taken in {CALL_TIMEOUT:g} s")
            return False
        self._behind_since = None
        np.copyto(self._slots[slot], small)
        self._sequence += 1
        header[slot] = (self._sequence, timestamp, _NO_TIME if demux_time is None else demux_time)
        busy[slot] = 1
        try:
            # never blocks: a ring follows a free slot, and a slot is freed only after its ring
            # was read, so at most ``SLOTS`` rings wait in the pipe
            os.write(bell, b"\1")
        except BrokenPipeError:
            # the process died and its reader thread has not heard yet (``_ended``): not
            # detected on, counted, and never the feed's error
            busy[slot] = 0
            self.skipped += 1
            return False
        return True

    @property
    def restarts(self) -> int:
        """The restarts of the process this lane leads to (``DetectionProcess.restarts``)."""
        return self._process.restarts

    def returned(self, changes: list[Change], demux_time: float | None) -> None:
        self._deliver(changes, demux_time)

    def lost(self) -> None:
        self._generation = -1
        self._on_lost()

    def close(self) -> None:
        """The channel's detectors stop: drop them there, free the slots."""
        self._process.forget(self)
        if self.started:
            with contextlib.suppress(DetectionProcessError):  # else gone with the process
                self._process.call("close", self.key)
        self._close_memory()

    def _close_memory(self) -> None:
        memory, self._memory = self._memory, None
        self._slots, self._header = [], None
        bell, self._bell = self._bell, None
        if bell is not None:
            os.close(bell)
        if self._busy is not None:
            self._busy.release()
            self._busy = None
        if memory is not None:
            memory.close()
            memory.unlink()


#: A picture's demux time when it has none (``Lane.picture``'s ``None``).
_NO_TIME = float("nan")


def _header_offset(width: int, height: int) -> int:
    """Where the slots' header starts: after the slots and their busy bytes, 8-aligned."""
    end = SLOTS * (width * height + 1)
    return end + (-end) % 8


def _size(width: int, height: int) -> int:
    return _header_offset(width, height) + SLOTS * 3 * 8


def _slots(
    memory: SharedMemory, width: int, height: int
) -> tuple[list[Plane], memoryview, npt.NDArray[np.float64]]:
    """The pictures' slots in ``memory``, the bytes after them that say which are busy, and
    each slot's header: the picture's sequence number, timestamp and demux time."""
    size = width * height
    buffer = memory.buf
    assert buffer is not None  # open
    slots: list[Plane] = [
        np.ndarray((height, width), np.uint8, buffer, offset=i * size) for i in range(SLOTS)
    ]
    header: npt.NDArray[np.float64] = np.ndarray(
        (SLOTS, 3), np.float64, buffer, offset=_header_offset(width, height)
    )
    return slots, buffer[SLOTS * size : SLOTS * (size + 1)], header


# --------------------------------------------------------------------- the process's side


class _Channel:
    """A channel's detectors in the detection process."""

    def __init__(
        self, name: str, width: int, height: int, fps: float, channel_id: str, bell: int
    ) -> None:
        self.memory = SharedMemory(name, track=False)
        self.slots, self.busy, self.header = _slots(self.memory, width, height)
        self.bell = bell
        #: Pictures the bell counted that are not taken yet.
        self.rung = 0
        self.context = DetectorContext(channel_id, width, height, fps)
        self.detectors: dict[str, Detector] = {}
        self.failures: Counter[str] = Counter()

    def handed_over(self) -> list[int]:
        """The slots of the pictures handed over and not taken yet, oldest first: as many as
        the bell counted (the bell is read only when a slot looks busy or a ring is still
        owed: a channel with nothing new costs no system call). Taking them is ``take``'s."""
        if not self.rung and not any(self.busy):
            return []
        with contextlib.suppress(BlockingIOError):  # not rung yet
            self.rung += len(os.read(self.bell, 4096))
        if not self.rung:
            return []
        busy = sorted((float(self.header[i, 0]), i) for i in range(SLOTS) if self.busy[i])
        return [slot for _, slot in busy[: self.rung]]

    def take(self, conn: Connection, key: str) -> int:
        """Detect on every picture handed over, in order; send each one's changes back. How
        many there were."""
        slots = self.handed_over()
        for slot in slots:
            self.rung -= 1
            timestamp, demux_time = float(self.header[slot, 1]), float(self.header[slot, 2])
            changes = self.process(slot, timestamp)
            if changes:
                demux = None if math.isnan(demux_time) else demux_time
                conn.send(("changes", key, 0, changes, demux))
        return len(slots)

    def process(self, slot: int, timestamp: float) -> list[Change]:
        image = self.slots[slot].copy()  # detectors may keep it; the slot is written again
        self.busy[slot] = 0
        changes: list[Change] = []
        for kind, detector in self.detectors.items():
            try:  # a detector's bug costs its own changes only, as inline it costs its channel
                changes.extend(
                    (kind, phase, event) for phase, event in detector.process(image, timestamp)
                )
            except Exception:
                self.failures[kind] += 1
                if self.failures[kind] % 100 == 1:  # the first, then every 100th: no flood
                    _LOGGER.exception(
                        "%s: detector %s failed (%d times)",
                        self.context.channel_id,
                        kind,
                        self.failures[kind],
                    )
        return changes

    def finish(self, kinds: list[str], timestamp: float) -> list[Change]:
        out: list[Change] = []
        for kind in kinds:
            detector = self.detectors.get(kind)
            if detector is not None:
                out.extend((kind, phase, event) for phase, event in detector.finish(timestamp))
        return out

    def close(self) -> None:
        self.slots = []
        del self.header
        self.busy.release()
        self.detectors = {}
        self.memory.close()
        os.close(self.bell)


def _build(
    channel: _Channel | None, kind: str, where: tuple[str, str], options: Mapping[str, Any]
) -> str:
    """Build detector ``kind`` (its class's module and name) for the channel: ``""``, or why
    it could not be (its start error, as inline; or a class this process cannot import)."""
    if channel is None:
        return "the channel's detection was not started"
    channel.detectors.pop(kind, None)
    try:
        detector: type[Detector] = getattr(importlib.import_module(where[0]), where[1])
        channel.detectors[kind] = detector(options, channel.context)
    except CameraRuntimeError as err:
        return err.message
    except Exception as err:  # a plugin's bug is reported; the process goes on
        _LOGGER.exception("%s: detector %s not built", channel.context.channel_id, kind)
        return f"{type(err).__name__}: {err}"
    return ""


def serve(conn: Connection, sock: socket.socket) -> None:
    """The detection process's loop, until the socket closes: every ``TICK``, and before each
    call, the pictures handed over; then the call (``sock`` is ``conn``'s socket: a channel's
    bell comes on it after its ``start``). An operation that fails (a plugin's bug, an event
    that cannot be pickled) is logged and, if it was a call, answered as failed: one
    channel's fault does not end the process that the others share."""
    from .imaging import one_opencv_thread

    one_opencv_thread()
    conn.send(("ready", "", 0))  # imports done: calls are answered in CALL_TIMEOUT from now
    channels: dict[str, _Channel] = {}
    taken = 0
    while True:
        # a tick that took pictures looks again at once: more may have come meanwhile, and a
        # process behind (starved of CPU) must not add a tick's pause to each round
        called = conn.poll(0 if taken else TICK)
        taken = 0
        for key, channel in list(channels.items()):
            try:
                taken += channel.take(conn, key)
            except Exception:
                _LOGGER.exception("%s: pictures not taken", key)
        if not called:
            continue
        try:
            op, key, token, *args = conn.recv()
        except EOFError:
            break
        try:
            answer = _do(channels, conn, sock, op, key, args)
        except Exception as err:
            _LOGGER.exception("%s: %s failed", key, op)
            if token:
                conn.send(("failed", key, token, f"{type(err).__name__}: {err}"))
            continue
        if token:
            conn.send(("answer", key, token, answer))
    for channel in channels.values():
        channel.close()


def _do(
    channels: dict[str, _Channel],
    conn: Connection,
    sock: socket.socket,
    op: str,
    key: str,
    args: list[Any],
) -> Any:
    """One operation of ``serve`` for the lane ``key``; what a call is answered."""
    channel = channels.get(key)
    if op == "start":
        _, (bell,), _, _ = socket.recv_fds(sock, 1, 1)  # the byte the bell rides on
        if channel is not None:
            channels.pop(key).close()
        channel_id, name, width, height, fps = args
        channels[key] = _Channel(name, width, height, fps, channel_id, bell)
    elif op == "build":
        kind, where, options = args
        return _build(channel, kind, where, options)
    elif op == "drop":
        if channel is not None:
            channel.detectors.pop(args[0], None)
    elif op == "finish":
        kinds, timestamp = args
        changes = channel.finish(kinds, timestamp) if channel is not None else []
        conn.send(("changes", key, 0, changes, None))
    elif op == "close" and channel is not None:
        channels.pop(key).close()
    return True


def _die_with(parent: int) -> None:
    """Exit when the process that started this one is gone (this one is handed to another
    parent then), checked every second on a thread of its own: a detector stuck in a loop
    would otherwise never read the end of the socket. (Not ``PR_SET_PDEATHSIG``: it fires
    when the *thread* that started the process ends, a channel's feed thread here.)"""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s detection[{os.getpid()}] %(levelname)s %(name)s: %(message)s",
    )
    _die_with(int(argv[2]))
    conn = Connection(int(argv[1]))
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    try:
        serve(conn, sock)
    finally:
        sock.close()
        conn.close()


if __name__ == "__main__":
    main(sys.argv)


__all__ = ["SLOTS", "DetectionProcess", "Lane"]
