"""Numbers per channel: motion sensitivity (0-100; only with the detector in normal mode)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import CameraRuntimeConfigEntry
from .entity import ChannelEntity, ChannelEntityDescription, Status, add_channel_entities
from .entity import has_motion as _has_motion
from .errors import runtime_call

PARALLEL_UPDATES = 0


def _normal_motion(status: Status) -> bool:
    if not _has_motion(status):
        return False
    options = status["detectors"]["motion"].get("options") or {}
    return options.get("mode", "normal") == "normal" and "sensitivity" in options


@dataclass(frozen=True, kw_only=True)
class DetectorNumberDescription(ChannelEntityDescription, NumberEntityDescription):
    """A detector option as a number: ``detector`` and ``option`` name it."""

    detector: str
    option: str
    supported_fn: Callable[[Status], bool] = _normal_motion


NUMBERS = (
    DetectorNumberDescription(
        key="motion_sensitivity",
        translation_key="motion_sensitivity",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        detector="motion",
        option="sensitivity",
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CameraRuntimeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    add_channel_entities(entry, async_add_entities, NUMBERS, DetectorNumber)


class DetectorNumber(ChannelEntity, NumberEntity):
    entity_description: DetectorNumberDescription

    @property
    def available(self) -> bool:
        return super().available and self.entity_description.supported_fn(self.status)

    @property
    def native_value(self) -> float | None:
        d = self.entity_description
        value = ((self.status.get("detectors") or {}).get(d.detector) or {}).get("options", {})
        found = value.get(d.option)
        return float(found) if isinstance(found, int | float) else None

    async def async_set_native_value(self, value: float) -> None:
        d = self.entity_description
        await runtime_call(
            self.data,
            self.client.set_detector(self.channel_id, d.detector, options={d.option: round(value)}),
        )
