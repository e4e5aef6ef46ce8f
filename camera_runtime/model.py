"""Plain data passed between the pipeline, the event bus and the hosts: frames, boxes, events."""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

Plane = npt.NDArray[np.uint8]


@dataclass(slots=True)
class Frame:
    """One decoded picture in planar YUV 4:2:0.

    ``y``, ``u`` and ``v`` may be strided views into the decoder's buffers (no copy): read them,
    never write them, and never keep them past the next frame unless ``source`` is kept too.
    ``demux_time`` is ``time.monotonic()`` when the frame's packet left the demuxer (or the
    synthetic source produced it): latency is measured from there. ``wall_time`` is
    ``time.time()`` at the same moment. ``pts`` is stream time in seconds from the source's
    ``open()``: it restarts after a reconnect. The planes are read-only; a stage that changes
    pixels makes its own copy.
    """

    y: Plane
    u: Plane
    v: Plane
    pts: float
    wall_time: float
    demux_time: float
    keyframe: bool = False
    source: Any = None

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])

    def i420(self) -> Plane:
        """A contiguous I420 buffer (H*3/2 x W), the layout OpenCV converts from."""
        h, w = self.height, self.width
        out = np.empty((h * 3 // 2, w), dtype=np.uint8)
        out[:h] = self.y
        quarter = (h // 2) * (w // 2)
        flat = out[h:].reshape(-1)
        flat[:quarter] = self.u[: h // 2, : w // 2].reshape(-1)
        flat[quarter : 2 * quarter] = self.v[: h // 2, : w // 2].reshape(-1)
        return out


@dataclass(frozen=True, slots=True)
class Packet:
    """One encoded unit of a stream (an access unit of H.264/H.265, a JPEG), as demultiplexed.

    Packets travel unchanged to whoever takes them (a passthrough stream, the recorder's
    pre-record ring): nothing pays for decoding what it does not look at. ``pts`` and ``dts``
    count ``time_base`` units and restart after a reconnect; ``discontinuity`` marks the first
    packet after a gap (a reconnect, packets dropped for a slow reader), where a muxer starts a
    new timeline and a decoder forgets what came before. ``demux_time`` and ``wall_time`` are
    as a ``Frame``'s. ``source`` keeps the demuxer's own packet for the decoder (no copy).
    """

    data: bytes
    pts: int | None
    dts: int | None
    time_base: Fraction
    keyframe: bool
    codec: str
    demux_time: float
    wall_time: float
    discontinuity: bool = False
    source: Any = None

    @property
    def time(self) -> float | None:
        """The presentation time in seconds (``None`` for a packet without one)."""
        if self.pts is None:
            return None
        # Not ``float(pts * time_base)``: Fraction arithmetic costs microseconds per packet.
        return self.pts * self.time_base.numerator / self.time_base.denominator


#: The quietest level reported (dBFS): digital silence is a number, not ``-inf``.
SILENCE_DB = -100.0


@dataclass(frozen=True, slots=True)
class AudioLevel:
    """How loud one decoded block of a source's audio track was.

    Sources measure it where they demultiplex (the samples never travel): ``rms_db`` and
    ``peak_db`` in dBFS, from ``SILENCE_DB`` to 0; ``media_time`` is the block's start on the
    track's own clock (seconds), ``duration`` its length, ``wall_time`` when it was measured
    (``time.time()``, the clock events use).
    """

    media_time: float
    duration: float
    rms_db: float
    peak_db: float
    wall_time: float


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a source announced when it opened.

    ``extradata`` (the codec's global headers: H.264 SPS/PPS in avcC form, when the container
    carries them out of band) and ``time_base`` are what a muxer needs to pass the packets on.
    """

    width: int
    height: int
    fps: float
    codec: str = ""
    time_base: Fraction | None = None
    extradata: bytes = b""


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in normalised coordinates (0..1 of width and height); ``x``, ``y`` is
    the top-left corner."""

    x: float
    y: float
    w: float
    h: float

    def as_dict(self) -> dict[str, float]:
        return {
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "w": round(self.w, 4),
            "h": round(self.h, 4),
        }


class EventPhase(StrEnum):
    """Where an event is in its life: Frigate's ``new`` / ``update`` / ``end``."""

    NEW = "new"
    UPDATE = "update"
    END = "end"


#: What one recordings search covers, in its answer's order (``GET /api/search``'s
#: ``within``; every face's ``search`` defaults to all of them).
SEARCH_KINDS: tuple[str, ...] = ("segments", "clips", "pictures", "events")
#: The ``channel`` of an event that concerns the device itself, not one of its channels (the
#: storage-error exception...).
DEVICE = ""


#: ``new_event_id()``: 13 hex digits of milliseconds, a dash, 12 random hex digits.
EVENT_ID = re.compile(r"^[0-9a-f]{13}-[0-9a-f]{12}$")


class _IdClock:
    """Milliseconds for ids, strictly increasing in this process: an id made in the same
    millisecond as the one before takes the next, so ids made in a burst (pictures saved one
    after another) still sort in the order they were made, and "oldest first" is exact."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1)
            return self._last


_ID_CLOCK = _IdClock()


def new_event_id() -> str:
    """Event ids sort by creation time (ms prefix) and are unique across restarts; within a
    process they sort in creation order (``_IdClock``)."""
    return f"{_ID_CLOCK.next():013x}-{uuid.uuid4().hex[:12]}"


@dataclass(slots=True)
class Event:
    """A detection or an exception on one channel (or on the device: ``channel`` is
    ``DEVICE``), from its start to its end.

    ``end`` stays ``None`` while the event is active. ``data`` carries the type's details
    (motion: ``areas`` and ``boxes``; video loss: ``reason``) and must be JSON-serialisable.
    """

    channel: str
    type: str
    start: float
    id: str = field(default_factory=new_event_id)
    end: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.end is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel,
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "active": self.active,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class EventUpdate:
    """One change of an event, as pushed on the bus, the WebSocket and (later) MQTT.

    ``demux_time`` is the monotonic time of the frame that caused it (or ``None``), so the
    event latency can be measured end to end.
    """

    phase: EventPhase
    event: Event
    demux_time: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"phase": self.phase.value, "event": self.event.as_dict()}


class ChannelChange(StrEnum):
    """What happened to a channel, as pushed on the channel bus, the WebSocket and MQTT."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


class DetectorStatus(TypedDict):
    """One detector of a channel, as the status shows it."""

    enabled: bool
    #: Why the detector could not start with this stream ("" when it runs).
    error: str
    options: dict[str, Any]


class StageStatus(TypedDict):
    """An image stage as a channel's status shows it."""

    enabled: bool
    options: dict[str, Any]


class ChannelStatus(TypedDict):
    """What every face shows of a channel (``GET /api/channels/{id}``, MQTT, Home Assistant).

    ``event_types`` and ``controls`` are the channel's capabilities
    (``camera_runtime.capabilities``, as dicts), each with the ``detector`` that declared it
    (``None``: the channel's own); a control also carries what it ``sets`` and its ``value``.
    """

    id: str
    name: str
    state: str
    armed: bool
    source: str
    width: int | None
    height: int | None
    fps: float
    frames: int
    error: str
    detectors: dict[str, DetectorStatus]
    image: dict[str, StageStatus]
    viewers: int
    #: Each stream role (``main``, and ``sub`` with a sub-stream): codec, size, frame rate
    #: as the source announced them, and how many take its packets.
    streams: dict[str, dict[str, Any]]
    #: Manual 4.10 as config data (``enabled``, ``stream_type``, ``resolution`` ``WxH``,
    #: ``x``, ``y``): the window the third stream shows, as in force now.
    target_cropping: dict[str, Any]
    #: The ePTZ window (``pan``, ``tilt``, ``zoom``) and what moves it; ``None`` without ePTZ.
    ptz: dict[str, Any] | None
    event_types: list[dict[str, Any]]
    controls: list[dict[str, Any]]
    #: Whether a segment is being written now (the record state); ``None`` when the channel
    #: does not record.
    recording: bool | None
    #: The channel's declared readings with their ``value`` (``capabilities.SensorInfo``).
    sensors: list[dict[str, Any]]
    #: The stitched device this channel fronts (its first output channel): id, output mode,
    #: best stitching distance, ``calibration`` state, ``error``, ``calibrated_at``; else
    #: ``None``.
    stitching: dict[str, Any] | None


class DeviceInfo(TypedDict):
    """The manual's basic information of the device, plus what a client needs of a runtime.

    ``services`` holds what each face the host runs says of itself (e.g. whether MQTT
    publishes Home Assistant discovery), by service name.
    """

    device_name: str
    device_no: int
    model: str
    serial_no: str
    firmware_version: str
    device_id: str
    channels: int
    platform: str
    uptime: float
    services: dict[str, dict[str, Any]]
    #: The device's own event types (its exceptions: ``storage_error``), like a channel's.
    event_types: list[dict[str, Any]]
    #: The storage watch: ``ok``, and per source its ``error``, ``pending`` and ``dropped``.
    storage: dict[str, Any]
    #: The device's declared readings with their ``value``: the storage's capacity, used and
    #: free bytes, status (``storage_sensors.py``); with worker processes, how many run and
    #: how many times one was replaced (``workers/pool.py``).
    sensors: list[dict[str, Any]]
    #: Channels in worker processes (config ``workers``): ``channels_per_process``,
    #: ``restarts`` and the ``processes`` (``name``, ``pid``, ``alive``, ``channels``);
    #: ``None`` when every channel runs in the runtime's own process.
    workers: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ChannelUpdate:
    """A channel's new status (``None`` once removed), so clients need not poll."""

    change: ChannelChange
    channel: str
    status: ChannelStatus | None

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change.value, "channel": self.channel, "status": self.status}
