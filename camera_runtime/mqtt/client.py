"""paho-mqtt glue for asyncio: paho's network thread does the socket work, and every callback
is handed to the event loop with ``call_soon_threadsafe``, so the bridge's own state is only
ever touched on the loop.

paho keeps a QoS 1 message it accepted until the broker acknowledges it, and sends it again
(with the DUP flag) after a reconnect, in the original order; reconnects use paho's backoff
(1 s doubling to 30 s). Connecting starts in the background: an unreachable broker never
blocks or fails ``start()``.

The TLS context is built by ``load_tls`` on an executor thread: loading certificate files is
blocking I/O, and Home Assistant (which may embed the runtime) forbids that on its loop.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ..exceptions import ConfigError

_LOGGER = logging.getLogger(__name__)

#: PUBLISH packets paho sends before waiting for PUBACKs (MQTT's receive maximum is 65535;
#: Mosquitto's default max_inflight_messages is 20 per client for outgoing messages only).
MAX_INFLIGHT = 100
RECONNECT_MIN, RECONNECT_MAX = 1, 30
#: How long ``stop()`` waits for paho's thread (it sleeps at most 1 s between checks).
STOP_TIMEOUT = 3.0
#: After a reconnect, how long the messages of the previous connection (paho sends them again)
#: may take to be acknowledged before the connection is reported anyway.
RESEND_TIMEOUT = 10.0


def _tls_context(tls: Mapping[str, Any]) -> ssl.SSLContext:
    """What paho's ``tls_set`` would build: broker certificate required and checked against
    ``ca_certs`` (else the system's CAs), optional client certificate; ``insecure`` skips only
    the host name check."""
    # Not ``create_default_context``: since Python 3.13 it adds VERIFY_X509_STRICT, which
    # refuses certificates paho (and Mosquitto's own clients) accept, e.g. without an
    # authority key identifier.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, host name checked
    if tls.get("certfile"):
        context.load_cert_chain(tls["certfile"], tls.get("keyfile"))
    if tls.get("ca_certs"):
        context.load_verify_locations(tls["ca_certs"])
    else:
        context.load_default_certs()
    if tls.get("insecure", False):
        context.check_hostname = False
    return context


async def load_tls(config: Mapping[str, Any]) -> ssl.SSLContext | None:
    """The TLS context for the ``mqtt.tls`` block (None without one), built off the event
    loop; unreadable or invalid files are a ``ConfigError``."""
    tls = config.get("tls")
    if tls is None:
        return None
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, _tls_context, tls)
    except (OSError, ssl.SSLError, ValueError) as err:
        message = f"mqtt.tls: cannot load the certificates: {err}"
        raise ConfigError(message, [message]) from err


class MqttClient:
    """One connection to the broker, with a last will and automatic reconnects.

    ``on_connect(connected: bool)``, ``on_ack(mid)`` and ``on_message(topic, payload, retain)``
    are called on the event loop; ``retain`` is True for a message the broker kept and sent
    because we subscribed (not for a live one). ``ssl_context`` (from ``load_tls``) turns TLS on. ``publish`` may be called from the loop at any time: paho queues
    QoS 1 messages while disconnected.

    A reconnect is reported (``on_connect(True)``, ``connected``) only once the broker has
    acknowledged every message published before it: paho sends those again from its own
    thread while ``on_connect`` runs on the loop, so a state published on reconnect could reach
    the broker before an older one, which would then stay retained (a stale ON, a cleared
    channel's topic back). Until then nothing new is published.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        client_id: str,
        will_topic: str,
        on_connect: Callable[[bool], None],
        on_ack: Callable[[int], None],
        on_message: Callable[[str, bytes, bool], None],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._config = config
        self._on_connect_cb = on_connect
        self._on_ack_cb = on_ack
        self._on_message_cb = on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self._ever_connected = False
        self._failure_logged = False
        self._stopping = False
        #: QoS 1 message ids published and not acknowledged yet
        self._unacked: set[int] = set()
        #: after a reconnect: the ids of the previous connection still to be acknowledged
        self._resending: set[int] | None = None
        self._resend_timer: asyncio.TimerHandle | None = None
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        if config.get("username") is not None:
            client.username_pw_set(config["username"], config.get("password"))
        if ssl_context is not None:
            client.tls_set_context(ssl_context)
        client.will_set(will_topic, "offline", qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN, RECONNECT_MAX)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.on_connect = self._paho_connect
        client.on_connect_fail = self._paho_connect_fail
        client.on_disconnect = self._paho_disconnect
        client.on_publish = self._paho_publish
        client.on_message = self._paho_message
        self._client = client

    @property
    def where(self) -> str:
        return f"{self._config['host']}:{self._config['port']}"

    # ------------------------------------------------------------------ control (loop)

    def start(self) -> None:
        """Start connecting in the background; returns at once."""
        self._loop = asyncio.get_running_loop()
        self._client.connect_async(
            self._config["host"], self._config["port"], self._config["keepalive"]
        )
        self._client.loop_start()

    async def stop(self) -> None:
        """Disconnect cleanly (no last will) and stop paho's thread, within ``STOP_TIMEOUT``."""
        self._stopping = True
        self._stop_waiting_for_resends()
        self._client.disconnect()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, self._client.loop_stop), STOP_TIMEOUT)
        except TimeoutError:
            _LOGGER.warning("MQTT: the network thread did not stop within %.0f s", STOP_TIMEOUT)
        self.connected = False

    def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False
    ) -> int | None:
        """Queue a message; returns its message id (for ``on_ack``), or None when paho's
        queue refused it (a message id still in use)."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == paho.MQTT_ERR_QUEUE_SIZE:
            return None
        if qos > 0:
            self._unacked.add(info.mid)
        return int(info.mid)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self._client.subscribe(topic, qos)

    # ------------------------------------------------------------------ paho thread

    def _hand(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    def _paho_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            if not self._failure_logged:
                self._failure_logged = True
                _LOGGER.error("MQTT broker %s refused the connection: %s", self.where, reason)
            return
        self._hand(self._reconnected)

    def _paho_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        if not self._failure_logged:
            self._failure_logged = True
            # paho calls this inside its ``except OSError``: the reason (refused, timed out,
            # certificate verify failed...) is only there.
            err = sys.exc_info()[1]
            _LOGGER.warning(
                "MQTT broker %s is unreachable (%s); retrying in the background",
                self.where,
                err or "no answer",
            )

    def _paho_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._hand(self._connected, False)

    def _paho_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        self._hand(self._acked, mid)

    def _paho_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers refuse such topics; never let one kill the thread
            return
        self._hand(self._on_message_cb, topic, bytes(message.payload), bool(message.retain))

    # ------------------------------------------------------------------ loop

    def _reconnected(self) -> None:
        """The broker accepted the connection: report it once the messages of the previous
        one are acknowledged (at once when there are none)."""
        if self.connected or self._stopping or self._resending is not None:
            return
        if not self._unacked:
            self._connected(True)
            return
        self._resending = set(self._unacked)
        assert self._loop is not None
        self._resend_timer = self._loop.call_later(RESEND_TIMEOUT, self._resend_timed_out)

    def _resend_timed_out(self) -> None:
        if self._resending is None:
            return
        _LOGGER.warning(
            "MQTT: %d message(s) of the previous connection not acknowledged within %.0f s "
            "of the reconnect; going on",
            len(self._resending),
            RESEND_TIMEOUT,
        )
        self._resent()

    def _resent(self) -> None:
        self._stop_waiting_for_resends()
        self._connected(True)

    def _stop_waiting_for_resends(self) -> None:
        self._resending = None
        if self._resend_timer is not None:
            self._resend_timer.cancel()
            self._resend_timer = None

    def _acked(self, mid: int) -> None:
        self._unacked.discard(mid)
        self._on_ack_cb(mid)
        resending = self._resending
        if resending is not None:
            resending.discard(mid)
            if not resending:
                self._resent()

    def _connected(self, connected: bool) -> None:
        if not connected:  # lost (again, maybe while waiting for the resends)
            self._stop_waiting_for_resends()
        if connected == self.connected or self._stopping:
            return
        self.connected = connected
        if connected:
            _LOGGER.info(
                "MQTT connected to %s%s", self.where, " again" if self._ever_connected else ""
            )
            self._ever_connected = True
            self._failure_logged = False
        else:
            _LOGGER.warning("MQTT connection to %s lost; reconnecting", self.where)
        self._on_connect_cb(connected)


__all__ = ["MqttClient", "load_tls"]
