"""A channel that runs in a worker process, as the runtime sees it: the members of ``Channel``
the runtime and its parts use, read from the newest snapshot the worker pushed and changed
through calls to it (``process.WorkerProcess``).

What the runtime itself keeps about a channel stays here, as it does on a ``Channel``: the
recording switches and readings (``manual_recording``, ``recording_state``, ``sensors``, set
by the runtime's recordings) are merged into the controls and the status.

Calls block until the worker answers: the runtime makes them off its event loop, as it does
for a local channel's blocking ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..capabilities import EventTypeInfo, SensorInfo
from ..channel import BoundControl, ChannelState, DeviceFace, controls_as_data, core_controls
from ..config import ChannelConfig, DetectorConfig, StageConfig
from ..detection import detection_sensors
from ..exceptions import NotFoundError, WorkerGoneError
from ..model import ChannelStatus, StreamInfo
from ..ptz.motion import PtzMotion
from .host import ChannelSnapshot
from .live_relay import RemoteLive
from .packet_relay import rebound, remote_packets
from .process import WorkerProcess
from .stream_relay import RemoteStreams


class RemoteChannel:
    """A channel of ``config`` in ``worker``; ``changed`` is the runtime's channel bus
    (``notify``: a state the runtime keeps changed)."""

    def __init__(
        self, config: ChannelConfig, worker: WorkerProcess, changed: Callable[[str], None]
    ) -> None:
        self.config = config
        self.id = config.id
        self.name = config.name
        self.worker = worker
        self._changed = changed
        self.manual_recording: Callable[[], bool] | None = None
        self.recording_state: Callable[[], bool] | None = None
        self.sensors: list[tuple[SensorInfo, Callable[[], Any]]] = detection_sensors(
            config, lambda: self.detections_skipped, lambda: self.detection_restarts
        )
        #: Channels of a stitched device stay in the runtime's process.
        self.device_face: DeviceFace | None = None
        #: Never enabled here (ePTZ channels stay in the runtime's process: ``pool.py``), but
        #: the runtime's PTZ calls ask every channel whether it is.
        self.ptz = PtzMotion(config.ptz, self.notify)
        #: Whether the runtime wants it running (started, not stopped): a restarted worker
        #: starts it again.
        self.wanted = False
        #: Why it is down while its worker is gone ("" while it runs).
        self.down = ""
        self.live = RemoteLive(config.id, worker)
        self.packets, self.image, self.display, self.relayed_streams = remote_packets(
            self.id, bool(config.substream_type), worker
        )
        self.served = RemoteStreams(self)
        worker.open(config)

    @property
    def _snapshot(self) -> ChannelSnapshot:
        return self.worker.snapshot(self.id)

    def mark_down(self, reason: str) -> None:
        """Its worker is gone: it shows offline with ``reason`` until ``rebind``."""
        self.down = reason

    def rebind(self, worker: WorkerProcess) -> None:
        """Open it again in ``worker`` (a replacement): the caller applies its stored settings
        and starts it."""
        self.worker = worker
        self.live = RemoteLive(self.id, worker)  # the old one's viewers ended with the worker
        worker.open(self.config)
        rebound(self)  # the recorder's packets come from the new worker
        self.down = ""

    def notify(self) -> None:
        self._changed(self.id)

    # ----------------------------------------------------------------- observed status

    @property
    def state(self) -> ChannelState:
        return ChannelState.OFFLINE if self.down else self._snapshot.state

    @property
    def armed(self) -> bool:
        return self._snapshot.armed

    @armed.setter
    def armed(self, value: bool) -> None:
        self.worker.command(self.id, "set", "armed", value)

    @property
    def display_info(self) -> bool:
        return self._snapshot.display_info

    @display_info.setter
    def display_info(self, value: bool) -> None:
        self.worker.command(self.id, "set", "display_info", value)

    @property
    def last_error(self) -> str:
        return self.down or self._snapshot.last_error

    @property
    def stream(self) -> StreamInfo | None:
        return self._snapshot.stream

    @property
    def frames(self) -> int:
        return self._snapshot.frames

    @property
    def fps(self) -> float:
        return 0.0 if self.down else self._snapshot.fps

    @property
    def detections(self) -> int:
        return self._snapshot.detections

    @property
    def detections_skipped(self) -> int:
        return self._snapshot.detections_skipped

    @property
    def detection_restarts(self) -> int:
        return self._snapshot.detection_restarts

    @property
    def has_picture(self) -> bool:
        return self._snapshot.has_picture

    # ----------------------------------------------------------------- control

    def start(self) -> None:
        self.wanted = True
        self.worker.command(self.id, "start")

    def stop(self, timeout: float = 10.0) -> None:
        self.wanted = False
        if self.down:  # its worker is gone, and with it everything it ran
            return
        try:
            self.worker.command(self.id, "stop", timeout)
        except WorkerGoneError:
            if self.worker.alive:  # alive but silent: the channel may still run
                raise
            # It died before the pool noticed (``down`` not yet set): stopped all the same.

    def join(self, timeout: float | None = None) -> bool:
        joined: bool = self.worker.invoke(self.id, "join", timeout)
        return joined

    @property
    def detectors(self) -> Mapping[str, DetectorConfig]:
        return self._snapshot.detectors

    def set_detector(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        self.worker.invoke(self.id, "set_detector", kind, enabled=enabled, options=options)

    @property
    def stages(self) -> Mapping[str, StageConfig]:
        return self._snapshot.stages

    def set_stage(
        self, kind: str, *, enabled: bool | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        self.worker.invoke(self.id, "set_stage", kind, enabled=enabled, options=options)

    def preview(self, kind: str, enabled: bool | None, options: Mapping[str, Any] | None) -> bytes:
        jpeg: bytes = self.worker.invoke(self.id, "preview", kind, enabled, options)
        return jpeg

    @property
    def target_cropping(self) -> Mapping[str, Any]:
        return self._snapshot.target_cropping

    def set_target_cropping(self, cropping: Mapping[str, Any]) -> None:
        self.worker.invoke(self.id, "set_target_cropping", dict(cropping))

    # ----------------------------------------------------------------- capabilities

    def event_types(self) -> list[tuple[str | None, EventTypeInfo]]:
        return list(self._snapshot.event_types)

    def controls(self) -> dict[str, BoundControl]:
        """The worker's controls, with the recording switches the runtime keeps."""
        snapshot = self._snapshot
        bound = core_controls(snapshot.armed, snapshot.display_info, self.manual_recording)
        core = core_controls(False, False, None)
        for key, control in snapshot.controls.items():
            if key not in core and key not in bound:
                bound[key] = control
        return bound

    def control(self, key: str) -> BoundControl:
        found = self.controls().get(key)
        if found is None:
            raise NotFoundError(f"channel {self.id!r} has no control {key!r}", "control_not_found")
        return found

    def status(self) -> ChannelStatus:
        down = {"state": ChannelState.OFFLINE.value, "error": self.down, "fps": 0.0}
        status: ChannelStatus = {
            **self._snapshot.status,
            **(down if self.down else {}),  # type: ignore[typeddict-item]
            "viewers": self.live.viewers,  # the worker sees one: this process fans out
            "controls": controls_as_data(self.controls()),
            "recording": self.recording_state() if self.recording_state is not None else None,
            "sensors": [info.as_dict(read()) for info, read in self.sensors],
        }
        return status
