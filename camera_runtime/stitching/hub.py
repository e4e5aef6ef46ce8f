"""One stitched device at run time: its sensors read and composed once, for all its channels.

A panorama channel and its view channels (ePTZ, divided panorama) all show the same stitched
picture: the hub reads the sensors and stitches each set once, in its own thread, and every
channel's ``stitched`` source takes the newest panorama (a view crops it). The hub runs while
at least one channel reads it. At its first set of pictures it loads the saved calibration
(``calibration.py``) or calibrates and saves; ``recalibrate`` asks for a new one.

Hubs are found by device id through ``attach``, which a runtime calls at start: a source is
built from its options alone, so this module's table is how it reaches the runtime's hub.
Two runtimes of one process cannot run devices of the same id (``attach`` refuses).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..exceptions import (
    CalibrationError,
    ConfigError,
    SourceEndedError,
    SourceUnavailableError,
)
from ..model import Frame, StreamInfo
from ..registry import PluginRegistry
from . import calibration
from .modes import STITCHED

_LOGGER = logging.getLogger(__name__)

_HUBS: dict[str, StitchHub] = {}
_HUBS_LOCK = threading.Lock()


class StitchHub:
    """Reads a device's sensors and publishes each stitched panorama to its readers."""

    def __init__(self, device: Mapping[str, Any], registry: PluginRegistry, data_dir: Path) -> None:
        self.device = device
        self.id: str = device["id"]
        self._registry = registry
        self._data_dir = data_dir
        self._cond = threading.Condition()
        self._readers = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._seq = 0
        self._panorama: Frame | None = None
        self._info: StreamInfo | None = None
        self._error = ""
        self._recalibrate: threading.Event | None = None
        self._calibration_error = ""
        #: Whether the thread is calibrating now (at its first pictures, or asked again).
        self._calibrating = False
        self._sensors: list[Any] = []
        self.calibrated = False
        self.stitcher: Any = None

    # ------------------------------------------------------------------ readers

    def acquire(self) -> None:
        with self._cond:
            self._readers += 1
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._error = ""
                self._panorama = None
                self._thread = threading.Thread(
                    target=self._run, name=f"stitch-{self.id}", daemon=True
                )
                self._thread.start()

    def release(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers > 0:
                return
            self._readers = 0
            self._stop.set()
            thread, sensors = self._thread, list(self._sensors)
        for sensor in sensors:
            sensor.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)

    def next(self, after: int, stop: threading.Event) -> tuple[int, Frame, StreamInfo]:
        """The first panorama newer than number ``after``; ``SourceUnavailableError`` when
        the sensors or the calibration failed (the message says why) or ``stop`` is set."""
        with self._cond:
            while True:
                if self._error:
                    raise SourceUnavailableError(f"stitching {self.id}: {self._error}")
                if stop.is_set() or self._stop.is_set():
                    raise SourceUnavailableError(f"stitching {self.id} is closed")
                if self._panorama is not None and self._seq > after and self._info:
                    return self._seq, self._panorama, self._info
                self._cond.wait(0.5)

    @property
    def running(self) -> bool:
        thread = self._thread
        return self._readers > 0 and thread is not None and thread.is_alive()

    def recalibrate(self) -> threading.Event:
        """Calibrate again from the next set of pictures (the scene or sensors changed); the
        event is set once done or failed (``status()["calibration_error"]`` says why). A
        failed recalibration keeps the calibration in use."""
        with self._cond:
            if self._recalibrate is None:
                self._recalibrate = threading.Event()
            return self._recalibrate

    def status(self) -> dict[str, Any]:
        saved = calibration.load(self._data_dir, self.id)
        return {
            "id": self.id,
            "output_mode": self.device["output_mode"],
            "running": self.running,
            "calibrated": saved is not None,
            "calibrated_at": (saved or {}).get("calibrated_at"),
            "size": (saved or {}).get("canvas"),
            "matches": (saved or {}).get("matches"),
            "recalibrating": self._recalibrate is not None or self._calibrating,
            "calibration_error": self._calibration_error,
            "error": self._error,
        }

    # ------------------------------------------------------------------ the thread

    def _fail(self, message: str) -> None:
        with self._cond:
            self._error = message
            self._cond.notify_all()

    def _run(self) -> None:
        sensors, stitcher = calibration.build(self.device, self._registry)
        with self._cond:
            self._sensors = sensors
            self.stitcher = stitcher
        try:
            infos = [sensor.open() for sensor in sensors]
            while not self._stop.is_set():
                frames = [calibration.read_frame(sensor) for sensor in sensors]
                with self._cond:
                    asked, self._recalibrate = self._recalibrate, None
                if not self.calibrated:
                    self._calibrating = True
                    calibration.use_saved_or_calibrate(stitcher, frames, self._data_dir, self.id)
                    self._calibrating = False
                    self.calibrated = True
                if asked is not None:
                    self._calibration_error = ""
                    self._calibrating = True
                    try:
                        calibration.use_saved_or_calibrate(
                            stitcher, frames, self._data_dir, self.id, force=True
                        )
                    except CalibrationError as err:
                        _LOGGER.error("recalibrating %s: %s", self.id, err.message)
                        self._calibration_error = err.message
                    finally:
                        self._calibrating = False
                        asked.set()
                panorama = stitcher.stitch(frames)
                width, height = stitcher.output_size()
                with self._cond:
                    self._info = StreamInfo(width, height, infos[0].fps, "rawvideo")
                    self._panorama = panorama
                    self._seq += 1
                    self._cond.notify_all()
        except CalibrationError as err:
            _LOGGER.error("stitching %s: %s", self.id, err.message)
            self._fail(err.message)
        except (SourceUnavailableError, SourceEndedError) as err:
            if not self._stop.is_set():
                self._fail(f"a sensor failed: {err.message}")
        except Exception as err:  # a broken plugin must not leave readers waiting forever
            _LOGGER.exception("stitching %s failed", self.id)
            self._fail(f"stitching failed: {err}")
        finally:
            for sensor in sensors:
                sensor.close()
            self.calibrated = False
            self._calibrating = False
            with self._cond:
                self._stop.set()
                if self._recalibrate is not None:  # nobody waits for a stopped hub
                    self._recalibrate.set()
                    self._recalibrate = None
                self._cond.notify_all()


