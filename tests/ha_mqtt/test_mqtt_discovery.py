"""Home Assistant's real MQTT integration accepts the bridge's discovery: the entities appear
with the right device classes and follow events and commands; availability follows the
runtime and broker restarts (TESTPLAN E2)."""

from __future__ import annotations

from homeassistant.components.camera import async_get_image
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.mosquitto import Mosquitto

from .conftest import Camera, entity_id, until


async def test_entities_follow_events_and_commands(
    hass: HomeAssistant, camera: Camera, ha_mqtt: MockConfigEntry
) -> None:
    runtime = camera.runtime
    uid = f"camera_runtime_{runtime.device_id}_yard"
    motion = await until(
        hass, lambda: entity_id(hass, "binary_sensor", f"{uid}_motion"), "the motion sensor"
    )
    video_loss = entity_id(hass, "binary_sensor", f"{uid}_video_loss")
    arming = await until(hass, lambda: entity_id(hass, "switch", f"{uid}_arming"), "the switch")
    sensitivity = await until(
        hass, lambda: entity_id(hass, "number", f"{uid}_motion_sensitivity"), "the number"
    )
    capture = entity_id(hass, "button", f"{uid}_capture")
    snapshot = entity_id(hass, "camera", f"{uid}_snapshot")
    events = entity_id(hass, "event", f"{uid}_events")
    fps = entity_id(hass, "sensor", f"{uid}_fps")
    assert None not in (video_loss, capture, snapshot, events, fps)

    # Devices: the runtime, and the channel linked to it.
    devices = dr.async_get(hass)
    top = devices.async_get_device({("mqtt", f"camera_runtime_{runtime.device_id}")})
    channel = devices.async_get_device({("mqtt", uid)})
    assert top is not None and channel is not None
    assert channel.via_device_id == top.id

    state = hass.states.get(motion)
    assert state.attributes["device_class"] == "motion"
    assert hass.states.get(video_loss).attributes["device_class"] == "problem"

    # Real motion turns the binary sensor on and off, and fires the event entity.
    await until(hass, lambda: hass.states.get(motion).state == STATE_ON, "motion on")
    await until(
        hass,
        lambda: hass.states.get(events).attributes.get("event_type") == "motion_new",
        "the event entity",
    )
    assert hass.states.get(events).attributes["event_id"]
    await until(hass, lambda: hass.states.get(motion).state == STATE_OFF, "motion off", 30)
    image = await async_get_image(hass, snapshot)
    assert image.content[:2] == b"\xff\xd8"  # a JPEG

    # Commands from Home Assistant reach the runtime, and the state comes back.
    await hass.services.async_call("switch", "turn_off", {"entity_id": arming}, blocking=True)
    await until(hass, lambda: hass.states.get(arming).state == STATE_OFF, "switch off")
    assert runtime.channels["yard"].armed is False
    await hass.services.async_call(
        "number", "set_value", {"entity_id": sensitivity, "value": 70}, blocking=True
    )
    await until(hass, lambda: float(hass.states.get(sensitivity).state) == 70, "sensitivity 70")
    assert runtime.channels["yard"].detectors["motion"].options["sensitivity"] == 70
    captures = runtime.data_dir / "captures"
    await hass.services.async_call("button", "press", {"entity_id": capture}, blocking=True)
    await until(hass, lambda: captures.exists() and any(captures.iterdir()), "a capture file")
    # A change made outside Home Assistant shows up too.
    await runtime.set_armed("yard", True)
    await until(hass, lambda: hass.states.get(arming).state == STATE_ON, "switch on again")

    # The runtime goes away: its entities become unavailable.
    await camera.stop()
    await until(hass, lambda: hass.states.get(motion).state == STATE_UNAVAILABLE, "unavailable")


async def test_broker_restart_makes_entities_unavailable_then_available(
    hass: HomeAssistant, camera: Camera, ha_mqtt: MockConfigEntry, broker: Mosquitto
) -> None:
    uid = f"camera_runtime_{camera.runtime.device_id}_yard"
    arming = await until(hass, lambda: entity_id(hass, "switch", f"{uid}_arming"), "the switch")
    await until(hass, lambda: hass.states.get(arming).state == STATE_ON, "available")
    broker.stop()
    await until(hass, lambda: hass.states.get(arming).state == STATE_UNAVAILABLE, "unavailable", 30)
    broker.start()
    await until(hass, lambda: hass.states.get(arming).state == STATE_ON, "available again", 60)
    assert camera.bridge.connected
