"""The manual's image stitching (ch. 10): a device's sensors and output mode, as channels.

A ``stitching:`` entry names several sensors (sources) of one device, the stitcher and the
output mode; ``expand`` turns it into ordinary channel configs, so that the rest of the
runtime (streams, recording, detection, faces) treats them like any other channel:

- ``panorama``: one channel ``<id>``, the stitched picture;
- ``panorama_eptz``: ``<id>`` plus ``<id>-eptz1`` .. ``<id>-eptzN`` (N up to 10), each an
  ePTZ channel over the whole panorama (``camera_runtime/ptz``: its window pans, tilts and
  zooms, with presets, patrols and patterns), output at ``eptz_size``, starting at its
  configured window;
- ``original``: ``<id>-sensor1`` .. one channel per sensor, each its sensor's own picture;
- ``divided_panorama``: ``<id>-view1`` .. ``<id>-view4``, the panorama cut into four.

The manual's per-mode rules are checked here, each error naming its key path: privacy masks
only in ``original`` (manual 4.8), target cropping only in ``panorama`` (4.10), smart events
only in ``panorama`` (6.2), rotate only in ``original`` and mirror only in ``original`` or
``panorama`` (4.5.1, as the stages declare: ``ImageStage.STITCHING_MODES``), no best
stitching distance in ``original`` (ch. 10).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from ..ptz.settings import AREA_SCHEMA, SIZE_SCHEMA

MODES = ("panorama", "panorama_eptz", "original", "divided_panorama")
#: Manual ch. 10: "Ten channels are available" for ePTZ images.
MAX_EPTZ = 10
#: The source kind every panorama and view channel reads from (``source.py``).
STITCHED = "stitched"

#: A view's window of the stitched picture: top-left corner and size, 0..1 of the picture.
WINDOW_SCHEMA = AREA_SCHEMA

DEVICE_SCHEMA = vol.Schema(
    {
        vol.Required("id"): vol.All(str, vol.Match(r"^[a-z0-9][a-z0-9_-]{0,20}$")),
        vol.Optional("name"): vol.All(str, vol.Length(min=1, max=64)),
        vol.Required("sensors"): vol.All(
            [vol.Schema({vol.Required("type"): str}, extra=vol.ALLOW_EXTRA)],
            vol.Length(min=2, max=8, msg="a stitched device has 2 to 8 sensors"),
        ),
        vol.Optional("stitcher", default={"type": "homography"}): vol.Schema(
            {vol.Required("type"): str}, extra=vol.ALLOW_EXTRA
        ),
        vol.Optional("output_mode", default="panorama"): vol.In(
            MODES, msg=f"output mode must be one of {', '.join(MODES)}"
        ),
        # Manual ch. 10, in metres; not in the original mode.
        vol.Optional("best_stitching_distance"): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=100)
        ),
        vol.Optional("eptz_channels", default=4): vol.All(
            int, vol.Range(min=1, max=MAX_EPTZ, msg=f"at most {MAX_EPTZ} ePTZ channels")
        ),
        # Where each ePTZ channel's window starts, in order; those not given side by side.
        vol.Optional("eptz_windows", default=[]): [WINDOW_SCHEMA],
        # The size of every ePTZ channel's picture (the window keeps its shape).
        vol.Optional("eptz_size", default=[1280, 720]): SIZE_SCHEMA,
        # Per output channel: its name, detectors, image stages, streams, cropping, recording.
        vol.Optional("channels", default={}): {str: vol.Any(None, dict)},
    }
)

#: Channel keys an output channel may set in ``channels.<id>`` (the rest is generated).
OWN_KEYS = (
    "name",
    "enabled",
    "detect",
    "detectors",
    "image",
    "streams",
    "target_cropping",
    "record",
    "ptz",
)


def output_channels(device: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(channel id, source config)`` of each channel the device's output mode makes (an
    ePTZ channel reads the whole panorama: its window is its ``ptz``, ``eptz_ptz``)."""
    ident, mode = device["id"], device["output_mode"]
    spec = {k: v for k, v in device.items() if k not in ("channels", "name")}

    def view(window: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": STITCHED, "device": spec, "window": dict(window)}

    if mode == "original":
        return [(f"{ident}-sensor{i + 1}", dict(s)) for i, s in enumerate(device["sensors"])]
    if mode == "divided_panorama":
        return [
            (f"{ident}-view{i + 1}", view({"x": i / 4, "y": 0.0, "w": 0.25, "h": 1.0}))
            for i in range(4)
        ]
    made = [(ident, {"type": STITCHED, "device": spec, "window": None})]
    if mode == "panorama_eptz":
        count = device["eptz_channels"]
        windows = list(device["eptz_windows"])
        for i in range(len(windows), count):
            windows.append({"x": i / count, "y": 0.0, "w": 1 / count, "h": 1.0})
        made += [(f"{ident}-eptz{i + 1}", made[0][1]) for i in range(count)]
    return made


def eptz_ptz(device: Mapping[str, Any], index: int, own: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ptz`` block of ePTZ channel ``index`` (0-based): always on, at the device's
    ``eptz_size``, starting at its configured window; the user's ``max_zoom`` kept."""
    count = device["eptz_channels"]
    windows = list(device["eptz_windows"])
    start = (
        windows[index]
        if index < len(windows)
        else {"x": index / count, "y": 0.0, "w": 1 / count, "h": 1.0}
    )
    given = own.get("ptz")
    return {
        **(
            {"max_zoom": given["max_zoom"]}
            if isinstance(given, Mapping) and "max_zoom" in given
            else {}
        ),
        "enabled": True,
        "size": list(device["eptz_size"]),
        "start": dict(start),
    }


def expand(
    device: Mapping[str, Any],
    base: list[Any],
    errors: list[str],
    fmt: Callable[[list[Any]], str],
    smart: Callable[[str], bool],
    privacy: Callable[[str], bool],
    stage_modes: Callable[[str], tuple[str, ...] | None] = lambda kind: None,
) -> list[tuple[list[Any], dict[str, Any]]]:
    """The channel configs (each with the key path its errors belong to) of one validated
    device; the mode's rules that break add errors to ``errors``. ``smart`` says whether a
    detector kind is a smart event, ``privacy`` whether an image stage kind is a privacy mask
    (as the plugins declare: ``Detector.SMART``, ``ImageStage.PRIVACY``), ``stage_modes`` the
    output modes an image stage kind is limited to (``ImageStage.STITCHING_MODES``)."""
    mode = device["output_mode"]
    if mode == "original" and "best_stitching_distance" in device:
        errors.append(
            f"{fmt([*base, 'best_stitching_distance'])}: not supported in the original "
            "output mode (the sensors are not stitched)"
        )
    if mode == "panorama_eptz" and len(device["eptz_windows"]) > device["eptz_channels"]:
        errors.append(
            f"{fmt([*base, 'eptz_windows'])}: {len(device['eptz_windows'])} windows for "
            f"{device['eptz_channels']} ePTZ channels"
        )
    made = output_channels(device)
    ids = [ident for ident, _ in made]
    for key in device["channels"]:
        if key not in ids:
            errors.append(
                f"{fmt([*base, 'channels', key])}: not a channel of the {mode} output mode "
                f"(its channels: {', '.join(ids)})"
            )
    result = []
    for index, (ident, source) in enumerate(made):
        path = [*base, "channels", ident]
        own = dict(device["channels"].get(ident) or {})
        for key in sorted(set(own) - set(OWN_KEYS)):
            errors.append(f"{fmt([*path, key])}: unknown option (the output mode sets it)")
            own.pop(key)
        _rules(mode, own, path, errors, fmt, smart, privacy, stage_modes)
        if ident.startswith(f"{device['id']}-eptz"):
            given = own.get("ptz")
            for key in sorted(set(given) - {"max_zoom"} if isinstance(given, Mapping) else ()):
                errors.append(
                    f"{fmt([*path, 'ptz', key])}: set by the output mode (an ePTZ channel's "
                    "ePTZ is always on, at eptz_size, starting at its eptz_windows entry)"
                )
            own["ptz"] = eptz_ptz(device, index - 1, own)
        name = device.get("name", device["id"])
        if "name" not in own:
            own["name"] = name if len(made) == 1 else f"{name} {index + 1}"
        result.append((path, {**own, "id": ident, "source": source}))
    return result


def _rules(
    mode: str,
    own: Mapping[str, Any],
    path: list[Any],
    errors: list[str],
    fmt: Callable[[list[Any]], str],
    smart: Callable[[str], bool],
    privacy: Callable[[str], bool],
    stage_modes: Callable[[str], tuple[str, ...] | None],
) -> None:
    # (key, the kinds it holds that the rule covers, the one mode allowing them, the rule)
    rules = (
        ("image", privacy, "original", "privacy masks", "4.8"),
        ("detectors", smart, "panorama", "smart events", "6.2"),
    )
    for key, covered, allowed, what, section in rules:
        given = own.get(key) or {}
        if mode == allowed or not isinstance(given, Mapping):
            continue
        for kind in given:
            if covered(str(kind)):
                errors.append(
                    f"{fmt([*path, key, kind])}: {what} are supported only in the {allowed} "
                    f"output mode (manual {section})"
                )
    cropping = own.get("target_cropping") or {}
    if mode != "panorama" and isinstance(cropping, Mapping) and cropping.get("enabled"):
        errors.append(
            f"{fmt([*path, 'target_cropping'])}: target cropping is supported only in the "
            "panorama output mode (manual 4.10)"
        )
    # Image stages the manual limits to some output modes (4.5.1: rotate, mirror).
    given = own.get("image") or {}
    if not isinstance(given, Mapping):
        return
    for kind in given:
        modes = stage_modes(str(kind))
        if modes is not None and mode not in modes:
            errors.append(
                f"{fmt([*path, 'image', kind])}: {kind} is supported only in the "
                f"{' or '.join(modes)} output mode (manual 4.5.1)"
            )
