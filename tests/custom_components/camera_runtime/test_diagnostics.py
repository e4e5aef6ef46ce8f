"""Diagnostics of a loaded entry: secrets redacted, the runtime's state included."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .conftest import Served


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    served: Served,
    loaded: MockConfigEntry,
) -> None:
    result = await get_diagnostics_for_config_entry(hass, hass_client, loaded)
    assert result["entry"]["data"]["token"] == "**REDACTED**"
    assert served.token not in str(result)
    assert result["entry"]["data"]["host"] == "127.0.0.1"
    assert result["connected"] is True
    assert result["device"]["device_id"] == served.runtime.device_id
    assert result["channels"]["cam1"]["detectors"]["motion"]["options"]["sensitivity"] == 80
    assert isinstance(result["active_events"], list)
