"""The ``mqtt:`` block of the YAML config: broker, credentials, TLS, topic prefixes, outbox size.

Defaults live here, in the schema. The topic prefixes are checked so that no configured value
can smuggle MQTT wildcards, empty levels or control characters into a topic (security case B7).
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

from ..config import ConfigSection

#: A topic prefix: one or more levels of printable characters, no wildcard, no empty level.
_PREFIX = re.compile(r"^[^/+#\x00-\x1f\x7f]+(/[^/+#\x00-\x1f\x7f]+)*$")


def topic_prefix(value: Any) -> str:
    """A topic prefix: 1-64 characters, no ``+``, ``#``, NUL or other control characters,
    no leading, trailing or double ``/``."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a string")
    if not 1 <= len(value) <= 64:
        raise vol.Invalid("must be 1-64 characters")
    if not _PREFIX.match(value):
        raise vol.Invalid(
            "must not contain '+', '#' or control characters, nor start or end with '/' "
            "or have an empty level ('//')"
        )
    return value


def _client_id(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise vol.Invalid("must be a string of 1-128 characters")
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise vol.Invalid("must not contain control characters")
    return value


def _credentials_together(value: dict[str, Any]) -> dict[str, Any]:
    if value.get("password") is not None and value.get("username") is None:
        raise vol.Invalid("password needs a username", path=["password"])
    tls = value.get("tls")
    if tls and tls.get("keyfile") and not tls.get("certfile"):
        raise vol.Invalid("keyfile needs certfile", path=["tls", "keyfile"])
    return value


TLS_SCHEMA = vol.Schema(
    {
        # CA bundle that signed the broker's certificate (None: the system's CAs).
        vol.Optional("ca_certs"): str,
        # Client certificate and key for brokers that authenticate clients by certificate.
        vol.Optional("certfile"): str,
        vol.Optional("keyfile"): str,
        # Skip the host name check of the broker certificate (self-signed test brokers only).
        vol.Optional("insecure", default=False): bool,
    }
)

MQTT_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("host"): vol.All(str, vol.Length(min=1, max=253)),
            vol.Optional("port", default=1883): vol.All(int, vol.Range(min=1, max=65535)),
            vol.Optional("username"): vol.All(str, vol.Length(min=1, max=256)),
            vol.Optional("password"): vol.All(str, vol.Length(max=256)),
            # None: camera_runtime-<device id>, unique per runtime sharing a broker.
            vol.Optional("client_id"): _client_id,
            vol.Optional("keepalive", default=60): vol.All(int, vol.Range(min=5, max=3600)),
            vol.Optional("tls"): vol.Any(None, TLS_SCHEMA),
            vol.Optional("topic_prefix", default="camera_runtime"): topic_prefix,
            vol.Optional("discovery", default=True): bool,
            vol.Optional("discovery_prefix", default="homeassistant"): topic_prefix,
            vol.Optional("snapshot_on_event", default=True): bool,
            # Events kept while the broker is unreachable; past it the oldest are dropped.
            vol.Optional("outbox_max", default=100_000): vol.All(
                int, vol.Range(min=100, max=10_000_000)
            ),
        }
    ),
    _credentials_together,
)

MQTT_SECTION = ConfigSection(
    "mqtt",
    MQTT_SCHEMA,
    default=False,
    summary="the MQTT bridge: events, states, commands, Home Assistant discovery (off if absent)",
)

__all__ = ["MQTT_SCHEMA", "MQTT_SECTION", "TLS_SCHEMA", "topic_prefix"]
