"""The plugin contract: every hook documented and tested, registration, entry points, loading rules."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import pytest

from camera_runtime import hookimpl, hookspecs
from camera_runtime.exceptions import PluginError
from camera_runtime.host import runtime_from_data
from camera_runtime.interfaces import (
    Action,
    ActionRequest,
    Encoder,
    ImageStage,
    RuntimeView,
    Stitcher,
    StorageBackend,
)
from camera_runtime.model import EventPhase, EventUpdate, Frame, Packet, StreamInfo
from camera_runtime.registry import (
    ENTRY_POINT_GROUP,
    LOAD_PLUGINS_ENV,
    collect_registry,
    create_plugin_manager,
    describe_plugins,
)
from camera_runtime.runtime import Runtime

from .fakes import BrightDetector, FakePlugins, ScriptedSource

HOOK_NAMES = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "camera_runtime_spec")
)


def test_every_hookspec_is_documented_and_tested() -> None:
    """A hook without docs for each parameter, or without a test_hook_<name> here, fails."""
    assert HOOK_NAMES, "no hookspecs found"
    module = sys.modules[__name__]
    for name in HOOK_NAMES:
        fn = getattr(hookspecs, name)
        doc = inspect.getdoc(fn) or ""
        assert doc.strip(), f"hookspec {name} has no docstring"
        for param in inspect.signature(fn).parameters:
            assert f":param {param}:" in doc, f"hookspec {name} does not document {param}"
        assert hasattr(module, f"test_hook_{name}"), f"hookspec {name} has no test_hook_{name}"


def _registry_with(plugin: object) -> Any:
    return collect_registry(create_plugin_manager(extra_plugins=[plugin], load_entry_points=False))


def test_hook_register_sources() -> None:
    registry = _registry_with(FakePlugins())
    assert registry.get("source", "scripted") is ScriptedSource


def test_hook_register_detectors() -> None:
    registry = _registry_with(FakePlugins())
    assert registry.get("detector", "bright") is BrightDetector


class _Identity(ImageStage):
    kind: ClassVar[str] = "identity"

    def process(self, frame: Frame) -> Frame:
        return frame


class _First(Stitcher):
    kind: ClassVar[str] = "first"

    def calibrate(self, frames: Sequence[Frame], progress: Any = None) -> dict[str, Any]:
        return {}

    def load(self, calibration: Mapping[str, Any], sizes: Sequence[tuple[int, int]]) -> None:
        pass

    def output_size(self) -> tuple[int, int]:
        return (0, 0)

    def stitch(self, frames: Sequence[Frame]) -> Frame:
        return frames[0]

    def to_output(
        self, sensor: int, points: Sequence[tuple[float, float]]
    ) -> list[tuple[float, float]]:
        return list(points)


class _Raw(Encoder):
    kind: ClassVar[str] = "raw"

    @classmethod
    def codec(cls, options: Mapping[str, Any]) -> str:
        return "rawvideo"

    def stream_info(self) -> StreamInfo:
        return StreamInfo(self.context.width, self.context.height, self.context.fps, "rawvideo")

    def encode(self, frame: Frame, *, force_keyframe: bool = False) -> list[Packet]:
        data = frame.y.tobytes()
        return [Packet(data, None, None, Fraction(1), True, "rawvideo", frame.demux_time, 0.0)]

    def flush(self) -> list[Packet]:
        return []


class _Memory(StorageBackend):
    kind: ClassVar[str] = "memory"

    async def store(self, name: str, data: bytes, content_type: str) -> str:
        return name

    async def delete(self, item_id: str) -> None:
        pass


class _Notify(Action):
    kind: ClassVar[str] = "notify_test"
    ACTIONS: ClassVar[tuple[str, ...]] = ("notify",)

    async def execute(self, request: ActionRequest) -> dict[str, Any]:
        return {}


def _assert_registers(hook: str, point: str, cls: type) -> None:
    plugin = type("P", (), {hook: hookimpl(lambda self, register: register(cls))})()
    registry = _registry_with(plugin)
    assert registry.get(point, cls.kind) is cls  # type: ignore[attr-defined]
    # ...and nothing leaks into the other extension points.
    assert all(cls.kind not in registry.kinds(p) for p in registry.classes if p != point)  # type: ignore[attr-defined]


def test_hook_register_stitchers() -> None:
    _assert_registers("register_stitchers", "stitcher", _First)


def test_hook_register_image_stages() -> None:
    _assert_registers("register_image_stages", "image_stage", _Identity)


def test_hook_register_encoders() -> None:
    _assert_registers("register_encoders", "encoder", _Raw)


def test_hook_register_storage_backends() -> None:
    _assert_registers("register_storage_backends", "storage_backend", _Memory)


def test_hook_register_actions() -> None:
    _assert_registers("register_actions", "action", _Notify)


def test_registering_a_class_of_the_wrong_extension_point_fails() -> None:
    plugin = type(
        "P", (), {"register_sources": hookimpl(lambda self, register: register(_Identity))}
    )()
    with pytest.raises(PluginError, match="does not subclass Source"):
        _registry_with(plugin)


def test_a_class_without_kind_fails() -> None:
    class NoKind(ImageStage):
        def process(self, frame: Frame) -> Frame:
            return frame

    plugin = type(
        "P", (), {"register_image_stages": hookimpl(lambda self, register: register(NoKind))}
    )()
    with pytest.raises(PluginError, match="no `kind`"):
        _registry_with(plugin)


def test_a_kind_registered_twice_names_both_plugins() -> None:
    pm = create_plugin_manager(
        extra_plugins=[FakePlugins(), FakePlugins()], load_entry_points=False
    )
    with pytest.raises(PluginError, match="registered by both"):
        collect_registry(pm)


def test_a_misspelled_hook_fails_at_start_up() -> None:
    plugin = type("P", (), {"register_sauces": hookimpl(lambda self, register: None)})()
    with pytest.raises(PluginError, match="unknown hook"):
        create_plugin_manager(extra_plugins=[plugin], load_entry_points=False)


def test_each_runtime_has_its_own_plugin_manager(tmp_path: Path) -> None:
    a = runtime_from_data({}, data_dir=tmp_path / "a")
    b = runtime_from_data({}, data_dir=tmp_path / "b", extra_plugins=[FakePlugins()])
    assert a.pm is not b.pm
    assert "scripted" in b.registry.kinds("source")
    assert "scripted" not in a.registry.kinds("source")


def test_built_in_plugins_load_through_entry_points() -> None:
    registry = collect_registry(create_plugin_manager())
    assert {"synthetic", "file", "rtsp", "http", "v4l2"} <= set(registry.kinds("source"))
    assert "motion" in registry.kinds("detector")


def test_disabled_plugins_and_the_environment_restrict_loading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = collect_registry(create_plugin_manager(disabled_plugins=["v4l2"]))
    assert "v4l2" not in registry.kinds("source")
    assert "synthetic" in registry.kinds("source")
    monkeypatch.setenv(LOAD_PLUGINS_ENV, "synthetic,motion")
    registry = collect_registry(create_plugin_manager())
    assert registry.kinds("source") == ["synthetic"]
    assert registry.kinds("detector") == ["motion"]


async def _run_briefly(runtime: Runtime, until: Any) -> None:
    await runtime.start()
    try:
        await asyncio.wait_for(until(), 20)
    finally:
        await runtime.stop()


class _Lifecycle:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.updates: list[EventUpdate] = []
        self.got_event = asyncio.Event()

    @hookimpl
    def before_channels_start(self, runtime: RuntimeView) -> None:
        states = [runtime.channel_status(c)["state"] for c in runtime.channel_ids()]
        self.calls.append(f"channels:{runtime.channel_ids()}:{states}")
        # Subscribed here, a plugin sees every event: none can have happened yet.
        runtime.subscribe_events(lambda update: self.calls.append(f"bus:{update.phase}"))

    @hookimpl
    def after_runtime_start(self, runtime: RuntimeView) -> None:
        self.calls.append(f"start:{runtime.channel_ids()}")

    @hookimpl
    def before_runtime_stop(self, runtime: RuntimeView) -> None:
        self.calls.append("stop")

    @hookimpl
    def after_event(self, runtime: RuntimeView, update: EventUpdate) -> None:
        self.updates.append(update)
        if update.phase is EventPhase.NEW:
            self.got_event.set()


def _bright_config() -> dict[str, Any]:
    return {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "scripted", "bright_from": 10},
                "detect": {"fps": 60},
                "detectors": {"bright": {}},
            }
        ]
    }


def test_hook_before_channels_start(tmp_path: Path) -> None:
    observer = _Lifecycle()
    ScriptedSource.opens_allowed.set()
    runtime = runtime_from_data(
        _bright_config(), data_dir=tmp_path, extra_plugins=[FakePlugins(), observer]
    )
    asyncio.run(_run_briefly(runtime, observer.got_event.wait))
    # The channels exist but none runs; the subscription made there saw the first event.
    assert observer.calls[:2] == ["channels:['cam']:['stopped']", "start:['cam']"]
    assert "bus:new" in observer.calls


def test_hook_after_runtime_start(tmp_path: Path) -> None:
    observer = _Lifecycle()
    ScriptedSource.opens_allowed.set()
    runtime = runtime_from_data(
        _bright_config(), data_dir=tmp_path, extra_plugins=[FakePlugins(), observer]
    )
    asyncio.run(_run_briefly(runtime, observer.got_event.wait))
    assert observer.calls[1] == "start:['cam']"


def test_hook_before_runtime_stop(tmp_path: Path) -> None:
    observer = _Lifecycle()
    ScriptedSource.opens_allowed.set()
    runtime = runtime_from_data(
        _bright_config(), data_dir=tmp_path, extra_plugins=[FakePlugins(), observer]
    )
    asyncio.run(_run_briefly(runtime, observer.got_event.wait))
    hooks = [call for call in observer.calls if not call.startswith("bus:")]
    assert hooks[-1] == "stop"


def test_hook_after_event(tmp_path: Path) -> None:
    observer = _Lifecycle()
    ScriptedSource.opens_allowed.set()
    runtime = runtime_from_data(
        _bright_config(), data_dir=tmp_path, extra_plugins=[FakePlugins(), observer]
    )
    asyncio.run(_run_briefly(runtime, observer.got_event.wait))
    first = observer.updates[0]
    assert (first.phase, first.event.type, first.event.channel) == (EventPhase.NEW, "bright", "cam")


async def test_hook_extend_api(tmp_path: Path) -> None:
    """A plugin's route is served, behind the same auth as every other route."""
    import aiohttp
    from aiohttp import web

    from camera_runtime.api import ApiServer, Policy, add_route

    class AddsRoute:
        @hookimpl
        def extend_api(self, app: web.Application, runtime: Runtime) -> None:
            async def hello(request: web.Request) -> web.Response:
                return web.json_response({"device": runtime.config.device["name"]})

            add_route(app, "GET", "/api/ext/hello", hello, Policy.USER)

    runtime = runtime_from_data(
        {"device": {"name": "Shed"}}, data_dir=tmp_path, extra_plugins=[AddsRoute()]
    )
    await runtime.start()
    server = ApiServer(runtime, "127.0.0.1", 0)
    await server.start()
    try:
        password = "Plug1n-Passw0rd"
        await server.security.set_admin_password(password)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}/api/ext/hello") as response:
                assert response.status == 401
            auth = aiohttp.BasicAuth("admin", password)
            async with session.get(f"{server.url}/api/ext/hello", auth=auth) as response:
                assert response.status == 200
                assert await response.json() == {"device": "Shed"}
    finally:
        await server.stop()
        await runtime.stop()


