"""The `rtsp` and `http` sources: network cameras, read through FFmpeg with bounded waits.

Both kinds share one base: a URL, optional credentials (put into the URL for FFmpeg, never
logged: ``describe()`` and every error message show the URL without them), and two timeouts
that keep a dead or silent camera from hanging the channel: ``open_timeout`` bounds connecting
and reading the stream header, ``read_timeout`` each wait for a packet after that. A drop
raises ``SourceUnavailableError``; the channel reconnects with backoff and calls ``open()``
again. RTSP adds the ``transport`` of the manual's "Protocol" setting (TCP or UDP).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit, urlunsplit

import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.interfaces import Source

from ._av import DECODE_OPTIONS, AvSource, OpenSpec


def _url_with_schemes(*schemes: str) -> Callable[[Any], str]:
    def validate(value: Any) -> str:
        url = str(value)
        parts = urlsplit(url)
        if parts.scheme.lower() not in schemes or not parts.hostname:
            raise vol.Invalid(f"expected a {' or '.join(schemes)} URL with a host")
        return url

    return validate


#: Query parameters that carry secrets in some cameras' URLs (``?user=admin&pwd=...``).
_SECRET_QUERY_KEYS = ("pass", "pwd", "token", "key", "auth", "sig")


def redact_url(url: str) -> str:
    """The URL without user name, password or secret-looking query values: fit for logs."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query = "&".join(
        f"{key}=***" if any(word in key.lower() for word in _SECRET_QUERY_KEYS) else pair
        for pair in parts.query.split("&")
        for key in [pair.partition("=")[0]]
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def url_with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL FFmpeg is given: credentials from the options replace any already in it."""
    if username is None:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    userinfo = f"{quote(username, safe='')}:{quote(password or '', safe='')}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


_TIMEOUT = vol.All(vol.Coerce(float), vol.Range(min=0.1, max=600))

_BASE_OPTIONS: dict[Any, Any] = {
    vol.Optional("open_timeout", default=10.0): _TIMEOUT,
    vol.Optional("read_timeout", default=5.0): _TIMEOUT,
    # Both or neither: a camera without a password is configured with `password: ""`.
    vol.Inclusive("username", "credentials"): str,
    vol.Inclusive("password", "credentials"): str,
    **DECODE_OPTIONS,
}


class NetworkSource(AvSource):
    """A camera reached by URL; subclasses set the accepted schemes and FFmpeg options."""

    NETWORK: ClassVar[bool] = True

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.url: str = options["url"]

    def describe(self) -> str:
        return f"{self.kind} {redact_url(self.url)}"

    def ffmpeg_options(self) -> dict[str, str]:
        """Demuxer and protocol options for ``av.open``."""
        return {}

    def open_spec(self) -> OpenSpec:
        return OpenSpec(
            target=url_with_credentials(
                self.url, self.options.get("username"), self.options.get("password")
            ),
            label=self.describe(),
            options=self.ffmpeg_options(),
            timeout=(self.options["open_timeout"], self.options["read_timeout"]),
            fast_decode=bool(self.options["fast_decode"]),
            network=True,
        )


class RtspSource(NetworkSource):
    """An RTSP camera; ``transport`` is the manual's Protocol setting (TCP by default)."""

    kind: ClassVar[str] = "rtsp"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {
            vol.Required("url"): _url_with_schemes("rtsp", "rtsps"),
            vol.Optional("transport", default="tcp"): vol.In(["tcp", "udp"]),
            **_BASE_OPTIONS,
        }
    )

    def ffmpeg_options(self) -> dict[str, str]:
        return {"rtsp_transport": self.options["transport"]}


class HttpSource(NetworkSource):
    """A camera (or server) streaming over HTTP: MPEG-TS, MJPEG, FLV... whatever FFmpeg probes."""

    kind: ClassVar[str] = "http"
    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {vol.Required("url"): _url_with_schemes("http", "https"), **_BASE_OPTIONS}
    )


@hookimpl
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register the `rtsp` and `http` sources."""
    register(RtspSource)
    register(HttpSource)
