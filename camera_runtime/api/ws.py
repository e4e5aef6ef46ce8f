"""Push over WebSocket: every event update and every channel change, as JSON text, as it happens.

Clients (the web page, Home Assistant) need no polling: ``{"type": "event", "phase", "event"}``
for events, ``{"type": "channel", "change", "channel", "status"}`` when a channel is added,
removed, or its status changes (arming, detectors, state, and its stats every 10 s).

Each connection has a bounded queue between the event bus and the socket: the bus callback only
enqueues (it never waits on a client), and a client that falls behind loses its oldest updates
and is told so with ``{"type": "overflow", "dropped": n}`` before the next message it gets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from ..model import ChannelUpdate, EventUpdate
from ..security import Revocation
from .auth import identity
from .keys import RUNTIME, SECURITY

_LOGGER = logging.getLogger(__name__)

QUEUE_SIZE = 256
HEARTBEAT = 30.0
MAX_CLIENT_MESSAGE = 4096
#: Close code when the credentials that opened the socket were revoked (a deleted API token, a
#: changed password): like HTTP 401, the client must authenticate again.
CLOSE_REVOKED = 4401

SOCKETS = web.AppKey("camera_runtime.websockets", set[web.WebSocketResponse])


@dataclass
class _Outbox:
    """What one connection still has to send."""

    queue: asyncio.Queue[dict[str, Any]]
    dropped: int = 0

    def push(self, message: dict[str, Any]) -> None:
        """Enqueue without waiting; on a full queue the oldest message makes room."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


async def _send_loop(ws: web.WebSocketResponse, outbox: _Outbox) -> None:
    try:
        while True:
            message = await outbox.queue.get()
            if outbox.dropped:
                dropped, outbox.dropped = outbox.dropped, 0
                await ws.send_str(json.dumps({"type": "overflow", "dropped": dropped}))
            await ws.send_str(json.dumps(message))
    except (ConnectionError, RuntimeError) as err:  # closed under us: the reader ends too
        _LOGGER.debug("event socket send ended: %r", err)


def _is_ping(data: str) -> bool:
    try:
        message = json.loads(data)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "ping"


async def events_ws(request: web.Request) -> web.WebSocketResponse:
    """``GET /api/events/ws[?channel=id]``: push event updates and channel changes."""
    runtime = request.app[RUNTIME]
    only = request.query.get("channel") or None
    if only is not None:
        runtime.channel_status(only)  # 404 for an unknown channel, before the upgrade
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_CLIENT_MESSAGE)
    outbox = _Outbox(asyncio.Queue(maxsize=QUEUE_SIZE))

    def on_update(update: EventUpdate) -> None:
        if only is None or update.event.channel == only:
            outbox.push({"type": "event", **update.as_dict()})

    def on_channel(update: ChannelUpdate) -> None:
        if only is None or update.channel == only:
            outbox.push({"type": "channel", **update.as_dict()})

    caller = identity(request)
    closing: list[asyncio.Task[bool]] = []

    def on_revocation(revocation: Revocation) -> None:
        if caller.revoked_by(revocation) and not closing:
            _LOGGER.info(
                "events socket of %r closed: its credentials were revoked", caller.user.name
            )
            closing.append(
                asyncio.create_task(ws.close(code=CLOSE_REVOKED, message=b"credentials revoked"))
            )

    # Subscribed before the handshake completes: an update published once the client sees the
    # socket open is never missed.
    unsubscribers = [
        runtime.subscribe_events(on_update),
        runtime.subscribe_channels(on_channel),
        request.app[SECURITY].revocations.subscribe(on_revocation),
    ]
    sockets = request.app[SOCKETS]
    sender: asyncio.Task[None] | None = None
    try:
        await ws.prepare(request)
        sockets.add(ws)
        sender = asyncio.create_task(_send_loop(ws, outbox), name="events-ws-send")
        async for message in ws:
            if message.type is WSMsgType.TEXT and _is_ping(message.data):
                outbox.push({"type": "pong"})
    finally:
        for unsubscribe in unsubscribers:
            unsubscribe()
        sockets.discard(ws)
        if sender is not None:
            sender.cancel()
            await asyncio.wait({sender})
        if closing:
            await asyncio.wait(closing)
    return ws


async def _close_sockets(app: web.Application) -> None:
    """``on_shutdown``: close every socket (all at once: each close may wait for its client)
    so a graceful stop does not wait for clients to leave."""
    sockets = app[SOCKETS]
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
        return_exceptions=True,
    )


def setup_ws(app: web.Application) -> None:
    app[SOCKETS] = set[web.WebSocketResponse]()
    app.on_shutdown.append(_close_sockets)  # type: ignore[arg-type]  # aiosignal 1.4 typing


__all__ = ["QUEUE_SIZE", "SOCKETS", "events_ws", "setup_ws"]
