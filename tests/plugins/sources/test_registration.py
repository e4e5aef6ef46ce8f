"""The built-in sources load through the entry points like any third-party plugin."""

from __future__ import annotations

from camera_runtime.interfaces import Source
from camera_runtime.registry import collect_registry, create_plugin_manager
from camera_runtime_plugins.sources import file, network, synthetic, v4l2


def test_entry_points_register_every_source_kind() -> None:
    registry = collect_registry(create_plugin_manager())
    assert {"synthetic", "file", "rtsp", "http", "v4l2"} <= set(registry.kinds("source"))
    assert registry.get("source", "file") is file.FileSource
    assert registry.get("source", "rtsp") is network.RtspSource
    assert registry.get("source", "http") is network.HttpSource
    assert registry.get("source", "v4l2") is v4l2.V4l2Source
    assert registry.get("source", "synthetic") is synthetic.SyntheticSource


def test_each_module_registers_only_its_own_kinds() -> None:
    for module, kinds in [
        (synthetic, ["synthetic"]),
        (file, ["file"]),
        (network, ["rtsp", "http"]),
        (v4l2, ["v4l2"]),
    ]:
        registered: list[type[Source]] = []
        module.register_sources(registered.append)
        assert [cls.kind for cls in registered] == kinds
