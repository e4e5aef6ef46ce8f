"""The `file` source: a video file played as a camera, once or looping, fast or at its own pace.

Anything PyAV opens works (MP4, MKV, MPEG-TS, AVI...). As a camera, a file plays at its own
pace by default (``realtime: true`` paces packets by their timestamps, so a 20 s clip lasts
20 s); ``realtime: false`` reads as fast as the decoder goes (tests, benchmarks, analysing a
recording). Damaged packets are skipped; a file that cannot be opened at all,
or a missing one, raises ``SourceUnavailableError`` naming the path and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import ClassVar

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.exceptions import SourceUnavailableError
from camera_runtime.interfaces import Source

from ._av import DECODE_OPTIONS, AvSource, OpenSpec


class FileSource(AvSource):
    """Decodes the first video stream of a file; at its end, stops or seeks back (``loop``).

    Frame times start at 0 and keep increasing across loops, as a camera's would.
    """

    kind: ClassVar[str] = "file"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Required("path"): vol.All(str, vol.Length(min=1)),
            vol.Optional("loop", default=False): bool,
            vol.Optional("realtime", default=True): bool,
            **DECODE_OPTIONS,
        }
    )

    @property
    def path(self) -> str:
        return os.path.expanduser(str(self.options["path"]))

    def describe(self) -> str:
        return f"file {self.path}"

    def open_spec(self) -> OpenSpec:
        path = self.path
        if not os.path.exists(path):
            # FFmpeg would say "No such file or directory" too, but only after probing formats.
            raise SourceUnavailableError(f"cannot open file {path}: no such file")
        return OpenSpec(
            target=path,
            label=self.describe(),
            finite=True,
            loop=bool(self.options["loop"]),
            realtime=bool(self.options["realtime"]),
            fast_decode=bool(self.options["fast_decode"]),
        )


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the `file` source."""
    register(FileSource)
