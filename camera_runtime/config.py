"""The YAML configuration: voluptuous schemas (the core's, each face's section, each plugin's
own), load, validate, dump.

Validation is two-pass: the core schema, extended with the sections of the faces the host
composes (``api``, ``zeroconf``, ``mqtt``: ``ConfigSection``), checks the shape; then each
``source``, each detector and each image stage is checked by the schema of the plugin its ``type`` (or key)
names. Every error is reported with its key path, e.g. ``channels[1].detectors.motion.
sensitivity: value must be at most 100``, and a config with any error starts nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from .capture_plan import CAPTURE_SCHEMA, capture_as_data
from .config_yaml import (
    bool_words_as_numbers,
    explain_words,
    format_path,
    read_yaml_file,
    yaml_surprises,
)
from .display_info import DISPLAY_INFO_SCHEMA
from .exceptions import ConfigError, PluginError
from .linkage.rules import validate_linkage
from .ptz.settings import PTZ_SCHEMA
from .recording.settings import RECORD_SCHEMA
from .registry import PluginRegistry
from .schedule import ARMING_SCHEDULE, ArmingSchedule
from .stitching import modes as stitching_modes
from .uploads.settings import UPLOADS_SCHEMA
from .validators import resolution

CHANNEL_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
CHANNEL_ID = vol.All(
    str,
    vol.Match(
        CHANNEL_ID_PATTERN, msg="channel id must be 1-32 lowercase letters, digits, '-' or '_'"
    ),
)
NAME = vol.All(str, vol.Length(min=1, max=64))
PORT = vol.All(int, vol.Range(min=1, max=65535))

#: A channel's stream roles: the main stream, the sub-stream, the third stream (manual 4.1).
STREAM_ROLES = ("main", "sub", "third")


_UNIT = vol.All(vol.Coerce(float), vol.Range(min=0, max=1))
#: Manual 4.10 "Target Cropping": the third stream shows a window of the picture (the red
#: frame of the live view) at a cropping resolution, placed at ``x``, ``y`` (its top-left
#: corner, 0..1 of the picture); the third stream's own resolution then cannot be set.
TARGET_CROPPING_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("stream_type", default="third"): vol.In(["third"]),
        vol.Optional("resolution", default="640x480"): resolution,
        vol.Optional("x", default=0.0): _UNIT,
        vol.Optional("y", default=0.0): _UNIT,
    }
)

SOURCE_SCHEMA = vol.Schema({vol.Required("type"): str}, extra=vol.ALLOW_EXTRA)

DETECTOR_CORE_KEYS = {"enabled", "arming_schedule"}
DETECTOR_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=True): bool,
        vol.Optional("arming_schedule", default="always"): ARMING_SCHEDULE,
    },
    extra=vol.ALLOW_EXTRA,
)

STAGE_CORE_KEYS = {"enabled"}
STAGE_SCHEMA = vol.Schema(
    {vol.Optional("enabled", default=True): bool},
    extra=vol.ALLOW_EXTRA,
)

DETECT_SCHEMA = vol.Schema(
    {
        # Detectors see the luma plane at this width (height keeps the aspect ratio).
        vol.Optional("width", default=320): vol.All(int, vol.Range(min=64, max=1920)),
        vol.Optional("fps", default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=60)),
        # The picture detectors run in the detection process (``detection_process.py``), one
        # shared by the channels of a process: cheaper with many channels in one process.
        vol.Optional("process", default=False): bool,
    }
)

#: A channel's keys, each checked on its own (``_channel``) so one bad key hides no other.
CHANNEL_KEYS: dict[str, Any] = {
    "id": CHANNEL_ID,
    "name": NAME,
    "enabled": bool,
    "source": SOURCE_SCHEMA,
    # The camera's sub-stream: decoded for detection and live view, while the main stream
    # (``source``) is only demultiplexed and passed on (Frigate's "roles").
    "substream": SOURCE_SCHEMA,
    "detect": DETECT_SCHEMA,
    # Each detector's core keys and options are checked on their own too.
    "detectors": vol.Schema({str: vol.Any(None, dict)}),
    # Image stages by kind, each checked like a detector: ``enabled`` and its plugin's options.
    "image": vol.Schema({str: vol.Any(None, dict)}),
    # The streams a channel encodes from its pictures, by role; each entry's `type` names the
    # encoder plugin (default: the installed default encoder), the rest are its options.
    "streams": vol.Schema({str: vol.Any(None, dict)}),
    "target_cropping": TARGET_CROPPING_SCHEMA,
    # Manual 5.2.1: what is recorded and kept (``recording/settings.py``).
    "record": RECORD_SCHEMA,
    # ePTZ: a window panned, tilted and zoomed over the picture (``ptz/settings.py``).
    "ptz": PTZ_SCHEMA,
    # Manual 5.3.1: pictures captured by timing and on events (``capture_plan.py``).
    "capture": CAPTURE_SCHEMA,
    # Manual 4.2: detection boxes drawn on what users see (``display_info.py``).
    "display_info": DISPLAY_INFO_SCHEMA,
}
CHANNEL_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "detect": DETECT_SCHEMA({}),
    "detectors": {},
    "image": {},
    "streams": {},
    "target_cropping": TARGET_CROPPING_SCHEMA({}),
    "record": RECORD_SCHEMA({}),
    "ptz": PTZ_SCHEMA({}),
    "capture": CAPTURE_SCHEMA({}),
    "display_info": DISPLAY_INFO_SCHEMA({}),
}

CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("device", default={}): {
            # Manual 9.1: device name and number, shown in the device information.
            vol.Optional("name", default="camera-runtime"): NAME,
            vol.Optional("device_no", default=88): vol.All(int, vol.Range(min=0, max=255)),
        },
        vol.Optional("data_dir"): str,
        # Retention of captured pictures (the manual's "expired time" and "quota").
        vol.Optional("captures", default={}): {
            # Days a picture is kept; 0: until the quota needs the room.
            vol.Optional("expired_time_days", default=30): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=3650)
            ),
            # Most the capture folder holds, in MB; the oldest go first. 0: no quota.
            vol.Optional("quota_mb", default=1024): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=10_000_000)
            ),
        },
        # Recorded segments of every channel (``recording/``): the oldest are overwritten past
        # these, whatever their channel (0: no limit).
        vol.Optional("recordings", default={}): {
            vol.Optional("quota_mb", default=0.0): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=100_000_000)
            ),
            vol.Optional("min_free_mb", default=0.0): vol.All(
                vol.Coerce(float), vol.Range(min=0, max=100_000_000)
            ),
            # Manual 5.2.1 "Overwrite": off, recording stops at the limits (or a full disk)
            # with the storage-full exception instead of deleting the oldest.
            vol.Optional("overwrite", default=True): bool,
        },
        # Channels in worker processes (``workers/``): one Python process runs out of GIL
        # past about 32 cameras; 0 runs every channel in the runtime's process.
        vol.Optional("workers", default={}): {
            vol.Optional("channels_per_process", default=0): vol.All(int, vol.Range(min=0, max=64)),
        },
        # Picture upload targets (FTP, NAS) and their queue: ``uploads/``.
        vol.Optional("uploads", default={}): UPLOADS_SCHEMA,
        vol.Optional("security", default={}): {
            # Manual 2.3.3 "Illegal Login Lock".
            vol.Optional("illegal_login_lock", default={}): {
                vol.Optional("enabled", default=True): bool,
                vol.Optional("attempts", default=5): vol.All(int, vol.Range(min=3, max=20)),
                vol.Optional("duration", default=30): vol.All(int, vol.Range(min=1, max=120)),
            },
            # Manual 9.14.7 "Control Timeout Settings", in minutes of no operation.
            vol.Optional("session_timeout", default=15): vol.All(int, vol.Range(min=1, max=60)),
        },
        vol.Optional("plugins", default={}): {vol.Optional("disabled", default=[]): [str]},
        # Each channel is checked on its own (validate_config), so that every channel's errors
        # are reported, not only the first channel's: voluptuous stops a list at its first error.
        vol.Optional("channels", default=[]): list,
        # Checked after the channels (``linkage/rules.py``): rules name channels and resources.
        vol.Optional("linkage", default={}): vol.Any(None, dict),
        # Multi-sensor devices and their output modes (manual ch. 10; ``stitching/modes.py``):
        # each adds its output channels, checked like ``channels`` under its own key path.
        vol.Optional("stitching", default=[]): list,
    }
)


@dataclass(frozen=True)
class ConfigSection:
    """A top-level key owned by a face the host composes (``api``, ``zeroconf``, ``mqtt``).

    With ``default`` the section is filled with its schema's defaults when the file leaves it
    out (the API runs unless switched off); without, a missing section means the face is off
    (no ``mqtt:``, no MQTT).
    """

    key: str
    schema: Any
    default: bool
    summary: str


@dataclass(frozen=True)
class DetectorConfig:
    kind: str
    enabled: bool
    arming_schedule: ArmingSchedule
    options: Mapping[str, Any]


@dataclass(frozen=True)
class StreamConfig:
    """A stream the channel encodes from its pictures: the encoder plugin and its options."""

    kind: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class StageConfig:
    """One image stage of a channel: on or off, and its (validated) options."""

    kind: str
    enabled: bool
    options: Mapping[str, Any]


@dataclass(frozen=True)
class ChannelConfig:
    id: str
    name: str
    enabled: bool
    source_type: str
    source_options: Mapping[str, Any]
    detect_width: int
    detect_fps: float
    detectors: Mapping[str, DetectorConfig]
    #: ``detect.process``: the picture detectors run in the detection process.
    detect_process: bool = False
    substream_type: str | None = None
    substream_options: Mapping[str, Any] | None = None
    image: Mapping[str, StageConfig] = field(default_factory=dict)
    streams: Mapping[str, StreamConfig] = field(default_factory=dict)
    #: Manual 4.10, validated (``TARGET_CROPPING_SCHEMA``); off by default.
    target_cropping: Mapping[str, Any] = field(default_factory=lambda: TARGET_CROPPING_SCHEMA({}))
    #: Manual 5.2.1, validated (``RECORD_SCHEMA``); off by default.
    record: Mapping[str, Any] = field(default_factory=lambda: RECORD_SCHEMA({}))
    #: ePTZ, validated (``PTZ_SCHEMA``); off by default.
    ptz: Mapping[str, Any] = field(default_factory=lambda: PTZ_SCHEMA({}))
    capture: Mapping[str, Any] = field(default_factory=lambda: CAPTURE_SCHEMA({}))
    #: Manual 4.2, validated (``DISPLAY_INFO_SCHEMA``); off by default.
    display_info: Mapping[str, Any] = field(default_factory=lambda: DISPLAY_INFO_SCHEMA({}))


@dataclass(frozen=True)
class RuntimeConfig:
    """A validated configuration; ``raw`` is the validated mapping (defaults filled in)."""

    raw: Mapping[str, Any]
    channels: tuple[ChannelConfig, ...] = field(default=())

    @property
    def device(self) -> Mapping[str, Any]:
        return self.raw["device"]  # type: ignore[no-any-return]

    @property
    def captures(self) -> Mapping[str, Any]:
        return self.raw["captures"]  # type: ignore[no-any-return]

    @property
    def recordings(self) -> Mapping[str, Any]:
        return self.raw["recordings"]  # type: ignore[no-any-return]

    @property
    def uploads(self) -> Mapping[str, Any]:
        return self.raw["uploads"]  # type: ignore[no-any-return]

    @property
    def linkage(self) -> Mapping[str, Any]:
        """The validated ``linkage`` section (``linkage/rules.py``)."""
        return self.raw.get("linkage") or {"resources": [], "rules": [], "retry": {}}

    @property
    def workers(self) -> Mapping[str, Any]:
        """The validated ``workers`` section (``workers/pool.py``)."""
        return self.raw["workers"]  # type: ignore[no-any-return]

    @property
    def security(self) -> Mapping[str, Any]:
        return self.raw["security"]  # type: ignore[no-any-return]

    def section(self, key: str) -> Mapping[str, Any] | None:
        """A face's validated section (``None`` when absent and without defaults)."""
        return self.raw.get(key)

    @property
    def disabled_plugins(self) -> list[str]:
        return list(self.raw["plugins"]["disabled"])

    def channel(self, channel_id: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(channel_id)

    def dump(self) -> dict[str, Any]:
        """The config as plain data (schedules as text), e.g. for ``GET /api/config``."""
        return _plain(self.raw)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, ArmingSchedule):
        return value.as_config()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _errors(err: vol.Invalid, prefix: list[Any]) -> list[str]:
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    lines = []
    for e in errors:
        message = e.msg
        if message == "extra keys not allowed":
            message = "unknown option"
        lines.append(f"{format_path(prefix + list(e.path))}: {message}")
    return lines


