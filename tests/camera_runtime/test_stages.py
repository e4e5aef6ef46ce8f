"""The stage chain: built from the config, run in ORDER, changed at run time before the next
frame, free when empty, failing closed, and its errors given with their key paths."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import pytest
import voluptuous as vol

from camera_runtime import hookimpl
from camera_runtime.config import StageConfig, validate_config
from camera_runtime.exceptions import CameraRuntimeError, ConfigError, NotFoundError, PluginError
from camera_runtime.interfaces import ImageStage, StageContext
from camera_runtime.model import Frame
from camera_runtime.registry import PluginRegistry, build_plugins
from camera_runtime.stages import StageChain

#: What the test stages did, in order: (kind, the size they were built for).
LOG: list[tuple[str, int, int]] = []


class _Adder(ImageStage):
    """Adds ``amount`` to the luma (a copy), logging each call."""

    CONFIG_SCHEMA: ClassVar[vol.Schema] = vol.Schema(
        {vol.Optional("amount", default=1): int, vol.Optional("fail", default=False): bool}
    )

    def __init__(self, options: Mapping[str, Any], context: StageContext) -> None:
        if options["fail"]:
            raise CameraRuntimeError(f"{self.kind}: cannot start")
        super().__init__(options, context)
        self.calls = 0

    def process(self, frame: Frame) -> Frame:
        self.calls += 1
        LOG.append((self.kind, self.context.width, self.context.height))
        return dataclasses.replace(frame, y=frame.y + np.uint8(self.options["amount"]))


class Early(_Adder):
    kind: ClassVar[str] = "early"
    ORDER: ClassVar[int] = 10


class Late(_Adder):
    kind: ClassVar[str] = "late"
    ORDER: ClassVar[int] = 20


class Bad(ImageStage):
    kind: ClassVar[str] = "bad"
    ORDER: ClassVar[str] = "first"  # type: ignore[assignment]

    def process(self, frame: Frame) -> Frame:
        return frame


class StagesPlugin:
    @hookimpl
    def register_image_stages(self, register: Callable[[type[ImageStage]], None]) -> None:
        register(Late)
        register(Early)


@pytest.fixture
def registry() -> PluginRegistry:
    LOG.clear()
    return build_plugins(extra_plugins=[StagesPlugin()])[1]


def _frame(width: int = 32, height: int = 24, level: int = 100) -> Frame:
    y = np.full((height, width), level, np.uint8)
    c = np.full((height // 2, width // 2), 128, np.uint8)
    for plane in (y, c):
        plane.flags.writeable = False
    return Frame(y, c, c, 0.0, 0.0, 0.0)


def _chain(registry: PluginRegistry, **stages: dict[str, Any]) -> StageChain:
    configs = {}
    for kind, options in stages.items():
        enabled = options.pop("enabled", True)
        cls = registry.image_stage(kind)
        configs[kind] = StageConfig(kind, enabled, cls.CONFIG_SCHEMA(options))
    return StageChain("cam", "Cam", configs, registry, fps=lambda: 25.0)


def test_stages_run_in_their_order_whatever_the_config_order(registry: PluginRegistry) -> None:
    chain = _chain(registry, late={"amount": 2}, early={"amount": 1})
    out = chain.process(_frame())
    assert [kind for kind, *_ in LOG] == ["early", "late"]
    assert int(out.y[0, 0]) == 103
    assert [c.kind for c in chain.ordered()] == ["early", "late"]


def test_an_empty_chain_passes_the_frame_itself(registry: PluginRegistry) -> None:
    chain = _chain(registry)
    frame = _frame()
    assert chain.process(frame) is frame
    assert not chain.active
    disabled = _chain(registry, early={"enabled": False})
    assert disabled.process(frame) is frame and LOG == []
    assert not disabled.active
    disabled.set("early", enabled=True)
    assert disabled.active  # packets may no longer pass unchanged


def test_a_change_applies_before_the_next_frame(registry: PluginRegistry) -> None:
    chain = _chain(registry, early={}, late={})
    assert int(chain.process(_frame()).y[0, 0]) == 102
    kept = dict(chain._stages)["late"]
    # Changed from another thread, as the API and MQTT do.
    worker = threading.Thread(
        target=chain.set, args=("early",), kwargs={"options": Early.CONFIG_SCHEMA({"amount": 5})}
    )
    worker.start()
    worker.join()
    assert int(chain.process(_frame()).y[0, 0]) == 106
    assert dict(chain._stages)["late"] is kept  # an unchanged stage keeps its state
    chain.set("late", enabled=False)
    assert int(chain.process(_frame()).y[0, 0]) == 105
    assert chain.status() == {
        "early": {"enabled": True, "options": {"amount": 5, "fail": False}},
        "late": {"enabled": False, "options": {"amount": 1, "fail": False}},
    }
    with pytest.raises(NotFoundError):
        chain.set("rotate", enabled=True)


def test_a_size_change_reaches_the_later_stages(registry: PluginRegistry) -> None:
    rotate = registry.image_stage("rotate")
    configs = {
        "late": StageConfig("late", True, Late.CONFIG_SCHEMA({})),
        "rotate": StageConfig("rotate", True, rotate.CONFIG_SCHEMA({"angle": 90})),
    }
    chain = StageChain("cam", "Cam", configs, registry)
    assert chain.output_size(32, 24) == (24, 32)
    out = chain.process(_frame(32, 24))
    assert (out.width, out.height) == (24, 32)
    assert LOG == [("late", 32, 24)]  # ORDER 20 runs before rotate (100)
    chain.set("late", enabled=False)
    chain.set("rotate", options=rotate.CONFIG_SCHEMA({"angle": 180}))
    assert chain.output_size(32, 24) == (32, 24)
    assert (chain.process(_frame(32, 24)).width, chain.process(_frame(40, 30)).width) == (32, 40)


def test_a_stage_that_cannot_be_built_stops_the_picture_until_it_can(
    registry: PluginRegistry,
) -> None:
    chain = _chain(registry, early={"amount": 1})
    assert int(chain.process(_frame()).y[0, 0]) == 101
    chain.set("early", options={"amount": 1, "fail": True})
    for _ in range(2):  # never the old stage, never the frame without it
        with pytest.raises(CameraRuntimeError, match="early: cannot start"):
            chain.process(_frame())
    chain.set("early", options={"amount": 3, "fail": False})
    assert int(chain.process(_frame()).y[0, 0]) == 103


def test_a_stage_without_a_whole_number_order_is_refused() -> None:
    class BadPlugin:
        @hookimpl
        def register_image_stages(self, register: Callable[[type[ImageStage]], None]) -> None:
            register(Bad)

    with pytest.raises(PluginError, match="ORDER"):
        build_plugins(extra_plugins=[BadPlugin()])


def test_config_errors_carry_their_key_paths(registry: PluginRegistry) -> None:
    data = {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "synthetic"},
                "image": {
                    "rotate": {"angle": 45},
                    "early": {"enabled": "yes", "amount": "x"},
                    "sepia": {},
                    "mirror": None,
                },
            }
        ]
    }
    with pytest.raises(ConfigError) as caught:
        validate_config(data, registry)
    errors = caught.value.errors
    assert "channels[0].image.rotate.angle: value must be one of [0, 90, 180, 270]" in errors
    assert "channels[0].image.early.enabled: expected bool" in errors
    assert "channels[0].image.early.amount: expected int" in errors
    assert any(
        e.startswith("channels[0].image.sepia: no image_stage of type 'sepia'") for e in errors
    )
    assert len(errors) == 4  # `mirror:` with no value is the defaults


def test_the_config_keeps_the_stages_with_their_defaults(registry: PluginRegistry) -> None:
    data = {
        "channels": [
            {
                "id": "cam",
                "source": {"type": "synthetic"},
                "image": {"mirror": None, "rotate": {"enabled": False}},
            }
        ]
    }
    config = validate_config(data, registry)
    image = config.channels[0].image
    assert image["mirror"] == StageConfig("mirror", True, {"mode": "left_right"})
    assert image["rotate"] == StageConfig("rotate", False, {"angle": 90})
    assert config.dump()["channels"][0]["image"] == {
        "mirror": {"enabled": True, "mode": "left_right"},
        "rotate": {"enabled": False, "angle": 90},
    }
