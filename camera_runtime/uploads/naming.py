"""Where an uploaded picture goes on the server and what it is called (manual 5.1.2).

- **Picture name**: the default rule, ``IP address_channel number_capture time_event
  type.jpg`` (``10.11.37.189_01_20150917094425492_MOTION.jpg``), with an optional custom
  prefix in front.
- **Directory structure**: the root directory; a parent directory named after the device
  (name, number, IP or custom text); or that plus a child directory named after the camera
  (name, number or custom text).
- **Picture filing interval**: 1-30 days; the pictures of one interval share a folder named
  after its first and last day (``20250601-20250607``). 0 files nothing by date.

Every part is reduced to safe characters, so no name from the config, a channel or an event
can climb out of the upload directory.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

#: The ``naming:`` keys of an upload target, with their defaults.
NAMING_SCHEMA = vol.Schema(
    {
        vol.Optional("structure", default="root"): vol.In(["root", "parent", "child"]),
        vol.Optional("parent", default="device_name"): vol.In(
            ["device_name", "device_no", "device_ip", "custom"]
        ),
        vol.Optional("parent_custom", default=""): vol.All(str, vol.Length(max=64)),
        vol.Optional("child", default="camera_name"): vol.In(
            ["camera_name", "camera_no", "custom"]
        ),
        vol.Optional("child_custom", default=""): vol.All(str, vol.Length(max=64)),
        vol.Optional("filing_interval_days", default=0): vol.All(int, vol.Range(min=0, max=30)),
        vol.Optional("prefix", default=""): vol.All(str, vol.Length(max=32)),
    }
)


def safe_part(text: str, fallback: str = "_") -> str:
    """``text`` as one path component: unsafe runs become ``_``; never empty, ``.`` or ``..``."""
    part = _UNSAFE.sub("_", text).strip("._") or fallback
    return part[:64]


def local_ip() -> str:
    """The address this host reaches its network from (no packet is sent), else loopback."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only, nothing goes out
            return str(probe.getsockname()[0])
    except Exception:  # no route, no network, a sandbox that forbids sockets: loopback
        return "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Picture:
    """What the name of an uploaded picture is made of."""

    device_name: str
    device_no: int
    device_ip: str
    camera_name: str
    camera_no: int
    time: float
    event_type: str


def picture_name(picture: Picture, prefix: str = "", extension: str = "jpg") -> str:
    """The manual's default rule, with the custom prefix in front; a clip is named as a
    picture is, by its start, with ``extension`` ``mp4``."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(picture.time))
    millis = int(picture.time % 1 * 1000)
    event = safe_part(picture.event_type.upper())
    ip = safe_part(picture.device_ip)
    name = f"{ip}_{picture.camera_no:02d}_{stamp}{millis:03d}_{event}.{extension}"
    return safe_part(prefix, "") + name if prefix else name


def filing_folder(when: float, interval_days: int) -> str:
    """The folder of ``when``'s filing interval: intervals are counted in local days from
    1970-01-01, so every picture of one interval lands in the same folder."""
    local = time.localtime(when)
    day = int(time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 12, 0, 0, 0, 0, -1)))
    index = (day // 86400) // interval_days
    first = index * interval_days * 86400 + 12 * 3600
    last = first + (interval_days - 1) * 86400
    return f"{time.strftime('%Y%m%d', time.gmtime(first))}-{time.strftime('%Y%m%d', time.gmtime(last))}"


def remote_path(picture: Picture, naming: Mapping[str, Any], extension: str = "jpg") -> str:
    """The picture's (or clip's) path below the target's upload directory, ``/``-separated."""
    parts: list[str] = []
    if naming["structure"] in ("parent", "child"):
        parent = {
            "device_name": picture.device_name,
            "device_no": str(picture.device_no),
            "device_ip": picture.device_ip,
            "custom": naming["parent_custom"],
        }[naming["parent"]]
        parts.append(safe_part(parent))
    if naming["structure"] == "child":
        child = {
            "camera_name": picture.camera_name,
            "camera_no": f"{picture.camera_no:02d}",
            "custom": naming["child_custom"],
        }[naming["child"]]
        parts.append(safe_part(child))
    if naming["filing_interval_days"]:
        parts.append(filing_folder(picture.time, naming["filing_interval_days"]))
    parts.append(picture_name(picture, naming["prefix"], extension))
    return "/".join(parts)


__all__ = [
    "NAMING_SCHEMA",
    "Picture",
    "filing_folder",
    "local_ip",
    "picture_name",
    "remote_path",
    "safe_part",
]
