"""MQTT for the runtime: events, states and commands on a documented topic tree, Home
Assistant MQTT discovery, and a durable outbox so that no event is lost to a broker outage."""

from __future__ import annotations

from .bridge import MqttBridge
from .config import MQTT_SCHEMA, MQTT_SECTION

__all__ = ["MQTT_SCHEMA", "MQTT_SECTION", "MqttBridge"]
