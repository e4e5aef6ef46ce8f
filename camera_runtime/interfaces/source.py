"""Sources ("sensors"): where a channel's pictures come from."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..model import Frame, StreamInfo
from .base import PluginClass


class Source(PluginClass):
    """A video source, driven by its channel's worker thread.

    The channel calls ``open`` then ``read`` in a loop from one thread; ``close`` may be called
    from another thread and must make a blocking ``open`` or ``read`` return (raise) within
    about a second.
    ``read`` raises ``SourceUnavailableError`` when the source drops (the channel raises a
    video-loss event and reopens with backoff) and ``SourceEndedError`` at the end of a finite
    source. Decoding happens here, once per frame, off the event loop.
    """

    extension_point: ClassVar[str] = "source"

    @abstractmethod
    def open(self) -> StreamInfo:
        """Connect and return the stream's geometry; raises ``SourceUnavailableError``."""

    @abstractmethod
    def read(self) -> Frame:
        """Block until the next decoded frame."""

    @abstractmethod
    def close(self) -> None:
        """Release the source; safe to call twice and from another thread."""

    def describe(self) -> str:
        """A log-safe description (no credentials)."""
        return self.kind