def hub(device_id: str) -> StitchHub:
    """The running runtime's hub of ``device_id``; ``SourceUnavailableError`` when none."""
    with _HUBS_LOCK:
        found = _HUBS.get(device_id)
    if found is None:
        raise SourceUnavailableError(f"the stitched device {device_id!r} is not attached")
    return found


def devices(channels: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    """The stitched devices the channel configs read, by id."""
    found: dict[str, Mapping[str, Any]] = {}
    for channel in channels:
        if channel.source_type == STITCHED:
            device = channel.source_options["device"]
            found[device["id"]] = device
    return found


def attach(channels: Iterable[Any], registry: PluginRegistry, data_dir: Path) -> Callable[[], None]:
    """Make the hubs of the stitched devices these channels read; returns the detach."""
    wanted = devices(channels)
    with _HUBS_LOCK:
        taken = sorted(set(wanted) & set(_HUBS))
        if taken:
            raise ConfigError(
                "stitched device already running",
                [f"stitching: device {name!r} runs in another runtime" for name in taken],
            )
        made = {name: StitchHub(dev, registry, data_dir) for name, dev in wanted.items()}
        _HUBS.update(made)

    def detach() -> None:
        with _HUBS_LOCK:
            for name, one in made.items():
                if _HUBS.get(name) is one:
                    del _HUBS[name]

    return detach


def attach_each(
    channels: Iterable[Any], registry: PluginRegistry, data_dir: Path
) -> dict[str, Callable[[], None]]:
    """``attach`` per stitched device: each device's detach by id, so that one device's
    channels can be rebuilt (another output mode) while the others run on."""
    listed = list(channels)
    return {
        device_id: attach(
            [
                c
                for c in listed
                if c.source_type == STITCHED and c.source_options["device"]["id"] == device_id
            ],
            registry,
            data_dir,
        )
        for device_id in devices(listed)
    }
