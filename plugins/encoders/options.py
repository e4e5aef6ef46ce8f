"""The options of a video stream (manual 4.1 "Video"): their schema, and how each maps onto FFmpeg's encoders.

Names and ranges follow the manual: video encoding (H.264, H.265, MJPEG), resolution, frame
rate, bitrate type (constant / variable), max. bitrate (32-16384 Kbps), video quality (six
levels, variable bitrate only), I-frame interval (1-400), profile and smoothing. One setting
is not the manual's: the x264/x265 ``preset`` (speed against compression). Every stream is
live, so the encoders always run with ``tune=zerolatency`` (no B-frames, no look-ahead: a
packet leaves as soon as its picture is encoded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import voluptuous as vol

#: The manual's video encodings, by the name the config uses: (FFmpeg encoder, codec name).
VIDEO_ENCODINGS: dict[str, tuple[str, str]] = {
    "h264": ("libx264", "h264"),
    "h265": ("libx265", "hevc"),
    "mjpeg": ("mjpeg", "mjpeg"),
}
#: How the manual writes them; accepted too.
_SPELLINGS = {"h.264": "h264", "h.265": "h265", "hevc": "h265", "avc": "h264"}
#: The manual's video quality levels, lowest first.
VIDEO_QUALITIES = ("lowest", "lower", "low", "medium", "higher", "highest")
#: Variable bitrate: the constant rate factor of x264 per quality level (lower is better;
#: 23 is x264's own default; about 6 steps double the bitrate).
X264_CRF = {"lowest": 35, "lower": 31, "low": 27, "medium": 23, "higher": 20, "highest": 17}
#: x265's scale sits about 5 above x264's for a like picture (its default is 28).
X265_CRF = {level: crf + 5 for level, crf in X264_CRF.items()}
#: MJPEG's quantiser scale per level (2 best .. 31 worst; 2-5 is what a camera calls "high").
MJPEG_QSCALE = {"lowest": 20, "lower": 13, "low": 9, "medium": 6, "higher": 4, "highest": 2}
PROFILES = {"h264": ("baseline", "main", "high"), "h265": ("main",), "mjpeg": ()}
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")
#: The default preset: ``superfast`` keeps CABAC and 8x8 transforms, so the main and high
#: profiles mean something (``ultrafast`` drops both and always signals constrained
#: baseline), at about 0.7x ``veryfast``'s cost and 1.7x ``ultrafast``'s (bench/encode.py).
DEFAULT_PRESET = "superfast"
MIN_BITRATE, MAX_BITRATE = 32, 16384
MIN_FRAME_RATE, MAX_FRAME_RATE = 1 / 16, 120.0
#: Smoothing sets the rate control's buffer (VBV): 1 (the least smoothing, the best picture)
#: lets the bitrate swing over 2 s of the max. bitrate, 100 (the smoothest stream) over 0.5 s.
SMOOTHING_BUFFER = (2.0, 0.5)
#: The rate announced for an input whose rate is unknown (the timestamps stay true) when no
#: ``frame_rate`` is set.
NOMINAL_FPS = 25.0
#: Every stream counts in 1/90000 s (MPEG-TS's and RTP's clock): pictures skipped or
#: decimated keep their true times.
TIME_BASE = Fraction(1, 90000)


def available_encodings() -> list[str]:
    """The video encodings the installed PyAV's FFmpeg can make."""
    return [
        name for name, (encoder, _) in VIDEO_ENCODINGS.items() if encoder in av.codecs_available
    ]


def video_encoding(value: Any) -> str:
    """``h264``, ``h265`` or ``mjpeg`` (also as the manual writes them: ``H.264``...), if the
    installed FFmpeg has its encoder."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a video encoding name (h264, h265, mjpeg)")
    name = _SPELLINGS.get(value.strip().lower(), value.strip().lower())
    available = available_encodings()
    if name not in VIDEO_ENCODINGS:
        raise vol.Invalid(f"unknown video encoding {value!r}; available: {', '.join(available)}")
    encoder = VIDEO_ENCODINGS[name][0]
    if name not in available:
        raise vol.Invalid(
            f"video encoding {name} needs FFmpeg's {encoder} encoder, which the installed PyAV "
            f"{av.__version__} lacks; available: {', '.join(available)}"
        )
    return name


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected a whole number")
    return value


def _even(value: int) -> int:
    if value % 2:
        raise vol.Invalid(f"must be even (4:2:0 pictures): {value}")
    return value


SIDE = vol.All(_whole, vol.Range(min=16, max=8192), _even)


def _check(options: dict[str, Any]) -> dict[str, Any]:
    """What no single key can say: the profile must exist for the codec, and a resolution
    names both sides."""
    encoding = options["video_encoding"]
    profile = options.get("profile")
    if profile is not None and profile not in PROFILES[encoding]:
        allowed = ", ".join(PROFILES[encoding]) or "none (it has no profiles)"
        raise vol.Invalid(
            f"profile {profile} does not exist for {encoding}; allowed: {allowed}",
            path=["profile"],
        )
    if ("width" in options) != ("height" in options):
        missing = "height" if "width" in options else "width"
        raise vol.Invalid("a resolution needs both width and height", path=[missing])
    return options


ENCODER_SCHEMA = vol.Schema(
    vol.All(
        {
            vol.Optional("video_encoding", default="h264"): video_encoding,
            vol.Optional("width"): SIDE,
            vol.Optional("height"): SIDE,
            vol.Optional("frame_rate"): vol.All(
                vol.Coerce(float), vol.Range(min=MIN_FRAME_RATE, max=MAX_FRAME_RATE)
            ),
            vol.Optional("bitrate_type", default="vbr"): vol.All(_lower, vol.In(("cbr", "vbr"))),
            vol.Optional("max_bitrate", default=4096): vol.All(
                _whole, vol.Range(min=MIN_BITRATE, max=MAX_BITRATE)
            ),
            vol.Optional("video_quality", default="medium"): vol.All(
                _lower, vol.In(VIDEO_QUALITIES)
            ),
            vol.Optional("i_frame_interval", default=50): vol.All(
                _whole, vol.Range(min=1, max=400)
            ),
            vol.Optional("profile"): vol.All(_lower, vol.In(("baseline", "main", "high"))),
            vol.Optional("smoothing", default=50): vol.All(_whole, vol.Range(min=1, max=100)),
            vol.Optional("preset", default=DEFAULT_PRESET): vol.All(_lower, vol.In(PRESETS)),
        },
        _check,
    ),
    extra=vol.PREVENT_EXTRA,
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated options resolved against the input: what the FFmpeg encoder is opened with."""

    encoding: str
    encoder: str
    codec: str
    width: int
    height: int
    fps: float
    #: Seconds between encoded pictures when the input is decimated, else ``None``.
    interval: float | None
    codec_options: dict[str, str]
    bit_rate: int
    gop: int
    #: MJPEG's fixed quantiser (variable bitrate), else 0.
    qscale: int


