"""The standalone process fixes glibc's mmap threshold: a block above it is still mapped on
its own after a large one was freed (left alone, glibc raises the threshold past that
block's size and the next ones come from the heap, where they fragment it). Each case runs in
a fresh interpreter: the setting is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip("glibc's allocator", allow_module_level=True)

#: In a fresh interpreter: ``mallinfo2().hblks`` (blocks mapped on their own) after freeing a
#: 4 MiB block and allocating eight of 1 MiB, with or without the fix. (malloc looks at the
#: threshold only when the heap's free top cannot serve a block: one may come from there.)
PROBE = """
import ctypes, json, sys
from camera_runtime.allocator import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
libc.mallinfo2.restype = MallInfo2
fixed = fix_mmap_threshold() if sys.argv[1] == "fix" else None
libc.free(libc.malloc(4 << 20))  # a large packet, freed
before = libc.mallinfo2().hblks
blocks = [libc.malloc(1 << 20) for _ in range(8)]
mapped = libc.mallinfo2().hblks - before
for block in blocks:
    libc.free(block)
print(json.dumps({"fixed": fixed, "mapped": mapped}))
"""


def _probe(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60
    )
    return dict(json.loads(done.stdout))


def test_the_fixed_threshold_keeps_large_blocks_mapped() -> None:
    found = _probe("fix")
    assert found["fixed"] is True and found["mapped"] in (7, 8)


def test_left_alone_glibc_raises_it_and_large_blocks_come_from_the_heap() -> None:
    # What the fix is for: after one large block was freed, the same sizes are heap blocks.
    assert _probe("none") == {"fixed": None, "mapped": 0}
