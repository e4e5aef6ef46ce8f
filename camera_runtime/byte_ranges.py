"""Byte ranges of recorded files, for players that seek: the one range a ``Range`` header asks
for (RFC 9110 14.1.2), and the file's bytes in that range read in chunks off the event loop.

Shared by the API's playback routes and the local client (Home Assistant's media panel playing
an embedded runtime's recordings), so both answer a seeking player the same way. One range
only: players ask for one; a header with several is refused like a malformed one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import BinaryIO

#: Bytes read from a file per chunk handed on.
CHUNK = 256 * 1024


class RangeNotSatisfiable(ValueError):
    """The header's range lies outside the file, or is not one byte range (HTTP 416)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the range is not within the {size} bytes of the playback")
        self.size = size

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` header a 416 answer carries."""
        return f"bytes */{self.size}"


def wanted_range(header: str | None, size: int) -> tuple[int, int]:
    """The bytes ``[first, stop)`` of a ``size``-byte file that ``header`` asks for: the whole
    file without one; ``bytes=a-b``, ``bytes=a-`` (to the end), ``bytes=-n`` (the last ``n``).
    ``RangeNotSatisfiable`` for a range past the end or a header that is not one byte range."""
    if header is None or not header.strip():
        return 0, size
    unit, _, spec = header.strip().partition("=")
    low, dash, high = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or not (low + high).isdigit():
        raise RangeNotSatisfiable(size)
    if not low:  # the last ``high`` bytes
        if int(high) == 0:
            raise RangeNotSatisfiable(size)
        return max(size - int(high), 0), size
    first = int(low)
    if high and int(high) < first:
        raise RangeNotSatisfiable(size)
    stop = min(int(high) + 1, size) if high else size
    if first >= stop:
        raise RangeNotSatisfiable(size)
    return first, stop


def range_headers(first: int, stop: int, size: int) -> tuple[int, dict[str, str]]:
    """The status (200 for the whole, 206 for a part) and length headers of an answer with the
    bytes ``[first, stop)`` of a ``size``-byte file."""
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(stop - first)}
    if (first, stop) == (0, size):
        return 200, headers
    return 206, {**headers, "Content-Range": f"bytes {first}-{stop - 1}/{size}"}


async def read_range(file: BinaryIO, first: int, stop: int) -> AsyncIterator[bytes]:
    """The bytes ``[first, stop)`` of an open file, in chunks read off the event loop (a file
    cut short meanwhile ends them early)."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, file.seek, first)
    left = stop - first
    while left > 0 and (chunk := await loop.run_in_executor(None, file.read, min(CHUNK, left))):
        left -= len(chunk)
        yield chunk


__all__ = ["CHUNK", "RangeNotSatisfiable", "range_headers", "read_range", "wanted_range"]
