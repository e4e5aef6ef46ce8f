"""The runtime's data folder: what identifies this runtime across restarts (its device id).

Everything the runtime keeps lives in one folder (``--data-dir``): the device id, the event
history, run-time settings, captures, the credential store, the MQTT outbox.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from .exceptions import StorageError

DEVICE_FILE = "device.json"


def load_device_id(data_dir: Path) -> str:
    """A stable id for the runtime in ``data_dir`` (Home Assistant's unique id), made on the
    first start; blocking. ``StorageError`` when the file exists but cannot be read."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEVICE_FILE
    try:
        stored = json.loads(path.read_text())
        device_id = stored.get("id") if isinstance(stored, dict) else None
        if isinstance(device_id, str) and device_id:
            return device_id
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as err:
        raise StorageError(
            f"{path} is unreadable ({err}); remove it to get a new device id"
        ) from err
    device_id = uuid.uuid4().hex
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"id": device_id}))
    os.replace(tmp, path)
    return device_id


__all__ = ["DEVICE_FILE", "load_device_id"]
