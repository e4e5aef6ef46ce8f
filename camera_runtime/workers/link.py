"""One end of the pipe between the runtime and a channel worker process.

Both ends talk in tuples: ``("call", request_id, name, args)`` waits for its
``("reply", request_id, ok, value)``; every other message is pushed one way (a status
snapshot, an event, a stream's chunk) and handed to ``on_message`` by the end's reader thread,
in the order sent. Sends come from any thread (a channel's feeds push events from theirs), so
they go through one lock. Errors cross as data (``ErrorInfo``) and are rebuilt as the same
``CameraRuntimeError`` subclass with the same message, key and error lines, so a
``ConfigError`` raised in a worker reaches the API exactly as one raised in the runtime.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from .. import exceptions

_LOGGER = logging.getLogger(__name__)

#: How long a call waits for its reply by default (s): a worker busy with its channels answers
#: in milliseconds; one that does not within this is stuck or gone.
CALL_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An exception as data: the name of its class in ``camera_runtime.exceptions`` (any
    other exception crosses as ``CameraRuntimeError``), its message and what its class
    carries (the translation key, a ``ConfigError``'s lines)."""

    kind: str
    message: str
    translation_key: str = ""
    errors: tuple[str, ...] = ()

    @classmethod
    def of(cls, err: BaseException) -> ErrorInfo:
        if isinstance(err, exceptions.CameraRuntimeError):
            errors = tuple(getattr(err, "errors", ()) or ())
            return cls(type(err).__name__, err.message, err.translation_key, errors)
        return cls("CameraRuntimeError", f"{type(err).__name__}: {err}")

    def rebuild(self) -> exceptions.CameraRuntimeError:
        found = getattr(exceptions, self.kind, None)
        kind = found if isinstance(found, type) else exceptions.CameraRuntimeError
        if not issubclass(kind, exceptions.CameraRuntimeError):
            kind = exceptions.CameraRuntimeError
        err: exceptions.CameraRuntimeError = kind.__new__(kind)
        Exception.__init__(err, self.message)
        err.message = self.message
        err.translation_key = self.translation_key or kind.translation_key_default
        if self.errors or issubclass(kind, exceptions.ConfigError):
            err.errors = list(self.errors) or [self.message]  # type: ignore[attr-defined]
        return err


class _Waiter:
    """A call waiting for its reply."""

    __slots__ = ("done", "ok", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False
        self.value: Any = None


class Link:
    """One end of a worker's pipe. ``on_message`` gets every pushed message on the reader
    thread (it must not block for long: the replies to this end's calls wait behind it);
    ``on_call(name, args)`` answers the other end's calls (on ``run_call``'s thread, or the
    reader's); ``on_closed`` is told once when the other end is gone."""

    def __init__(
        self,
        conn: Connection,
        name: str,
        on_message: Callable[[tuple[Any, ...]], None],
        on_call: Callable[[str, tuple[Any, ...]], Any] | None = None,
        on_closed: Callable[[], None] = lambda: None,
        run_call: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._conn = conn
        self.name = name
        self._on_message = on_message
        self._on_call = on_call
        self._on_closed = on_closed
        #: Where the other end's calls run (a pool, so a slow one - a channel's stop - does
        #: not hold up the rest); by default on the reader thread.
        self._run_call = run_call
        self._send_lock = threading.Lock()
        self._waiters: dict[int, _Waiter] = {}
        self._waiters_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"{name}-link", daemon=True)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def start(self) -> None:
        self._reader.start()

    def push(self, *message: Any) -> bool:
        """Send a one-way message; False (and nothing sent) when the link is closed."""
        if self._closed.is_set() or self._conn.closed:
            return False
        try:
            with self._send_lock:
                self._conn.send(message)
        except (OSError, EOFError, BrokenPipeError):
            self._close()
            return False
        return True

    def call(self, name: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        """Ask the other end to run ``name`` with ``args``; its result, or its error rebuilt.
        ``WorkerGoneError`` when the other end is gone or does not answer in ``timeout``."""
        request = next(self._ids)
        waiter = _Waiter()
        with self._waiters_lock:
            self._waiters[request] = waiter
        try:
            if not self.push("call", request, name, args):
                raise exceptions.WorkerGoneError(f"{self.name}: the worker is gone")
            if not waiter.done.wait(timeout):
                raise exceptions.WorkerGoneError(
                    f"{self.name}: no answer to {name} in {timeout:g} s"
                )
        finally:
            with self._waiters_lock:
                self._waiters.pop(request, None)
        if waiter.ok:
            return waiter.value
        info: ErrorInfo = waiter.value
        raise info.rebuild()

    def answer(self, request: int, name: str, args: tuple[Any, ...]) -> None:
        """Run a call of the other end and send its reply (on whichever thread runs this)."""
        assert self._on_call is not None
        try:
            value = self._on_call(name, args)
        except Exception as err:  # the caller gets it back, rebuilt
            if not isinstance(err, exceptions.CameraRuntimeError):
                _LOGGER.exception("%s: %s failed", self.name, name)
            self.push("reply", request, False, ErrorInfo.of(err))
            return
        self.push("reply", request, True, value)

    def close(self) -> None:
        """Say goodbye: the other end closes its side, which ends this end's reader (a read
        blocked on the pipe cannot be ended from another thread by closing it). Calls
        still waiting fail with ``WorkerGoneError``."""
        self.push("bye")
        self._close()

    def join(self, timeout: float | None = None) -> None:
        if self._reader is not threading.current_thread() and self._reader.is_alive():
            self._reader.join(timeout)

    def _close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with self._waiters_lock:
            waiting = list(self._waiters.values())
        for waiter in waiting:
            waiter.value = ErrorInfo("WorkerGoneError", f"{self.name}: the worker is gone")
            waiter.done.set()
        try:
            self._on_closed()
        except Exception:
            _LOGGER.exception("%s: closing failed", self.name)

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                message = self._conn.recv()
            except (OSError, EOFError, TypeError, ValueError):
                # gone; or closed by ``close`` under the read (multiprocessing then fails
                # with TypeError or ValueError on the handle it lost)
                break
            kind = message[0]
            if kind == "bye":
                break
            if kind == "reply":
                _, request, ok, value = message
                with self._waiters_lock:
                    waiter = self._waiters.get(request)
                if waiter is not None:
                    waiter.ok, waiter.value = ok, value
                    waiter.done.set()
            elif kind == "call" and self._on_call is not None:
                _, request, name, args = message
                if self._run_call is None:
                    self.answer(request, name, args)
                else:
                    self._run_call(functools.partial(self.answer, request, name, args))
            else:
                try:
                    self._on_message(message)
                except Exception:
                    _LOGGER.exception("%s: message %r failed", self.name, kind)
        self._close()
        with self._send_lock:
            self._conn.close()  # on the reader's own thread: nothing reads it any more
