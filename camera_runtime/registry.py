"""The plugins of one Runtime: its plugin manager (built-ins and third-party plugins through one
entry-point group, plus ``--plugin`` modules) and the registry of the classes they registered.

Both are public: a host builds them with ``build_plugins``, a plugin or face reads the
registry through the runtime's view.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy
import voluptuous as vol

from . import hookspecs
from .exceptions import PluginError
from .interfaces import EXTENSION_POINTS, Detector, Encoder, ImageStage, PluginClass, Source

ENTRY_POINT_GROUP = "camera_runtime.plugins"
#: Comma-separated entry-point names; when set, only these plugins load (empty: none).
LOAD_PLUGINS_ENV = "CAMERA_RUNTIME_LOAD_PLUGINS"


def _blocked_entry_points(disabled: Iterable[str]) -> set[str]:
    """Names to block: the config's ``disabled_plugins`` and, when the environment variable is
    set, every entry point it does not name."""
    blocked = set(disabled)
    wanted_env = os.environ.get(LOAD_PLUGINS_ENV)
    if wanted_env is not None:
        wanted = {n.strip() for n in wanted_env.split(",") if n.strip()}
        blocked |= {
            ep.name
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
            if ep.name not in wanted
        }
    return blocked


def create_plugin_manager(
    *,
    disabled_plugins: Iterable[str] = (),
    extra_plugins: Iterable[ModuleType | object | str] = (),
    load_entry_points: bool = True,
) -> pluggy.PluginManager:
    """Build a fresh manager: one per Runtime, never a global.

    ``extra_plugins`` are modules, objects or importable module names (the CLI's ``--plugin``).
    Misspelled hook implementations fail here, through ``check_pending()``.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        for name in _blocked_entry_points(disabled_plugins):
            pm.set_blocked(name)
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as err:  # a broken third-party plugin must not pass unnoticed
            raise PluginError(f"a plugin failed to load: {err!r}") from err
    for extra in extra_plugins:
        try:
            module = importlib.import_module(extra) if isinstance(extra, str) else extra
        except ImportError as err:
            raise PluginError(f"cannot import plugin module {extra!r}: {err}") from err
        if not pm.is_registered(module):
            pm.register(module)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as err:
        raise PluginError(f"plugin declares an unknown hook: {err}") from err
    return pm


@dataclass
class PluginRegistry:
    """The classes plugins registered, per extension point and kind."""

    classes: dict[str, dict[str, type[PluginClass]]] = field(
        default_factory=lambda: {point: {} for point in EXTENSION_POINTS}
    )
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def get(self, point: str, kind: str) -> type[PluginClass]:
        try:
            return self.classes[point][kind]
        except KeyError:
            known = ", ".join(sorted(self.classes.get(point, {}))) or "none"
            raise PluginError(
                f"no {point} of type {kind!r} is installed (known: {known})"
            ) from None

    def source(self, kind: str) -> type[Source]:
        cls = self.get("source", kind)
        assert issubclass(cls, Source)
        return cls

    def detector(self, kind: str) -> type[Detector]:
        cls = self.get("detector", kind)
        assert issubclass(cls, Detector)
        return cls

    def image_stage(self, kind: str) -> type[ImageStage]:
        cls = self.get("image_stage", kind)
        assert issubclass(cls, ImageStage)
        return cls

    def encoder(self, kind: str) -> type[Encoder]:
        cls = self.get("encoder", kind)
        assert issubclass(cls, Encoder)
        return cls

    def default_encoder(self) -> type[Encoder]:
        """The encoder a stream gets when none is named (``Encoder.DEFAULT``)."""
        for kind in sorted(self.classes["encoder"]):
            cls = self.encoder(kind)
            if cls.DEFAULT:
                return cls
        raise PluginError("no default encoder is installed: name one with streams.<role>.type")

    def kinds(self, point: str) -> list[str]:
        return sorted(self.classes[point])


def _validate_class(point: str, cls: Any) -> type[PluginClass]:
    base = EXTENSION_POINTS[point].base
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginError(f"{cls!r} registered as a {point} but does not subclass {base.__name__}")
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise PluginError(f"{cls.__name__} has no `kind` class attribute")
    if not isinstance(getattr(cls, "CONFIG_SCHEMA", None), vol.Schema):
        raise PluginError(f"{cls.__name__} has no voluptuous `CONFIG_SCHEMA`")
    if issubclass(cls, Detector) and not cls.EVENT_TYPES:
        raise PluginError(f"{cls.__name__} declares no `EVENT_TYPES`: a detector raises events")
    if issubclass(cls, ImageStage) and (
        isinstance(cls.ORDER, bool) or not isinstance(cls.ORDER, int)
    ):
        raise PluginError(f"{cls.__name__} has no whole-number `ORDER`: where does it run?")
    return cls


def collect_registry(pm: pluggy.PluginManager) -> PluginRegistry:
    """Call every registration hook once and gather what was registered.

    A kind registered twice (by two plugins or one plugin twice) is an error: the config could
    not say which one it means.
    """
    registry = PluginRegistry()
    for point, info in EXTENSION_POINTS.items():
        hook = getattr(pm.hook, info.hook)
        for impl in hook.get_hookimpls():
            owner = impl.plugin_name

            def register(cls: Any, _point: str = point, _owner: str = owner) -> None:
                klass = _validate_class(_point, cls)
                key = (_point, klass.kind)
                if key in registry.owners:
                    raise PluginError(
                        f"{_point} type {klass.kind!r} registered by both "
                        f"{registry.owners[key]!r} and {_owner!r}"
                    )
                registry.owners[key] = _owner
                registry.classes[_point][klass.kind] = klass

            impl.function(register)
    return registry


def _disabled_plugins(data: Any) -> list[str]:
    """The ``plugins.disabled`` list, read before validation: validation needs the plugins."""
    if isinstance(data, Mapping):
        plugins = data.get("plugins")
        if isinstance(plugins, Mapping) and isinstance(plugins.get("disabled"), list):
            return [str(name) for name in plugins["disabled"]]
    return []


def build_plugins(
    data: Any = None, extra_plugins: Iterable[ModuleType | object | str] = ()
) -> tuple[pluggy.PluginManager, PluginRegistry]:
    """A fresh plugin manager and registry for a config's ``plugins.disabled`` (``data`` is
    the config as read, not yet validated)."""
    pm = create_plugin_manager(
        disabled_plugins=_disabled_plugins(data), extra_plugins=extra_plugins
    )
    return pm, collect_registry(pm)


@dataclass(frozen=True)
class PluginInfo:
    """One installed plugin, as ``camera-runtime plugins`` lists it."""

    name: str
    distribution: str
    version: str
    kinds: dict[str, list[str]]


def describe_plugins(pm: pluggy.PluginManager, registry: PluginRegistry) -> list[PluginInfo]:
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        kinds: dict[str, list[str]] = {}
        for (point, kind), owner in registry.owners.items():
            if owner == name:
                kinds.setdefault(point, []).append(kind)
        dist = dists.get(id(plugin))
        infos.append(
            PluginInfo(
                name=name,
                distribution=dist.project_name if dist is not None else "",
                version=dist.version if dist is not None else "",
                kinds={k: sorted(v) for k, v in sorted(kinds.items())},
            )
        )
    return infos