def plugin_options(
    registry: PluginRegistry, point: str, kind: str, options: Mapping[str, Any], path: list[Any]
) -> tuple[dict[str, Any] | None, list[str]]:
    """A plugin's options checked by its own schema: ``(options, [])``, or ``(None, errors)``
    with each error's place under ``path`` (the config file's and a run-time change's alike)."""
    try:
        cls = registry.get(point, kind)
    except PluginError as err:
        return None, [f"{format_path(path)}: {err.message}"]
    try:
        return dict(cls.CONFIG_SCHEMA(dict(options))), []
    except vol.Invalid as err:
        return None, _errors(err, path)


def _part(schema: Any, value: Any, path: list[Any], errors: list[str]) -> Any:
    """``value`` checked by ``schema`` (``None`` with its errors added when it fails)."""
    try:
        return vol.Schema(schema)(value)
    except vol.Invalid as err:
        errors += _errors(err, path)
        return None


def checked(schema: Any, value: Any, path: list[Any], what: str) -> Any:
    """``value`` checked by ``schema``, or ``ConfigError`` ("invalid ``what``") naming each
    bad key under ``path``: a run-time command's payload checked like the config file."""
    errors: list[str] = []
    result = _part(schema, value, path, errors)
    if errors:
        raise ConfigError(f"invalid {what}", errors)
    return result


