"""Synthetic pictures for the encoder tests (a gradient with a moving box), and reading encoded streams back with PyAV and ffprobe."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

from camera_runtime.model import Frame, Packet, StreamInfo


def picture(index: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planes of picture ``index``: diagonal gradients and a bright box moving 4 px a picture."""
    rows = np.arange(height, dtype=np.uint16)[:, None]
    cols = np.arange(width, dtype=np.uint16)[None, :]
    y = (16 + (rows * 3 + cols * 2 + index) % 200).astype(np.uint8)
    side = max(8, height // 6)
    x0 = (index * 4) % max(1, width - side)
    y[height // 3 : height // 3 + side, x0 : x0 + side] = 230
    u = (64 + (rows[: height // 2] + cols[:, : width // 2]) % 128).astype(np.uint8)
    v = (192 - (rows[: height // 2] * 2 + cols[:, : width // 2]) % 128).astype(np.uint8)
    return y, u, v


def frames(
    count: int, width: int, height: int, fps: float = 25.0, start: int = 0
) -> Iterator[Frame]:
    """``count`` frames at ``fps``, with read-only planes like a decoder's."""
    for index in range(start, start + count):
        y, u, v = picture(index, width, height)
        for plane in (y, u, v):
            plane.flags.writeable = False
        yield Frame(
            y=y,
            u=u,
            v=v,
            pts=index / fps,
            wall_time=time.time(),
            demux_time=time.monotonic(),
        )


def write(path: Path, info: StreamInfo, packets: Iterable[Packet]) -> None:
    """Mux packets into a file (MPEG-TS or MP4, by its suffix), with the stream's extradata."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(info.codec, rate=round(info.fps))
        stream.width, stream.height = info.width, info.height
        stream.time_base = info.time_base
        stream.codec_context.time_base = info.time_base
        if info.extradata:
            stream.codec_context.extradata = info.extradata
        stream.codec_context.pix_fmt = "yuvj420p" if info.codec == "mjpeg" else "yuv420p"
        for packet in packets:
            out = av.Packet(packet.data)
            out.pts, out.dts = packet.pts, packet.dts
            out.time_base = packet.time_base
            out.stream = stream
            if packet.keyframe:
                out.is_keyframe = True
            container.mux(out)


def ffprobe(path: Path) -> dict[str, Any]:
    """``ffprobe -show_streams -show_frames`` of the file, as JSON."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_frames", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def decode(path: Path) -> list[np.ndarray]:
    """The luma planes of every picture of the file, in video range (16-235): a JPEG's full
    range luma is mapped back with ``16 + y * 219 / 255``."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            y = frame.to_ndarray(format=frame.format.name)[: frame.height].astype(np.float64)
            if frame.format.name == "yuvj420p":
                y = 16 + y * 219 / 255
            out.append(np.rint(y).astype(np.uint8))
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if error == 0 else 10 * np.log10(255.0**2 / error)
