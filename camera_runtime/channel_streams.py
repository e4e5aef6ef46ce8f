"""A channel's streams (main, sub, third) as clients get them: the source's packets passed
through, or the channel's pictures encoded, whichever keeps the promise.

A stream is passed through (the camera's packets, byte for byte, nothing decoded or encoded)
when the config asks no encoding of it (``channels[].streams.<role>``), its feed hands H.264 or
H.265 packets, no image stage changes the pictures and no detection boxes are drawn on them
(display info, ``display_info.py``). Otherwise it is encoded from the
channel's pictures (after the stages: a privacy mask is never bypassed) by the configured
encoder, or by the default one: so a synthetic scene has a stream too, and a passthrough
stream's clients are cut over to an encoded one the moment a privacy mask goes on (their
passthrough stream ends; they reconnect). With a sub-stream, the pictures are the
sub-stream's: the main stream is then encoded at the sub-stream's size, rather than decoding
the main stream only to mask it. Encoders run only while someone watches.

Target cropping (manual 4.10) makes the third stream a window of the pictures: the cropping
resolution, placed at the configured corner (views of the planes, nothing copied). It changes
while running (``set_cropping``): a moved window applies from the next picture; a new size (or
cropping switched on or off) ends the third stream's encoder, built for the old size, and its
clients' streams: they reconnect and get the new one.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .config import ChannelConfig
from .encoding import EncodedStream
from .exceptions import NoFrameError, NotFoundError, PluginError, StreamUnavailableError
from .feed import THIRD, PacketFanout
from .interfaces import Encoder, EncoderContext
from .model import Frame
from .registry import PluginRegistry
from .streaming import SERVED_CODECS, EncodedPackets, StreamOutputs


def crop_window(size: tuple[int, int], cropping: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """``(x, y, width, height)`` in pixels of the target-cropping window in a picture of
    ``size``: the cropping resolution (at most the picture's), its corner at ``x``, ``y`` of
    the picture, kept inside it, on even pixels (the chroma planes are half size)."""
    width, height = size
    crop_w, crop_h = cropping["resolution"]
    crop_w, crop_h = min(crop_w, width) & ~1, min(crop_h, height) & ~1
    x = min(round(cropping["x"] * width), width - crop_w) & ~1
    y = min(round(cropping["y"] * height), height - crop_h) & ~1
    return x, y, crop_w, crop_h


def cropped(frame: Frame, window: tuple[int, int, int, int]) -> Frame:
    x, y, w, h = window
    return dataclasses.replace(
        frame,
        y=frame.y[y : y + h, x : x + w],
        u=frame.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2],
        v=frame.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2],
    )


class ChannelStreams:
    """The served streams of one channel; ``put`` runs in the decoding feed's thread."""

    def __init__(
        self,
        config: ChannelConfig,
        registry: PluginRegistry,
        packets: Mapping[str, PacketFanout],
        changes_pictures: Callable[[], bool],
        picture_fps: Callable[[], float],
    ) -> None:
        self._config = config
        self._registry = registry
        self._packets = packets
        self._changes_pictures = changes_pictures
        self._picture_fps = picture_fps
        self._lock = threading.Lock()
        #: Each feed's packets as served (MPEG-TS, fragmented MP4), muxed only while watched.
        self.passthrough = {
            role: StreamOutputs(fanout, f"{config.id} {role}", lambda: not changes_pictures())
            for role, fanout in packets.items()
        }
        self._encoded: dict[str, tuple[EncodedStream, StreamOutputs]] = {}
        self._running: tuple[tuple[EncodedStream, str], ...] = ()
        self._picture_size: tuple[int, int] | None = None
        self._encoders: dict[str, tuple[type[Encoder], Mapping[str, Any]]] = {}
        #: Validated target cropping (``TARGET_CROPPING_SCHEMA``), replaced whole (never
        #: changed in place) so the feed's thread reads one consistent setting per picture.
        self._crop: Mapping[str, Any] = config.target_cropping

    @property
    def roles(self) -> list[str]:
        """Every stream the channel has: one per feed, plus the configured ones."""
        roles = [*self._packets, *(r for r in self._config.streams if r not in self._packets)]
        if self._cropping and THIRD not in roles:
            roles.append(THIRD)
        return roles

    @property
    def _cropping(self) -> bool:
        return bool(self._crop["enabled"])

    @property
    def cropping(self) -> Mapping[str, Any]:
        """The target cropping in force (validated)."""
        return self._crop

    def set_cropping(self, cropping: Mapping[str, Any]) -> None:
        """New target cropping (validated), used from the next picture. A new window size
        (or cropping switched on or off) ends the third stream's encoder and its clients'
        streams: the encoder was built for the old size; the next client gets the new one."""
        old, self._crop = self._crop, dict(cropping)
        if (old["enabled"], old["resolution"]) != (cropping["enabled"], cropping["resolution"]):
            self.end_role(THIRD)

    def input_size(self, role: str, size: tuple[int, int]) -> tuple[int, int]:
        """The size of the pictures ``role``'s encoder gets (the crop window's, cropped)."""
        crop = self._crop
        if role == THIRD and crop["enabled"]:
            return crop_window(size, crop)[2:]
        return size

    def _encoder(self, role: str) -> tuple[type[Encoder], Mapping[str, Any]]:
        """The encoder class and options of ``role``, resolved once (the status asks often)."""
        found = self._encoders.get(role)
        if found is None:
            configured = self._config.streams.get(role)
            if configured is not None:
                found = self._registry.encoder(configured.kind), configured.options
            else:
                try:
                    cls = self._registry.default_encoder()
                except PluginError as err:
                    message = f"channel {self._config.id!r}: {err.message}"
                    raise StreamUnavailableError(message) from None
                found = cls, cls.CONFIG_SCHEMA({})
            self._encoders[role] = found
        return found

    def passes_through(self, role: str) -> bool:
        """Whether ``role`` is served as the source's packets (now: it can change)."""
        fanout = self._packets.get(role)
        if role in self._config.streams or fanout is None or fanout.info is None:
            return False
        return fanout.info.codec in SERVED_CODECS and not self._changes_pictures()

    def served(self, role: str) -> StreamOutputs:
        """The stream a client of ``role`` gets now (``NotFoundError``, ``NoFrameError``
        before the feed connected, ``StreamUnavailableError`` for a codec the served containers
        do not carry)."""
        channel = self._config.id
        if role not in self.roles:
            raise NotFoundError(f"channel {channel!r} has no {role!r} stream", "stream_not_found")
        fanout = self._packets.get(role)
        if role not in self._config.streams and fanout is not None and fanout.info is None:
            raise NoFrameError(f"channel {channel!r} has not connected its {role} stream yet")
        if self.passes_through(role):
            return self.passthrough[role]
        return self._built(role)[1]

    def encoded(self, role: str) -> EncodedStream:
        """``role``'s encoded stream, the one its encoded clients share (built on first use;
        its encoder runs while attached): what the recorder takes while the pictures are
        changed. ``StreamUnavailableError`` for a codec MPEG-TS segments do not carry."""
        return self._built(role)[0]

    def _built(self, role: str) -> tuple[EncodedStream, StreamOutputs]:
        channel = self._config.id
        cls, options = self._encoder(role)
        codec = cls.codec(options)
        if codec not in SERVED_CODECS:
            raise StreamUnavailableError(
                f"the {role} stream of channel {channel!r} is {codec}: only H.264 and H.265 "
                "streams are served and recorded (MPEG-TS, fragmented MP4)"
            )
        with self._lock:
            built = self._encoded.get(role)
            if built is None:
                label = f"{channel}-{role}"
                stream = EncodedStream(self._factory(role, cls, options), label)
                outputs = StreamOutputs(EncodedPackets(stream), label)
                built = self._encoded[role] = (stream, outputs)
                self._running = tuple((s, r) for r, (s, _) in self._encoded.items())
        return built

    def _factory(
        self, role: str, cls: type[Encoder], options: Mapping[str, Any]
    ) -> Callable[[], Encoder]:
        def build() -> Encoder:
            size = self._picture_size
            if size is None:
                raise NoFrameError(f"channel {self._config.id!r} has no picture to encode yet")
            width, height = self.input_size(role, size)
            context = EncoderContext(self._config.id, role, width, height, self._picture_fps())
            return cls(options, context)

        return build

    def put(self, frame: Frame) -> None:
        """A picture (after the stages) for the encoders; nothing to do while none runs. A
        new picture size ends the encoded streams (their encoders were built for the old one):
        their clients reconnect and get the new size."""
        size = (frame.width, frame.height)
        if size != self._picture_size:
            self._picture_size = size
            self.end_encoded()
        crop = self._crop
        for stream, role in self._running:
            if role == THIRD and crop["enabled"]:
                stream.put(cropped(frame, crop_window(size, crop)))
            else:
                stream.put(frame)

    def end_encoded(self) -> None:
        for role in list(self._encoded):
            self.end_role(role)

    def end_role(self, role: str) -> None:
        """End ``role``'s encoder and its clients' streams (the next client starts anew)."""
        with self._lock:
            built = self._encoded.pop(role, None)
            self._running = tuple((s, r) for r, (s, _) in self._encoded.items())
        if built is not None:
            stream, muxed = built
            muxed.end()
            stream.close()

    def end(self) -> None:
        """The channel stops: every client's stream ends, every encoder stops."""
        for muxed in self.passthrough.values():
            muxed.end()
        self.end_encoded()

    def status(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for role in self.roles:
            fanout = self._packets.get(role)
            info = fanout.info if fanout is not None else None
            built = self._encoded.get(role)
            if fanout is not None and info is None and role not in self._config.streams:
                found[role] = {  # not connected yet
                    "mode": "passthrough",
                    "codec": None,
                    "width": None,
                    "height": None,
                    "fps": 0.0,
                    "clients": 0,
                }
                continue
            if self.passes_through(role):
                assert info is not None
                found[role] = {
                    "mode": "passthrough",
                    "codec": info.codec,
                    "width": info.width,
                    "height": info.height,
                    "fps": round(info.fps, 2),
                    "clients": self.passthrough[role].clients,
                }
                continue
            try:
                cls, options = self._encoder(role)
                codec: str | None = cls.codec(options)
            except StreamUnavailableError:
                codec = None
            running = built[0].stream_info() if built is not None else None
            size = (running.width, running.height) if running else None
            if size is None and self._picture_size is not None:
                size = self.input_size(role, self._picture_size)
            found[role] = {
                "mode": "encoded",
                "codec": codec,
                "width": size[0] if size else None,
                "height": size[1] if size else None,
                "fps": round(running.fps if running else self._picture_fps(), 2),
                "clients": built[1].clients if built is not None else 0,
            }
        return found


__all__ = ["ChannelStreams"]