def _channel(
    given: Any, base: list[Any], registry: PluginRegistry, seen: set[str], errors: list[str]
) -> ChannelConfig | None:
    """One channel, every part checked on its own (id, source and its plugin's options,
    detect, each detector's core keys and its plugin's options), so one bad part hides no
    other error; ``None`` when any failed."""
    before = len(errors)
    if not isinstance(given, Mapping):
        errors.append(f"{format_path(base)}: expected a mapping")
        return None
    for key in sorted(set(given) - set(CHANNEL_KEYS), key=str):
        errors.append(f"{format_path([*base, key])}: unknown option")
    ch: dict[str, Any] = {}
    for key, schema in CHANNEL_KEYS.items():
        if key not in given:
            if key in CHANNEL_DEFAULTS:
                ch[key] = copy.deepcopy(CHANNEL_DEFAULTS[key])
            elif key in ("id", "source"):
                errors.append(f"{format_path([*base, key])}: required key not provided")
            continue
        ch[key] = _part(schema, given[key], [*base, key], errors)
    if isinstance(ch.get("id"), str):
        if ch["id"] in seen:
            errors.append(f"{format_path([*base, 'id'])}: duplicate channel id {ch['id']!r}")
        seen.add(ch["id"])
    source_options = substream_options = None
    for key in ("source", "substream"):
        if ch.get(key) is not None:
            given_options = {k: v for k, v in ch[key].items() if k != "type"}
            options, errs = plugin_options(
                registry, "source", ch[key]["type"], given_options, [*base, key]
            )
            errors += errs
            if key == "source":
                source_options = options
            else:
                substream_options = options
    if source_options is not None and substream_options is not None:
        main = registry.get("source", ch["source"]["type"])
        if not getattr(main, "PACKETS", False):
            errors.append(
                f"{format_path([*base, 'source'])}: with a substream, the main stream is "
                f"passed on undecoded, but a {ch['source']['type']} source makes pictures, "
                "not an encoded stream"
            )
    detectors: dict[str, DetectorConfig] = {}
    for kind, det in (ch.get("detectors") or {}).items():
        path = [*base, "detectors", kind]
        core = _part(DETECTOR_SCHEMA, det or {}, path, errors)
        own = {k: v for k, v in (det or {}).items() if k not in DETECTOR_CORE_KEYS}
        options, errs = plugin_options(registry, "detector", kind, own, path)
        errors += errs
        if core is not None and options is not None:
            detectors[kind] = DetectorConfig(
                kind, core["enabled"], core["arming_schedule"], options
            )
    image: dict[str, StageConfig] = {}
    for kind, stage in (ch.get("image") or {}).items():
        path = [*base, "image", kind]
        core = _part(STAGE_SCHEMA, stage or {}, path, errors)
        own = {k: v for k, v in (stage or {}).items() if k not in STAGE_CORE_KEYS}
        options, errs = plugin_options(registry, "image_stage", kind, own, path)
        errors += errs
        if core is not None and options is not None:
            image[kind] = StageConfig(kind, core["enabled"], options)
    streams: dict[str, StreamConfig] = {}
    for role, spec in (ch.get("streams") or {}).items():
        path = [*base, "streams", role]
        if role not in STREAM_ROLES:
            errors.append(f"{format_path(path)}: unknown stream: {', '.join(STREAM_ROLES)}")
            continue
        own = {k: v for k, v in (spec or {}).items() if k != "type"}
        kind = (spec or {}).get("type")
        if kind is None:
            try:
                kind = registry.default_encoder().kind
            except PluginError as err:
                errors.append(f"{format_path(path)}: {err.message}")
                continue
        options, errs = plugin_options(registry, "encoder", str(kind), own, path)
        errors += errs
        if options is not None:
            streams[role] = StreamConfig(str(kind), options)
    record = ch.get("record")
    if record is not None and record["stream"] == "sub" and not ch.get("substream"):
        errors.append(f"{format_path([*base, 'record', 'stream'])}: the channel has no substream")
    if len(errors) > before:
        return None
    assert source_options is not None
    return ChannelConfig(
        id=ch["id"],
        name=ch.get("name") or ch["id"],
        enabled=ch["enabled"],
        source_type=ch["source"]["type"],
        source_options=source_options,
        detect_width=ch["detect"]["width"],
        detect_fps=ch["detect"]["fps"],
        detect_process=ch["detect"]["process"],
        detectors=detectors,
        substream_type=ch["substream"]["type"] if ch.get("substream") else None,
        substream_options=substream_options,
        image=image,
        streams=streams,
        target_cropping=ch["target_cropping"],
        record=ch["record"],
        ptz=ch["ptz"],
        capture=ch["capture"],
        display_info=ch["display_info"],
    )


