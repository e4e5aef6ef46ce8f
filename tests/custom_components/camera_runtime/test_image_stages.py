"""An image stage's declared switch in a real Home Assistant: the privacy mask gets its
configuration switch from its declaration alone, and turning it off and on reaches the
runtime's channel."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from tests.runtime_server import ServeFactory

from .conftest import remote_entry, set_up_entry, wait_for_state

SWITCH = "switch.front_door_privacy_mask"
SQUARE = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]


async def test_the_privacy_mask_switch_is_an_entity(
    hass: HomeAssistant, serve: ServeFactory
) -> None:
    data = {
        "device": {"name": "Test NVR"},
        "zeroconf": {"enabled": False},
        "channels": [
            {
                "id": "cam1",
                "name": "Front door",
                "source": {"type": "synthetic", "width": 160, "height": 120, "fps": 10},
                "image": {"privacy_mask": {"areas": [SQUARE]}},
            }
        ],
    }
    served = await serve(data)
    await set_up_entry(hass, remote_entry(served))
    state = hass.states.get(SWITCH)
    assert state is not None and state.state == STATE_ON
    assert state.attributes["friendly_name"] == "Front door Privacy mask"  # the declared label
    assert er.async_get(hass).async_get(SWITCH).entity_category == "config"

    stages = served.runtime.channels["cam1"].stages
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    assert stages["privacy_mask"].enabled is False
    await wait_for_state(hass, SWITCH, lambda s: s == STATE_OFF)
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True)
    assert stages["privacy_mask"].enabled is True
    await wait_for_state(hass, SWITCH, lambda s: s == STATE_ON)