def _buffer_bits(options: Mapping[str, Any]) -> int:
    most, least = SMOOTHING_BUFFER
    seconds: float = most + (least - most) * (int(options["smoothing"]) - 1) / 99
    return round(int(options["max_bitrate"]) * 1000 * seconds)


def _rate_options(options: Mapping[str, Any]) -> tuple[int, dict[str, str]]:
    """(average bit rate, FFmpeg options): constant bitrate holds the max. bitrate; variable
    bitrate encodes at the quality's CRF (MJPEG: quantiser), capped at the max. bitrate."""
    encoding = options["video_encoding"]
    kbps = options["max_bitrate"]
    rate = {"maxrate": str(kbps * 1000), "bufsize": str(_buffer_bits(options))}
    if encoding == "mjpeg":
        if options["bitrate_type"] == "cbr":
            return kbps * 1000, rate
        return 0, {}
    if options["bitrate_type"] == "cbr":
        return kbps * 1000, rate
    table = X264_CRF if encoding == "h264" else X265_CRF
    return 0, {**rate, "crf": str(table[options["video_quality"]])}


def resolve(options: Mapping[str, Any], width: int, height: int, fps: float) -> Settings:
    """Settings for pictures of ``width`` x ``height`` at ``fps``; ``vol.Invalid`` (naming the
    key) when the options ask for more than the input has."""
    encoding = options["video_encoding"]
    encoder, codec = VIDEO_ENCODINGS[encoding]
    out_w, out_h = options.get("width", width), options.get("height", height)
    if out_w > width or out_h > height:
        key = "width" if out_w > width else "height"
        raise vol.Invalid(
            f"resolution {out_w}x{out_h} is above the input's {width}x{height}: streams scale "
            "down, never up",
            path=[key],
        )
    if out_w % 2 or out_h % 2:
        raise vol.Invalid(
            f"the input's {width}x{height} is odd: set an even width and height",
            path=["width"],
        )
    known = fps > 0  # a source may not know its rate
    out_fps = float(options.get("frame_rate", fps if known else NOMINAL_FPS))
    if known and out_fps > fps + 1e-6:
        raise vol.Invalid(
            f"frame rate {out_fps:g} is above the input's {fps:g} fps", path=["frame_rate"]
        )
    decimate = "frame_rate" in options and (not known or out_fps < fps - 1e-6)
    interval = 1.0 / out_fps if decimate else None
    gop = options["i_frame_interval"]
    bit_rate, codec_options = _rate_options(options)
    if encoding in ("h264", "h265"):
        profile = options.get("profile", "main")
        codec_options |= {"preset": options["preset"], "tune": "zerolatency", "profile": profile}
        codec_options["forced-idr"] = "1"
        keys = f"keyint={gop}:min-keyint={gop}:scenecut=0"
        if encoding == "h264":
            # Parameter sets in band at every IDR too: a viewer can join a live stream there.
            codec_options["x264-params"] = f"{keys}:repeat-headers=1"
        else:
            codec_options["x265-params"] = f"{keys}:repeat-headers=1:log-level=error"
    variable = options["bitrate_type"] == "vbr"
    qscale = MJPEG_QSCALE[options["video_quality"]] if encoding == "mjpeg" and variable else 0
    return Settings(
        encoding=encoding,
        encoder=encoder,
        codec=codec,
        width=out_w,
        height=out_h,
        fps=out_fps,
        interval=interval,
        codec_options=codec_options,
        bit_rate=bit_rate,
        gop=gop,
        qscale=qscale,
    )