def _as_data(channel: ChannelConfig) -> dict[str, Any]:
    """A valid channel as config data, defaults filled in (what ``dump`` shows)."""
    return {
        "id": channel.id,
        "name": channel.name,
        "enabled": channel.enabled,
        "source": {"type": channel.source_type, **channel.source_options},
        **(
            {"substream": {"type": channel.substream_type, **(channel.substream_options or {})}}
            if channel.substream_type
            else {}
        ),
        "detect": {
            "width": channel.detect_width,
            "fps": channel.detect_fps,
            "process": channel.detect_process,
        },
        "detectors": {
            kind: {
                "enabled": d.enabled,
                "arming_schedule": d.arming_schedule,
                **d.options,
            }
            for kind, d in channel.detectors.items()
        },
        "image": {
            kind: {"enabled": st.enabled, **st.options} for kind, st in channel.image.items()
        },
        "streams": {role: {"type": st.kind, **st.options} for role, st in channel.streams.items()},
        "target_cropping": cropping_as_data(channel.target_cropping),
        "record": dict(channel.record),
        "ptz": dict(channel.ptz),
        "capture": capture_as_data(channel.capture),
        "display_info": dict(channel.display_info),
    }


def cropping_as_data(cropping: Mapping[str, Any]) -> dict[str, Any]:
    """Validated target cropping as config data: the resolution written ``WxH`` again."""
    return {**cropping, "resolution": "{}x{}".format(*cropping["resolution"])}


