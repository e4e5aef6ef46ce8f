"""Thumbnails of recorded segments: the segment's first picture (its opening keyframe)
decoded with PyAV and encoded as JPEG, smaller when asked. Blocking: run it off the loop."""

from __future__ import annotations

from pathlib import Path

import av

from ..exceptions import NotFoundError
from ..live import JPEG_QUALITY, encode_bgr_jpeg, picture_size


def thumbnail(path: Path, width: int | None = None, height: int | None = None) -> bytes:
    """JPEG of the first picture of the segment file ``path``, at ``width`` and/or ``height``
    (``picture_size``'s rules: ``InvalidValueError`` past the picture's size); one keyframe
    is decoded, nothing more. ``NotFoundError`` when the file holds no picture."""
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0), None)
            bgr = None if frame is None else frame.to_ndarray(format="bgr24")
    except (av.FFmpegError, OSError) as err:
        raise NotFoundError(f"the recording has no picture: {err}") from err
    if bgr is None:
        raise NotFoundError("the recording has no picture")
    size = picture_size((bgr.shape[1], bgr.shape[0]), width, height)
    return encode_bgr_jpeg(bgr, JPEG_QUALITY, size)
