"""What a plugin offers its users, declared as data: the event types it raises and the controls
it takes (switch, number, select, button).

Every face is generated from these declarations: the HTTP API lists them in a channel's status
and sets them through one route, MQTT publishes their states, takes their commands and
announces them to Home Assistant's MQTT discovery, the Home Assistant integration turns them
into entities, device triggers and event types, and the web page into form fields. So no face
names a detector, and a third-party plugin gets its entities by declaring them.

A number's range and a select's options are read from the plugin's own option schema
(``number("motion_sensitivity", "Motion sensitivity", "sensitivity", MOTION_SCHEMA)``), so the
control can never offer a value the schema would refuse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import voluptuous as vol

from .exceptions import ConfigError, PluginError
from .schedule import ArmingSchedule

#: Keys of event types and controls: they become MQTT topic levels and entity unique ids.
KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


class ControlKind(StrEnum):
    """The kinds of control a plugin may declare (Home Assistant's platform of the same name)."""

    SWITCH = "switch"
    NUMBER = "number"
    SELECT = "select"
    BUTTON = "button"


def _check_key(what: str, key: str) -> None:
    if not KEY.match(key):
        raise PluginError(
            f"{what} key {key!r} must be 1-48 lowercase letters, digits or '_', "
            "starting with a letter"
        )


@dataclass(frozen=True, slots=True)
class EventTypeInfo:
    """One event type a channel can raise.

    ``label`` is the English name shown where no translation exists (a third-party plugin
    ships none); ``translation_key`` names its translation in the faces that have them.
    ``device_class`` is the Home Assistant binary sensor device class (``motion``,
    ``problem``, ``tamper``...). An ``exception`` (the manual's word for video loss, storage
    errors and the like, as opposed to a detection) is listed among a device's diagnostics,
    stays visible while its channel is offline, and has no picture to send with it.
    With ``snapshot`` each event's start is captured: its data names the capture (``snapshot``:
    a capture id, ``/api/captures/<id>.jpg``), in every phase.
    """

    name: str
    label: str
    device_class: str | None = None
    translation_key: str = ""
    exception: bool = False
    snapshot: bool = False

    def __post_init__(self) -> None:
        _check_key("event type", self.name)
        if not self.translation_key:
            object.__setattr__(self, "translation_key", self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "device_class": self.device_class,
            "translation_key": self.translation_key,
            "exception": self.exception,
        }


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """One reading a user sees (the storage's free space, a channel's record state).

    ``device_class`` is the Home Assistant sensor device class (``data_size``, ``enum``...),
    ``state_class`` its state class (``measurement``), ``options`` an ``enum``'s values.
    A ``diagnostic`` sensor is listed among a device's diagnostics. The owner gives each
    reading's value beside the declaration (``value`` in the faces' lists).
    """

    key: str
    label: str
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    options: tuple[str, ...] = ()
    diagnostic: bool = True
    icon: str | None = None
    translation_key: str = ""

    def __post_init__(self) -> None:
        _check_key("sensor", self.key)
        if not self.translation_key:
            object.__setattr__(self, "translation_key", self.key)
        if self.device_class == "enum" and not self.options:
            raise PluginError(f"enum sensor {self.key!r} needs its options")

    def as_dict(self, value: Any = None) -> dict[str, Any]:
        """The declaration with its current ``value``."""
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "translation_key": self.translation_key,
            "unit": self.unit,
            "device_class": self.device_class,
            "state_class": self.state_class,
            "diagnostic": self.diagnostic,
            "value": value,
        }
        if self.options:
            out["options"] = list(self.options)
        if self.icon is not None:
            out["icon"] = self.icon
        return out


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule of a detector that has several (a smart event's lines or regions): its events
    carry its ``id`` as ``data.rule_id``, so a face can offer a sensor per rule. With an
    ``arming_schedule`` (manual 8.1: each smart event rule has its own), an event of the rule
    that starts outside it is not raised at all (``detection.DetectorSet``)."""

    id: int
    name: str
    arming_schedule: ArmingSchedule | None = None
    #: A rule switched off raises nothing (its detector's other rules go on).
    enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class Control:
    """One setting or command a user reaches from every face.

    ``sets`` says what the control changes on its owner: for a detector, ``enabled`` or the
    name of one of its options, or a dotted path into them (``rules.0.enabled``: the first
    rule's ``enabled``; see ``option_at``); for the channel itself, ``armed``; for a button, the command
    it runs (``capture``). ``config`` puts the entity among a device's settings.
    Use the constructors ``switch``, ``number``, ``select`` and ``button``.
    """

    key: str
    kind: ControlKind
    label: str
    sets: str
    translation_key: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    unit: str | None = None
    icon: str | None = None
    config: bool = False
    #: A number that takes whole values only (its schema refuses fractions).
    whole: bool = True
    #: The entry of the channel's status whose mapping the control's entity shows as its
    #: attributes (a calibrate button's ``stitching``: the last calibration's state, error
    #: and time); ``""``: none.
    attributes: str = ""

    def __post_init__(self) -> None:
        _check_key("control", self.key)
        if self.attributes:
            _check_key("attributes", self.attributes)
        if not self.translation_key:
            object.__setattr__(self, "translation_key", self.key)
        if self.kind is ControlKind.NUMBER and (self.minimum is None or self.maximum is None):
            raise PluginError(f"number control {self.key!r} needs a minimum and a maximum")
        if self.kind is ControlKind.SELECT and not self.choices:
            raise PluginError(f"select control {self.key!r} needs its choices")

    def parse(self, value: Any) -> Any:
        """Check a value sent by any face; raises ``ConfigError`` with a message fit for the
        user, or returns the value in the type the owner stores."""
        if self.kind is ControlKind.SWITCH:
            if not isinstance(value, bool):
                raise ConfigError(f"{self.key}: expected true or false")
            return value
        if self.kind is ControlKind.NUMBER:
            return self._number(value)
        if self.kind is ControlKind.SELECT:
            if not isinstance(value, str) or value not in self.choices:
                raise ConfigError(f"{self.key}: expected one of {', '.join(self.choices)}")
            return value
        raise ConfigError(f"{self.key} is a button: press it, it holds no value")

    def _number(self, value: Any) -> int | float:
        assert self.minimum is not None and self.maximum is not None
        low, high = _plain_number(self.minimum), _plain_number(self.maximum)
        what = "a whole number" if self.whole else "a number"
        message = f"{self.key}: expected {what} from {low} to {high}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(message)
        if not (self.minimum <= value <= self.maximum):
            raise ConfigError(message)
        if self.whole:
            if not float(value).is_integer():
                raise ConfigError(message)
            return int(value)
        return float(value)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind.value,
            "label": self.label,
            "translation_key": self.translation_key,
            "config": self.config,
        }
        if self.kind is ControlKind.NUMBER:
            out |= {"min": self.minimum, "max": self.maximum, "step": self.step or 1}
        if self.kind is ControlKind.SELECT:
            out["options"] = list(self.choices)
        if self.unit is not None:
            out["unit"] = self.unit
        if self.icon is not None:
            out["icon"] = self.icon
        if self.attributes:
            out["attributes"] = self.attributes
        return out


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


# ---------------------------------------------------------------------- constructors


def switch(key: str, label: str, sets: str = "enabled", **extra: Any) -> Control:
    """An on/off control; by default it switches its detector on and off."""
    return Control(key=key, kind=ControlKind.SWITCH, label=label, sets=sets, **extra)


def button(key: str, label: str, sets: str, **extra: Any) -> Control:
    """A command without a value (``sets`` names the command)."""
    return Control(key=key, kind=ControlKind.BUTTON, label=label, sets=sets, **extra)


def number(key: str, label: str, option: str, schema: Any, **extra: Any) -> Control:
    """A number setting one option; its range is the one ``schema`` allows for ``option``,
    and it takes fractions only when the schema does.

    ``step`` defaults to 1 for whole numbers, else to the power of ten nearest a thousandth of
    the range (0.1 for 0-600).
    """
    bounds = option_range(schema, option)
    if bounds is None:
        raise PluginError(f"the schema gives option {option!r} no range (vol.Range)")
    low, high = bounds
    whole = _takes_whole_numbers(schema, option)
    step = extra.pop("step", None)
    if step is None:
        step = 1 if whole else 10.0 ** math.floor(math.log10((high - low) / 1000))
    return Control(
        key=key,
        kind=ControlKind.NUMBER,
        label=label,
        sets=option,
        minimum=low,
        maximum=high,
        step=step,
        config=extra.pop("config", True),
        whole=whole,
        **extra,
    )


def select(key: str, label: str, option: str, schema: Any, **extra: Any) -> Control:
    """A choice setting one option; its choices are the ones ``schema`` allows (vol.In)."""
    choices = option_choices(schema, option)
    if not choices:
        raise PluginError(f"the schema gives option {option!r} no choices (vol.In)")
    return Control(
        key=key,
        kind=ControlKind.SELECT,
        label=label,
        sets=option,
        choices=choices,
        config=extra.pop("config", True),
        **extra,
    )


# ---------------------------------------------------------------------- option paths


def option_at(options: Mapping[str, Any], path: str) -> Any:
    """The value a control's ``sets`` names in its owner's options: an option (``threshold``)
    or a dotted path through mappings and lists (``rules.1.enabled``); None when absent."""
    value: Any = options
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def options_with(options: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The change of top-level options that sets ``path`` (as ``option_at`` reads it) to
    ``value``: ``{"threshold": 3}``, or for ``rules.1.enabled`` the whole ``rules`` list with
    that one key changed (options are replaced top-level key by top-level key).
    ``ConfigError`` when the path names nothing there."""
    head, _, rest = path.partition(".")
    if not rest:
        return {head: value}
    return {head: _replaced(options.get(head), rest, value, head)}


def _replaced(node: Any, path: str, value: Any, where: str) -> Any:
    """A copy of ``node`` with ``path`` set to ``value`` (``where``: the path so far)."""
    part, _, rest = path.partition(".")
    copy: Any
    key: Any
    if isinstance(node, Mapping) and (part in node or not rest):
        copy, key = dict(node), part
    elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
        copy, key = list(node), int(part)
    else:
        raise ConfigError(f"{where}.{part}: no such option")
    copy[key] = _replaced(copy[key], rest, value, f"{where}.{part}") if rest else value
    return copy


# ---------------------------------------------------------------------- schema reading


def validators(node: Any) -> Iterator[Any]:
    """Every validator inside ``node`` (Schema, All, Any, lists), depth first; dict schemas are
    yielded whole, so a caller walks their keys and values itself."""
    yield node
    if isinstance(node, vol.Schema):
        yield from validators(node.schema)
    elif isinstance(node, vol.All | vol.Any):
        for inner in node.validators:
            yield from validators(inner)
    elif isinstance(node, list | tuple):
        for inner in node:
            yield from validators(inner)


def option_validator(schema: Any, option: str) -> Any:
    """The validator ``schema`` applies to the top-level key ``option`` (None if it has none)."""
    for node in validators(schema):
        if isinstance(node, Mapping):
            for key, value in node.items():
                name = key.schema if isinstance(key, vol.Marker) else key
                if name == option:
                    return value
    return None


def option_range(schema: Any, option: str) -> tuple[float, float] | None:
    """The (min, max) of the first ``vol.Range`` on ``option`` that bounds both ends."""
    validator = option_validator(schema, option)
    for node in validators(validator):
        if isinstance(node, vol.Range) and node.min is not None and node.max is not None:
            return float(node.min), float(node.max)  # type: ignore[arg-type]
    return None


def option_choices(schema: Any, option: str) -> tuple[str, ...]:
    """The choices of the first ``vol.In`` on ``option`` (empty if there is none)."""
    validator = option_validator(schema, option)
    for node in validators(validator):
        if isinstance(node, vol.In):
            return tuple(str(choice) for choice in node.container)  # type: ignore[attr-defined]
    return ()


def _takes_whole_numbers(schema: Any, option: str) -> bool:
    """Whether ``option`` refuses fractions: try the middle of its range plus a half."""
    validator = option_validator(schema, option)
    bounds = option_range(schema, option)
    if validator is None or bounds is None:
        return False
    probe = (bounds[0] + bounds[1]) / 2 + 0.5
    if probe > bounds[1]:
        probe = bounds[0] + 0.5
    try:
        result = vol.Schema(validator)(probe)
    except vol.Invalid:
        return True
    return isinstance(result, int) and not isinstance(result, bool)


__all__ = [
    "KEY",
    "Control",
    "ControlKind",
    "EventTypeInfo",
    "SensorInfo",
    "button",
    "number",
    "option_at",
    "option_choices",
    "option_range",
    "option_validator",
    "options_with",
    "select",
    "switch",
    "validators",
]