def changed_cropping(cropping: Mapping[str, Any], changes: Any, path: list[Any]) -> dict[str, Any]:
    """``cropping`` (validated) with ``changes`` (some of its keys) over it, checked by
    ``TARGET_CROPPING_SCHEMA`` as the config file is: a run-time change is refused exactly as
    a bad file would be, ``ConfigError`` naming each key under ``path``."""
    if not isinstance(changes, Mapping):
        raise ConfigError("invalid target cropping", [f"{format_path(path)}: expected a mapping"])
    errors: list[str] = []
    checked = _part(TARGET_CROPPING_SCHEMA, {**cropping_as_data(cropping), **changes}, path, errors)
    if errors:
        raise ConfigError(f"invalid target cropping ({len(errors)} errors)", errors)
    return dict(checked)


def config_schema(sections: Iterable[ConfigSection] = ()) -> vol.Schema:
    """The top-level schema: the core's keys plus the sections of the composed faces."""
    extra: dict[Any, Any] = {}
    for section in sections:
        key = (
            vol.Optional(section.key, default={}) if section.default else vol.Optional(section.key)
        )
        extra[key] = section.schema
    return CONFIG_SCHEMA.extend(extra)


def validate_config(
    data: Any, registry: PluginRegistry, sections: Iterable[ConfigSection] = ()
) -> RuntimeConfig:
    """Check ``data`` against the core schema, the faces' ``sections`` and every plugin's
    schema; raise ``ConfigError`` listing every problem, or return the validated config."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("the configuration must be a mapping", ["<top>: expected a mapping"])
    sections = tuple(sections)
    errors: list[str] = []
    words = yaml_surprises(data, errors)
    raw, channels, found = _validate(data, registry, sections)
    errors += found
    errors += bool_words_as_numbers(
        data, words, found, lambda probe: _validate(probe, registry, sections)[2]
    )
    if errors:
        errors = explain_words(errors, words)
        raise ConfigError(f"invalid configuration ({len(errors)} errors)", errors)
    return RuntimeConfig(raw=raw, channels=tuple(channels))


def _validate(
    data: Mapping[str, Any], registry: PluginRegistry, sections: tuple[ConfigSection, ...]
) -> tuple[dict[str, Any], list[ChannelConfig], list[str]]:
    errors: list[str] = []
    try:
        raw = config_schema(sections)(dict(data))
    except vol.Invalid as err:
        errors += _errors(err, [])
        # Go on with the channels anyway, so one run reports everything.
        given = data.get("channels")
        raw = {"channels": list(given) if isinstance(given, list) else []}
    raw["channels"] = list(raw["channels"])  # filled below: never the caller's list
    channels: list[ChannelConfig] = []
    seen: set[str] = set()
    for index, given in enumerate(raw["channels"]):
        channel = _channel(given, ["channels", index], registry, seen, errors)
        if channel is not None:
            channels.append(channel)
            raw["channels"][index] = _as_data(channel)
    for path, given in _stitched(raw.get("stitching") or [], registry, errors):
        channel = _channel(given, path, registry, seen, errors)
        if channel is not None:
            channels.append(channel)
    raw["linkage"], found = _linkage(data.get("linkage"), [c.id for c in channels], registry)
    errors += found
    return raw, channels, errors


def _linkage(
    data: Any, channels: list[str], registry: PluginRegistry
) -> tuple[dict[str, Any], list[str]]:
    """The ``linkage`` section: resources checked by their action plugin's schema, rules by
    the document's constraints."""

    def kinds(kind: str) -> tuple[tuple[str, ...], bool] | None:
        try:
            cls = registry.get("action", kind)
        except PluginError:
            return None
        return tuple(getattr(cls, "ACTIONS", ())), bool(getattr(cls, "CAMERA", False))

    def options(
        kind: str, given: Mapping[str, Any], path: list[Any]
    ) -> tuple[dict[str, Any] | None, list[str]]:
        return plugin_options(registry, "action", kind, given, path)

    return validate_linkage(data, channels, kinds, options)


