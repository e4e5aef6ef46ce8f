"""Picture helpers: shrink a full-resolution luma plane to detect size (the detection path);
the named YUV colours and exact-size chroma planes that drawing on pictures shares (the image
stages, the detection boxes of ``display_info.py``)."""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from .model import Frame

Plane = npt.NDArray[np.uint8]

#: Named fill, text and box colours as (Y, U, V) in BT.601 limited range, the range the
#: runtime's JPEG and MJPEG conversions read (black is Y 16, white Y 235).
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (16, 128, 128),
    "white": (235, 128, 128),
    "grey": (126, 128, 128),
    "red": (81, 90, 240),
    "green": (145, 54, 34),
    "blue": (41, 240, 110),
    "yellow": (210, 16, 146),
}


def chroma(frame: Frame) -> tuple[Plane, Plane]:
    """The U and V planes cut to the frame's own chroma size (a decoder's may be padded)."""
    h, w = (frame.height + 1) // 2, (frame.width + 1) // 2
    return frame.u[:h, :w], frame.v[:h, :w]


def chroma_mask(mask: Plane) -> Plane:
    """The chroma-size mask of a luma-size 0/1 mask: a chroma sample is in when any of the
    2x2 luma pixels it colours is in (so no colour of a masked pixel leaks)."""
    h, w = mask.shape
    padded = np.zeros((h + h % 2, w + w % 2), dtype=np.uint8)
    padded[:h, :w] = mask
    blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2)
    out: Plane = blocks.max(axis=(1, 3)).astype(np.uint8)
    return out


def one_opencv_thread() -> None:
    """Give OpenCV no thread pool in a process that runs channels (the runtime's, a worker's).

    Channels already run in parallel, one thread each: OpenCV's pool (a thread per core,
    shared by the whole process) would take each call's work and be waited on, about 0.1 ms a
    frame per channel; in worker processes, 0-16 % of their CPU (``docs/pipeline.md``)."""
    cv2.setNumThreads(1)


def downscale_luma(y: Plane, width: int, height: int) -> Plane:
    """Shrink a luma (Y) plane to ``width`` x ``height`` for the detectors, cheaply.

    Why not one ``cv2.resize(..., INTER_AREA)``: OpenCV's area filter has a fast SIMD path only
    for exact 2x steps; any other factor takes a generic path. So the plane is halved with
    INTER_AREA (an exact 2x2 box average) while the result stays at least the target size, and
    one INTER_LINEAR step (factor below 2, so no pixel is skipped) lands on the exact size.
    An odd row or column is dropped before a halving step so that the step stays exact.

    Measured on the 2-core dev machine (1920x1080 strided view of a 2048-wide buffer -> 320x180,
    median of 400 calls, one run): one INTER_AREA call 570-650 us; two 2x INTER_AREA steps plus
    INTER_LINEAR 95-130 us (about 5x faster); cv2.pyrDown steps plus INTER_LINEAR 250-440 us
    (its 5x5 kernel costs more); one INTER_LINEAR call 50 us but it aliases (it reads 4 of
    every 36 pixels). The result stays within a mean of 2 grey levels of the single INTER_AREA
    call on a busy texture and finds the same motion.

    ``y`` may be a strided view (a decoder plane with line padding); it is only read. The
    result is always a new contiguous array, safe to keep after the decoder reuses its buffer.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"target size must be positive, got {width}x{height}")
    if y.ndim != 2:
        raise ValueError(f"expected a 2-D luma plane, got shape {y.shape}")
    plane = y
    while plane.shape[1] // 2 >= width and plane.shape[0] // 2 >= height:
        h2, w2 = plane.shape[0] // 2, plane.shape[1] // 2
        # A view without the odd last row/column keeps the step an exact 2x (fast path).
        step = cv2.resize(plane[: h2 * 2, : w2 * 2], (w2, h2), interpolation=cv2.INTER_AREA)
        plane = cast(Plane, step)  # OpenCV's stubs type results as any-dtype arrays
    if plane.shape[0] == height and plane.shape[1] == width:
        return plane if plane is not y else np.array(y, dtype=np.uint8, order="C", copy=True)
    return cast(Plane, cv2.resize(plane, (width, height), interpolation=cv2.INTER_LINEAR))
