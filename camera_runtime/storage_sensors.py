"""The storage readings a user looks at (the manual's HDD management: capacity, free space,
status), and each recording channel's record state, declared once as sensors: the API's device
information and channel status list them with their values, MQTT discovery and the Home
Assistant integration turn the declarations into sensor entities.

The status words are the manual's (``normal``, ``uninitialized``) and its exceptions' (``full``:
recording stopped at the limits with overwrite off; ``error``: a file of the data folder cannot
be written, the ``storage_error`` exception).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from typing import Any

from .capabilities import SensorInfo
from .recording.service import Recordings

NORMAL, UNINITIALIZED, FULL, ERROR = "normal", "uninitialized", "full", "error"
STORAGE_STATES = (NORMAL, UNINITIALIZED, FULL, ERROR)

STORAGE_STATUS = SensorInfo(
    "storage_status", "Storage status", device_class="enum", options=STORAGE_STATES,
    icon="mdi:harddisk",
)  # fmt: skip


def _bytes(key: str, label: str) -> SensorInfo:
    """A size in bytes, measured."""
    return SensorInfo(key, label, unit="B", device_class="data_size", state_class="measurement")


STORAGE_CAPACITY = _bytes("storage_capacity", "Storage capacity")
STORAGE_USED = _bytes("storage_used", "Storage used")
STORAGE_FREE = _bytes("storage_free", "Storage free")
#: Pictures waiting for an upload target (only with upload targets).
UPLOADS_PENDING = SensorInfo(
    "uploads_pending", "Uploads waiting", unit="items", state_class="measurement",
    icon="mdi:tray-arrow-up",
)  # fmt: skip

#: A channel's record state: ``off`` (it does not record), ``idle`` (waiting for its schedule
#: or an event), ``recording``, ``full`` (stopped at the limits), ``error`` (cannot write).
OFF, IDLE, RECORDING = "off", "idle", "recording"
RECORD_STATES = (OFF, IDLE, RECORDING, FULL, ERROR)
RECORD_STATE = SensorInfo(
    "record_state", "Record state", device_class="enum", options=RECORD_STATES,
    icon="mdi:record-rec",
)  # fmt: skip

#: The storage-health source of recordings (``runtime.RECORDINGS``).
_RECORDINGS = "recordings"


def _local_failing(failing: Mapping[str, str], targets: Iterable[str]) -> bool:
    """Whether a file of the data folder fails (an upload target's server failing is not the
    local storage's; the upload queue's file is)."""
    remote = {f"upload {target}" for target in targets}
    return any(source not in remote for source in failing)


def storage_sensors(
    recordings: Recordings,
    picture_bytes: int,
    failing: Mapping[str, str],
    uploads: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The local storage's readings (the disk holding the recordings), with their values:
    ``failing`` is the storage watch's failing sources, ``uploads`` the targets' status."""
    try:
        usage = shutil.disk_usage(recordings.root)
    except OSError:  # not initialised yet (before the runtime started), or gone
        usage = None
    if usage is None:
        status = UNINITIALIZED
    elif _local_failing(failing, uploads):
        status = ERROR
    elif recordings.full is not None:
        status = FULL
    else:
        status = NORMAL
    used = recordings.storage_bytes() + picture_bytes if usage is not None else None
    found = [
        STORAGE_STATUS.as_dict(status),
        STORAGE_CAPACITY.as_dict(usage.total if usage else None),
        STORAGE_USED.as_dict(used),
        STORAGE_FREE.as_dict(usage.free if usage else None),
    ]
    if uploads:
        found.append(UPLOADS_PENDING.as_dict(sum(int(t["pending"]) for t in uploads.values())))
    return found


def record_state(recordings: Recordings, channel_id: str, failing: Mapping[str, str]) -> str:
    """The channel's record state (``RECORD_STATES``)."""
    recorder = recordings.recorders.get(channel_id)
    if recorder is None:
        return OFF
    if recorder.recording:
        return RECORDING
    if _RECORDINGS in failing:
        return ERROR
    if recordings.full is not None:
        return FULL
    return IDLE


__all__ = [
    "RECORD_STATE",
    "RECORD_STATES",
    "STORAGE_CAPACITY",
    "STORAGE_FREE",
    "STORAGE_STATES",
    "STORAGE_STATUS",
    "STORAGE_USED",
    "UPLOADS_PENDING",
    "record_state",
    "storage_sensors",
]