def _stitched(
    devices: list[Any], registry: PluginRegistry, errors: list[str]
) -> list[tuple[list[Any], dict[str, Any]]]:
    """The output channels of every ``stitching`` device (sensors and stitcher checked by
    their plugins' schemas), each with the key path its errors belong to."""

    def declares(point: str, flag: str) -> Any:
        def check(kind: str) -> bool:
            try:
                return bool(getattr(registry.get(point, kind), flag, False))
            except PluginError:
                return False

        return check

    def stage_modes(kind: str) -> tuple[str, ...] | None:
        try:
            return getattr(registry.get("image_stage", kind), "STITCHING_MODES", None)
        except PluginError:
            return None

    made: list[tuple[list[Any], dict[str, Any]]] = []
    for index, given in enumerate(devices):
        base: list[Any] = ["stitching", index]
        before = len(errors)
        device = _part(stitching_modes.DEVICE_SCHEMA, given, base, errors)
        if device is None:
            continue
        sensors = []
        for i, sensor in enumerate(device["sensors"]):
            own = {k: v for k, v in sensor.items() if k != "type"}
            options, errs = plugin_options(
                registry, "source", sensor["type"], own, [*base, "sensors", i]
            )
            errors += errs
            sensors.append({"type": sensor["type"], **(options or {})})
        stitcher = {k: v for k, v in device["stitcher"].items() if k != "type"}
        if "best_stitching_distance" in device and device["output_mode"] != "original":
            stitcher["best_stitching_distance"] = device["best_stitching_distance"]
        options, errs = plugin_options(
            registry, "stitcher", device["stitcher"]["type"], stitcher, [*base, "stitcher"]
        )
        errors += errs
        device = {
            **device,
            "sensors": sensors,
            "stitcher": {"type": device["stitcher"]["type"], **(options or {})},
        }
        found = stitching_modes.expand(
            device,
            base,
            errors,
            format_path,
            declares("detector", "SMART"),
            declares("image_stage", "PRIVACY"),
            stage_modes,
        )
        if len(errors) == before:
            made += found
    return made


def load_config(
    path: str | Path, registry: PluginRegistry, sections: Iterable[ConfigSection] = ()
) -> RuntimeConfig:
    """Read and validate a YAML file; every failure is a ``ConfigError``."""
    return validate_config(read_yaml_file(path), registry, sections)
