"""How a resource outside the runtime is reached: an MQTT topic (commands published, states
subscribed) or an HTTP endpoint (commands as JSON). One small object per resource.

Credentials (broker password, URL user info, headers) are options: they are used, never
logged, and error messages name the host only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import paho.mqtt.client as paho
import voluptuous as vol
from paho.mqtt.enums import CallbackAPIVersion

from camera_runtime.exceptions import CameraRuntimeError, ConfigError
from camera_runtime.interfaces import Action, ActionContext, RuntimeView

_LOGGER = logging.getLogger(__name__)

TOPIC = vol.All(str, vol.Length(min=1, max=256), vol.Match(r"^[^#+\x00]+$", msg="no wildcards"))
MQTT_SCHEMA = vol.Schema(
    {
        # Commands are published here; states of a source are read from ``state_topic``.
        vol.Optional("topic"): TOPIC,
        vol.Optional("state_topic"): TOPIC,
        # The broker: by default the one of the runtime's ``mqtt:`` section.
        vol.Optional("host"): vol.All(str, vol.Length(min=1, max=253)),
        vol.Optional("port"): vol.All(int, vol.Range(min=1, max=65535)),
        vol.Optional("username"): vol.All(str, vol.Length(min=1, max=256)),
        vol.Optional("password"): vol.All(str, vol.Length(max=256)),
        vol.Optional("retain", default=False): bool,
    }
)


def _url(value: Any) -> str:
    text = str(value)
    if urlsplit(text).scheme not in ("http", "https") or not urlsplit(text).hostname:
        raise vol.Invalid("expected an http:// or https:// URL")
    return text


HTTP_SCHEMA = vol.Schema(
    {
        vol.Required("url"): _url,
        vol.Optional("method", default="POST"): vol.In(["POST", "PUT"]),
        vol.Optional("headers", default={}): {str: str},
        vol.Optional("timeout", default=5.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=60)
        ),
        vol.Optional("verify_ssl", default=True): bool,
        # A CA file to trust for an https server's own certificate; the system's by default.
        vol.Optional("ca_file"): vol.IsFile(msg="not a readable file"),
    }
)
#: A resource's way in and out: ``mqtt`` and/or ``http``; ``payloads`` replaces the JSON
#: command of an action by a plain payload (``{open_door: "OPEN"}``).
TRANSPORT_KEYS: dict[Any, Any] = {
    vol.Optional("mqtt"): MQTT_SCHEMA,
    vol.Optional("http"): HTTP_SCHEMA,
    vol.Optional("payloads", default={}): {str: str},
}


class Transport:
    """Sends a resource's commands and hands its incoming MQTT states to ``on_message``."""

    def __init__(self, resource_id: str, options: Mapping[str, Any]) -> None:
        self.resource_id = resource_id
        self.mqtt: Mapping[str, Any] | None = options.get("mqtt")
        self.http: Mapping[str, Any] | None = options.get("http")
        self.payloads: Mapping[str, str] = options.get("payloads", {})
        self._client: paho.Client | None = None
        self._session: aiohttp.ClientSession | None = None
        self._connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssl: ssl.SSLContext | bool = True

    def _tls(self) -> ssl.SSLContext | bool:
        """How an https endpoint is checked: not at all (``verify_ssl: false``), against
        ``ca_file``, or against the system's CAs."""
        http = self.http or {}
        if not http.get("verify_ssl", True):
            return False
        if http.get("ca_file"):
            try:
                return ssl.create_default_context(cafile=http["ca_file"])
            except (OSError, ssl.SSLError) as err:
                raise ConfigError(
                    f"{self.resource_id}: http.ca_file cannot be read ({type(err).__name__})"
                ) from None
        return True

    async def start(
        self, runtime: RuntimeView, on_message: Callable[[bytes], None] | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        if self.http is not None:
            self._ssl = self._tls()
            self._session = aiohttp.ClientSession()
        if self.mqtt is None:
            return
        broker = dict(runtime.config.section("mqtt") or {})
        host = self.mqtt.get("host", broker.get("host"))
        if not host:
            raise ConfigError(f"{self.resource_id}: mqtt.host is needed without an mqtt: section")
        port = int(self.mqtt.get("port", broker.get("port", 1883)))
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"camera-runtime-linkage-{self.resource_id}-{uuid.uuid4().hex[:6]}",
        )
        username = self.mqtt.get("username", broker.get("username"))
        if username:
            client.username_pw_set(username, self.mqtt.get("password", broker.get("password")))
        state_topic = self.mqtt.get("state_topic")
        loop = self._loop

        def connected(c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                return
            if state_topic and on_message is not None:
                c.subscribe(state_topic, qos=1)  # ready once the broker acknowledged it
            else:
                loop.call_soon_threadsafe(self._connected.set)

        def subscribed(_c: paho.Client, _u: Any, _m: Any, _r: Any, _p: Any) -> None:
            loop.call_soon_threadsafe(self._connected.set)

        def disconnected(_c: paho.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
            loop.call_soon_threadsafe(self._connected.clear)

        def message(_c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
            if on_message is not None:
                loop.call_soon_threadsafe(on_message, bytes(msg.payload))

        client.on_connect = connected
        client.on_subscribe = subscribed
        client.on_disconnect = disconnected
        client.on_message = message
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.connect_async(host, port)
        client.loop_start()
        self._client = client

    async def wait_connected(self) -> None:
        """Return once the broker connection is up and the state topic subscribed (at once
        without MQTT); callers bound the wait with ``asyncio.timeout``."""
        if self._client is not None:
            await self._connected.wait()

    async def stop(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.disconnect()
            await asyncio.get_running_loop().run_in_executor(None, client.loop_stop)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def payload(self, action: str, body: Mapping[str, Any]) -> bytes:
        """What is sent for ``action``: the configured plain payload, else ``body`` as JSON."""
        if action in self.payloads:
            return self.payloads[action].encode()
        return json.dumps(body, separators=(",", ":")).encode()

    async def send(self, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Send the command on every configured way; ``CameraRuntimeError`` when one fails."""
        if self.mqtt is None and self.http is None:
            raise CameraRuntimeError(f"{self.resource_id}: no mqtt or http to reach it")
        data = self.payload(action, body)
        sent: dict[str, Any] = {}
        if self.mqtt is not None and self.mqtt.get("topic"):
            sent["mqtt"] = await self._publish(self.mqtt["topic"], data)
        if self.http is not None:
            sent["http"] = await self._post(data, action in self.payloads)
        return sent

    async def _publish(self, topic: str, data: bytes) -> str:
        client = self._client
        if client is None or not self._connected.is_set():
            raise CameraRuntimeError(f"{self.resource_id}: the MQTT broker is not connected")
        info = client.publish(topic, data, qos=1, retain=bool(self.mqtt and self.mqtt["retain"]))
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise CameraRuntimeError(f"{self.resource_id}: MQTT publish refused ({info.rc})")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, info.wait_for_publish, 5.0)
        if not info.is_published():
            raise CameraRuntimeError(f"{self.resource_id}: the broker did not acknowledge")
        return topic

    async def _post(self, data: bytes, plain: bool) -> int:
        assert self.http is not None
        if self._session is None:
            raise CameraRuntimeError(f"{self.resource_id}: not started (see the log)")
        http = self.http
        host = urlsplit(http["url"]).hostname
        headers = {"Content-Type": "text/plain" if plain else "application/json", **http["headers"]}
        try:
            async with self._session.request(
                http["method"],
                http["url"],
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=http["timeout"]),
                ssl=self._ssl,
            ) as response:
                if response.status >= 300:
                    raise CameraRuntimeError(
                        f"{self.resource_id}: HTTP {response.status} from {host}"
                    )
                return response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CameraRuntimeError(
                f"{self.resource_id}: cannot reach {host} ({type(err).__name__})"
            ) from None


class ReachedResource(Action):
    """A linked resource reached through its ``Transport`` (its options' ``mqtt``, ``http``,
    ``payloads``); as a source, its MQTT states arrive at ``on_state``."""

    def __init__(self, options: Mapping[str, Any], resource_id: str = "", name: str = "") -> None:
        super().__init__(options, resource_id, name)
        self.transport = Transport(resource_id, options)
        self.context: ActionContext | None = None

    async def start(self, context: ActionContext) -> None:
        self.context = context
        await self.transport.start(context.runtime, self.on_state)

    async def stop(self) -> None:
        await self.transport.stop()

    def on_state(self, payload: bytes) -> None:
        """A message on the resource's ``state_topic`` (on the loop); ignored by default."""


__all__ = ["HTTP_SCHEMA", "MQTT_SCHEMA", "TRANSPORT_KEYS", "ReachedResource", "Transport"]
