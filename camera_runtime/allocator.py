"""The C allocator's setting for a standalone runtime process.

glibc's ``malloc`` serves a block above its mmap threshold (128 KiB at start) with its own
``mmap``, and raises the threshold to the size of every such block freed (up to 32 MiB). A
recording runtime frees a keyframe's packet (over 128 KiB at 1080p) every GOP: after the
first, those blocks come from the heap instead, where packets of every size interleave and
fragment it. Measured (``bench/memory.py --record``, a 1080p25 main stream recorded by remux):
the process's RSS climbs by about 70 MB over the first 8-10 minutes and stays there; with the
threshold fixed (which also ends its adjustment) it stays at the start's level.

Only the standalone process (the CLI) sets it: a runtime embedded in Home Assistant lives in
Home Assistant's process, whose allocator is not the library's to change.
"""

from __future__ import annotations

import ctypes
import logging
import sys

_LOGGER = logging.getLogger(__name__)

#: ``mallopt``'s parameter for the mmap threshold (glibc's ``malloc.h``).
M_MMAP_THRESHOLD = -3
#: glibc's own starting value: kept, only no longer raised.
MMAP_THRESHOLD = 128 * 1024


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; whether it was set (``False``
    elsewhere than Linux with glibc: nothing to do there)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold))  # 1 on success (musl's stub: 0)
    if done:
        _LOGGER.debug("malloc's mmap threshold fixed at %d bytes", threshold)
    return done


__all__ = ["MMAP_THRESHOLD", "M_MMAP_THRESHOLD", "fix_mmap_threshold"]
