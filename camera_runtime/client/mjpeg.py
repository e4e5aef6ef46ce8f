"""Reads a ``multipart/x-mixed-replace`` MJPEG stream into JPEG pictures.

The runtime's live view sends one part per picture, each with ``Content-Length``; this reader
relies on it (no scanning of JPEG bytes for the boundary) and skips any part that is not a
JPEG. A part larger than ``MAX_PART`` ends the stream with an error rather than filling memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import StreamReader

MAX_PART = 32 * 1024 * 1024
MAX_HEADER_LINES = 32


class MjpegError(ValueError):
    """The stream is not the multipart MJPEG the runtime sends."""


async def iter_jpegs(content: StreamReader) -> AsyncIterator[bytes]:
    """Yield each JPEG of the stream until it ends."""
    while True:
        line = await content.readline()
        if not line:
            return
        if not line.strip().startswith(b"--"):
            continue  # the CRLF after a part, or preamble
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADER_LINES):
            header = await content.readline()
            if not header:
                return
            if not header.strip():
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            raise MjpegError("a part has too many header lines")
        try:
            length = int(headers["content-length"])
        except (KeyError, ValueError):
            raise MjpegError("a part has no Content-Length") from None
        if not 0 <= length <= MAX_PART:
            raise MjpegError(f"a part of {length} bytes is out of bounds")
        body = await content.readexactly(length)
        if headers.get("content-type", "image/jpeg").lower() == "image/jpeg":
            yield body


__all__ = ["MAX_PART", "MjpegError", "iter_jpegs"]
