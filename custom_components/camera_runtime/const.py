"""Constants of the Camera Runtime integration: entry keys, modes, options, event names."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "camera_runtime"

CONF_MODE: Final = "mode"
CONF_TOKEN_ID: Final = "token_id"
CONF_CONFIG_PATH: Final = "config_path"
MODE_REMOTE: Final = "remote"
MODE_EMBEDDED: Final = "embedded"

#: Options: also pass ``update`` phases on (noisy: up to one a second per moving channel).
CONF_FORWARD_UPDATES: Final = "forward_updates"
DEFAULT_OPTIONS: Final = {CONF_FORWARD_UPDATES: False}

EVENT_CAMERA_RUNTIME: Final = "camera_runtime_event"

#: The embedded runtime's data folder, below Home Assistant's config folder.
EMBEDDED_STORAGE: Final = (".storage", "camera_runtime")

ISSUE_MQTT_DUPLICATE: Final = "mqtt_discovery_duplicates"