# ---------------------------------------------------------------- a third-party distribution


def _install_fake_distribution(root: Path) -> None:
    """A plugin package plus its dist-info, exactly what ``pip install`` leaves on sys.path."""
    package = root / "cr_thirdparty_source"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            import time
            import numpy as np
            import voluptuous as vol
            from camera_runtime import hookimpl
            from camera_runtime.interfaces import Source
            from camera_runtime.model import Frame, StreamInfo

            class TestPattern(Source):
                kind = "testpattern"
                CONFIG_SCHEMA = vol.Schema({vol.Optional("level", default=77): int})

                def open(self):
                    return StreamInfo(32, 24, 50.0)

                def read(self):
                    time.sleep(0.02)
                    y = np.full((24, 32), self.options["level"], np.uint8)
                    uv = np.full((12, 16), 128, np.uint8)
                    now = time.time()
                    return Frame(y, uv, uv, pts=now, wall_time=now, demux_time=time.monotonic())

                def close(self):
                    pass

            @hookimpl
            def register_sources(register):
                register(TestPattern)
            """
        )
    )
    dist = root / "cr_thirdparty_source-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cr-thirdparty-source\nVersion: 1.2.3\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ntestpattern = cr_thirdparty_source\n"
    )


def test_a_third_party_distribution_is_picked_up_and_used_from_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_fake_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    pm = create_plugin_manager()
    registry = collect_registry(pm)
    info = {p.name: p for p in describe_plugins(pm, registry)}["testpattern"]
    assert (info.distribution, info.version, info.kinds) == (
        "cr-thirdparty-source",
        "1.2.3",
        {"source": ["testpattern"]},
    )

    runtime = runtime_from_data(
        {"channels": [{"id": "tp", "source": {"type": "testpattern", "level": 99}}]},
        data_dir=tmp_path / "data",
    )

    async def first_frame() -> None:
        slot = runtime.channels["tp"].slot
        await asyncio.get_running_loop().run_in_executor(None, slot.wait_newer, 0, 10.0)

    asyncio.run(_run_briefly(runtime, first_frame))
    frame = runtime.channels["tp"].slot.frame
    assert frame is not None and int(frame.y[0, 0]) == 99

    out = subprocess.run(
        [sys.executable, "-m", "camera_runtime", "plugins"],
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(row for row in out.splitlines() if row.startswith("testpattern"))
    assert "cr-thirdparty-source" in line and "1.2.3" in line and "source: testpattern" in line
