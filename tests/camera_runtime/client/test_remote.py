"""RemoteClient against a real runtime and ApiServer on 127.0.0.1: requests, errors, push
updates, the state mirror, live view, and reconnection after the runtime goes away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from camera_runtime.api import ApiServer
from camera_runtime.api.ws import QUEUE_SIZE
from camera_runtime.client import (
    CannotConnectError,
    InvalidAuthError,
    NotActivatedError,
    RemoteClient,
    RequestError,
)
from camera_runtime.exceptions import AuthError, StreamUnavailableError
from camera_runtime.model import ChannelChange, ChannelUpdate, Event, EventPhase, EventUpdate
from tests.ports import free_port
from tests.runtime_server import Served, ServeFactory

from .helpers import PASSWORD, decode, motion_channel, next_matching


def _watch(client: RemoteClient) -> tuple[asyncio.Queue[Exception], asyncio.Queue[bool]]:
    """Queues of the client's errors and connection states, as they are reported."""
    errors: asyncio.Queue[Exception] = asyncio.Queue()
    states: asyncio.Queue[bool] = asyncio.Queue()
    client.subscribe_errors(errors.put_nowait)
    client.subscribe_connection(states.put_nowait)
    return errors, states


def _client(session: aiohttp.ClientSession, served: Served, **kwargs: Any) -> RemoteClient:
    kwargs.setdefault("token", served.token)
    kwargs.setdefault("backoff_start", 0.1)
    return RemoteClient(session, "127.0.0.1", served.port, **kwargs)


async def test_requests_with_a_token(served: Served, session: aiohttp.ClientSession) -> None:
    client = _client(session, served)
    health = await client.health()
    assert health["activated"] is True
    info = await client.device_info()
    assert info["device_id"] == served.runtime.device_id
    assert info["device_name"] == "Test NVR"
    channels = await client.fetch_channels()
    assert [c["id"] for c in channels] == ["cam1"]
    assert channels[0]["detectors"]["motion"]["options"]["sensitivity"] == 80


async def test_password_login_mints_and_deletes_a_token(
    served: Served, session: aiohttp.ClientSession
) -> None:
    """Digest (not basic) over the network: what a host on another machine has to use."""
    client = RemoteClient(session, "127.0.0.1", served.port, password=PASSWORD)
    assert (await client.device_info())["device_id"] == served.runtime.device_id
    token = await client.create_token("Home Assistant (test)")
    assert token["token"].startswith("crt_")
    by_token = RemoteClient(session, "127.0.0.1", served.port, token=token["token"])
    assert (await by_token.device_info())["device_id"] == served.runtime.device_id
    await client.delete_token(token["id"])
    with pytest.raises(InvalidAuthError):
        await by_token.device_info()


async def test_wrong_password_and_token_are_refused(
    served: Served, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(InvalidAuthError):
        await RemoteClient(session, "127.0.0.1", served.port, password="Wr0ng-pass!").device_info()
    bad = RemoteClient(session, "127.0.0.1", served.port, token="crt_not-a-token")
    with pytest.raises(InvalidAuthError):
        await bad.device_info()
    with pytest.raises(InvalidAuthError):
        await bad.start()
    assert not bad.connected


async def test_a_locked_out_address_is_an_auth_error(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    served = await serve(
        {
            "security": {"illegal_login_lock": {"attempts": 3}},
            "zeroconf": {"enabled": False},
            "channels": [motion_channel()],
        }
    )
    client = RemoteClient(session, "127.0.0.1", served.port, password="Wr0ng-pass!")
    for _ in range(3):
        with pytest.raises(InvalidAuthError):
            await client.device_info()
    with pytest.raises(AuthError) as locked:
        await client.device_info()
    assert locked.value.translation_key == "login_locked"


async def test_not_activated_runtime(serve: ServeFactory, session: aiohttp.ClientSession) -> None:
    served = await serve(activate=False)
    client = RemoteClient(session, "127.0.0.1", served.port, token="crt_anything")
    with pytest.raises(NotActivatedError) as err:
        await client.start()
    assert "activate" in str(err.value)
    assert err.value.translation_key == "not_activated"
    with pytest.raises(NotActivatedError):
        await client.device_info()


async def test_unreachable_and_not_a_runtime(session: aiohttp.ClientSession) -> None:
    client = RemoteClient(session, "127.0.0.1", free_port(), token="crt_x", request_timeout=2)
    with pytest.raises(CannotConnectError) as err:
        await client.start()
    assert err.value.translation_key == "cannot_connect"

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="<html>a router</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/api/health", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        other = RemoteClient(session, "127.0.0.1", port, token="crt_x")
        with pytest.raises(CannotConnectError, match="camera_runtime"):
            await other.health()
        with pytest.raises(RequestError) as missing:
            await other.device_info()
        assert missing.value.status == 404
    finally:
        await runner.cleanup()


async def test_push_updates_keep_the_mirror_current(
    served: Served, session: aiohttp.ClientSession
) -> None:
    client = _client(session, served)
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    channels: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    states: list[bool] = []
    client.subscribe_events(events.put_nowait)
    client.subscribe_channels(channels.put_nowait)
    client.subscribe_connection(states.append)
    await client.start()
    try:
        assert states == [True]
        assert client.connected
        assert set(client.channels) == {"cam1"}

        new = await next_matching(events, lambda u: u["phase"] == "new")
        assert new["event"]["type"] == "motion"
        assert new["event"]["channel"] == "cam1"
        assert [e["id"] for e in client.active_events("cam1", "motion")] == [new["event"]["id"]]
        end = await next_matching(
            events, lambda u: u["phase"] == "end" and u["event"]["id"] == new["event"]["id"]
        )
        assert end["event"]["end"] is not None
        assert client.active_events("cam1") == []

        # A command: applied to the mirror at once, and pushed by the runtime too.
        status = await client.set_armed("cam1", False)
        assert status["armed"] is False
        assert client.channels["cam1"]["armed"] is False
        assert served.runtime.channel("cam1").armed is False
        pushed = await next_matching(channels, lambda u: u["status"]["armed"] is False)
        assert pushed["change"] == "changed"
        # Disarmed: the next movement raises no event (checked through the runtime's bus).
        status = await client.set_detector("cam1", "motion", options={"sensitivity": 40})
        assert status["detectors"]["motion"]["options"]["sensitivity"] == 40
        status = await client.set_detector("cam1", "motion", enabled=False)
        assert status["detectors"]["motion"]["enabled"] is False
    finally:
        await client.close()
    assert states == [True, False]


async def test_command_errors_carry_the_api_code(
    served: Served, session: aiohttp.ClientSession
) -> None:
    client = _client(session, served)
    with pytest.raises(RequestError) as unknown:
        await client.set_armed("nope", True)
    assert (unknown.value.status, unknown.value.translation_key) == (404, "channel_not_found")
    assert unknown.value.is_client_error
    with pytest.raises(RequestError) as bad:
        await client.set_detector("cam1", "motion", options={"sensitivity": 500})
    assert bad.value.translation_key == "invalid_config"
    assert "sensitivity" in bad.value.message or bad.value.status == 422
    assert served.runtime.channel("cam1").detectors["motion"].options["sensitivity"] == 80
    with pytest.raises(RequestError) as no_detector:
        await client.set_detector("cam1", "line_crossing", enabled=True)
    assert no_detector.value.translation_key == "detector_not_found"


async def test_web_url_is_the_runtime_web_page(
    served: Served, session: aiohttp.ClientSession
) -> None:
    client = _client(session, served)
    assert client.web_url == f"http://127.0.0.1:{served.port}/"
    async with session.get(client.web_url) as page:
        assert page.status == 200 and page.content_type == "text/html"


async def test_pictures(served: Served, session: aiohttp.ClientSession) -> None:
    client = _client(session, served)
    channel = served.runtime.channel("cam1")
    async with asyncio.timeout(10):
        while channel.slot.frame is None:  # noqa: ASYNC110 - a frame slot offers no awaitable
            await asyncio.sleep(0.01)
    jpeg = await client.snapshot("cam1")
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert decode(jpeg).shape == (120, 160, 3)
    assert decode(await client.snapshot("cam1", width=80)).shape == (60, 80, 3)
    assert decode(await client.snapshot("cam1", height=30)).shape == (30, 40, 3)
    assert decode(await client.snapshot("cam1", 100, 50)).shape == (50, 100, 3)
    with pytest.raises(RequestError) as too_large:
        await client.snapshot("cam1", width=161)
    assert (too_large.value.status, too_large.value.translation_key) == (400, "bad_parameter")
    capture = await client.capture("cam1")
    assert capture["channel"] == "cam1" and capture["size"] > 0
    assert capture["url"] == f"/api/captures/{capture['id']}.jpg"
    # One search: the remote client's answer is the local runtime's.
    found = await client.search("cam1", kind="manual", within=("pictures", "events"))
    assert [p["id"] for p in found["pictures"]] == [capture["id"]]
    assert found == await served.runtime.search(
        "cam1", kind="manual", within=("pictures", "events")
    )
    frames = []
    async with contextlib.aclosing(client.mjpeg("cam1")) as stream:
        async for picture in stream:
            frames.append(picture)
            if len(frames) == 3:
                break
    assert all(f[:2] == b"\xff\xd8" for f in frames)
    assert len(set(frames)) == 3  # three different pictures of a moving scene
    with pytest.raises(RequestError) as missing:
        async for _ in client.mjpeg("nope"):
            pass  # pragma: no cover - never reached
    assert missing.value.translation_key == "channel_not_found"


async def test_no_frame_yet(serve: ServeFactory, session: aiohttp.ClientSession) -> None:
    dead = motion_channel()
    dead["source"] = {"type": "rtsp", "url": f"rtsp://127.0.0.1:{free_port()}/x"}
    dead["detectors"] = {}
    served = await serve({"zeroconf": {"enabled": False}, "channels": [dead]})
    client = _client(session, served)
    with pytest.raises(RequestError) as err:
        await client.snapshot("cam1")
    assert (err.value.status, err.value.translation_key) == (503, "no_frame")
    with pytest.raises(RequestError) as err:
        await client.capture("cam1")
    assert err.value.translation_key == "no_frame"


async def test_reconnects_after_the_runtime_restarts(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    served = await serve()
    port, folder = served.port, served.data_dir
    client = _client(session, served)
    states: asyncio.Queue[bool] = asyncio.Queue()
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.subscribe_connection(states.put_nowait)
    client.subscribe_events(events.put_nowait)
    await client.start()
    try:
        assert await states.get() is True
        new = await next_matching(events, lambda u: u["phase"] == "new")
        # The runtime goes away while the event is active...
        await served.stop()
        async with asyncio.timeout(10):
            assert await states.get() is False
        assert not client.connected
        # ... and comes back (same data folder: same device, same token) with another channel.
        data = {
            "device": {"name": "Test NVR"},
            "zeroconf": {"enabled": False},
            "channels": [motion_channel(), motion_channel("cam2", "Garden")],
        }
        again = await serve(data, port=port, data_dir=folder)
        assert again.runtime.device_id == served.runtime.device_id
        async with asyncio.timeout(15):
            assert await states.get() is True
        assert set(client.channels) == {"cam1", "cam2"}
        # The event that was active when the link dropped was ended by the stop: published.
        ended = await next_matching(
            events, lambda u: u["phase"] == "end" and u["event"]["id"] == new["event"]["id"]
        )
        assert ended["event"]["end"] is not None
        assert all(e["id"] != new["event"]["id"] for e in client.active_events())
    finally:
        await client.close()


async def test_a_deleted_token_is_reported_while_reconnecting(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    served = await serve()
    port, folder = served.port, served.data_dir
    client = _client(session, served)
    errors, states = _watch(client)
    await client.start()
    try:
        assert await states.get() is True
        await served.server.security.delete_token(served.token_id)
        await served.stop()
        assert await states.get() is False
        await serve(port=port, data_dir=folder)
        async with asyncio.timeout(15):
            while not isinstance(error := await errors.get(), InvalidAuthError):
                pass
        assert isinstance(client.last_error, InvalidAuthError)
        assert not client.connected
        assert str(error)
    finally:
        await client.close()


async def test_start_needs_a_token(served: Served, session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="token"):
        await RemoteClient(session, "127.0.0.1", served.port, password=PASSWORD).start()
    with pytest.raises(ValueError, match="token or a password"):
        RemoteClient(session, "127.0.0.1", served.port)


def _flood_then(served: Served, *updates: EventUpdate) -> None:
    """More channel pushes than the socket's queue holds, then ``updates``, all in one loop
    turn: the runtime drops the oldest, tells the client ``overflow`` and then sends the rest,
    so the client resyncs while ``updates`` wait in the socket behind it."""
    status = served.runtime.channel("cam1").status()
    for _ in range(QUEUE_SIZE + 20):
        served.runtime.channel_bus.publish(ChannelUpdate(ChannelChange.CHANGED, "cam1", status))
    for update in updates:
        served.runtime.bus.publish(update)


async def _phases(served: Served, seen: asyncio.Queue[dict[str, Any]], event_id: str) -> list[str]:
    """The phases of ``event_id`` published from now until a marker event pushed once the
    first one arrived: the socket keeps its order, so once the marker arrived every push
    before it did too."""
    first = await next_matching(seen, lambda u: u["event"]["id"] == event_id)
    marker = Event("cam1", "video_loss", time.time())
    served.runtime.bus.publish(EventUpdate(EventPhase.NEW, marker, None))
    phases = [first["phase"]]
    async with asyncio.timeout(15):
        while (update := await seen.get())["event"]["id"] != marker.id:
            phases.append(update["phase"])
    served.runtime.bus.publish(EventUpdate(EventPhase.END, replace(marker, end=time.time()), None))
    return phases


async def test_overflow_resync_publishes_each_phase_once(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    """The resync after an overflow publishes ``new``/``end`` itself; the same pushes queued
    behind the overflow must not fire them again, nor bring the ended event back."""
    quiet = motion_channel()
    quiet["detectors"] = {}
    served = await serve({"zeroconf": {"enabled": False}, "channels": [quiet]})
    client = _client(session, served)
    seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_event(update: dict[str, Any]) -> None:
        if update["event"]["type"] == "motion" or update["phase"] == "new":
            seen.put_nowait(update)

    client.subscribe_events(on_event)
    await client.start()
    try:
        event = Event("cam1", "motion", time.time(), data={"areas": [1]})
        _flood_then(served, EventUpdate(EventPhase.NEW, event, None))
        assert await _phases(served, seen, event.id) == ["new"]
        assert [e["id"] for e in client.active_events("cam1", "motion")] == [event.id]
        _flood_then(
            served,
            EventUpdate(EventPhase.UPDATE, event, None),
            EventUpdate(EventPhase.END, replace(event, end=time.time()), None),
        )
        assert await _phases(served, seen, event.id) == ["end"]
        assert client.active_events("cam1", "motion") == []
    finally:
        await client.close()


async def test_a_revoked_socket_is_reported_at_once(
    served: Served, session: aiohttp.ClientSession
) -> None:
    """The runtime closes the socket of a deleted token (close code 4401): the client tries
    again at once, not after its backoff (30 s here), and reports the refusal."""
    client = _client(session, served, backoff_start=30.0)
    errors, states = _watch(client)
    await client.start()
    try:
        assert await states.get() is True
        await served.server.security.delete_token(served.token_id)
        async with asyncio.timeout(5):
            assert await states.get() is False
            error = await errors.get()
        assert isinstance(error, InvalidAuthError)
        assert not client.connected
    finally:
        await client.close()


def _quiet() -> dict[str, Any]:
    """One synthetic channel without detectors: only the events a test publishes happen."""
    quiet = motion_channel()
    quiet["detectors"] = {}
    return {"zeroconf": {"enabled": False}, "channels": [quiet]}


async def test_a_long_event_stays_active_across_a_reconnect(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    """An event older than hundreds of newer (ended) ones is still found active after a
    reconnection: no false ``end`` is published, the mirror keeps it."""
    served = await serve(_quiet())
    client = _client(session, served)
    seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    states: asyncio.Queue[bool] = asyncio.Queue()
    client.subscribe_events(seen.put_nowait)
    client.subscribe_connection(states.put_nowait)
    await client.start()
    try:
        assert await states.get() is True
        long = Event("cam1", "video_loss", time.time() - 3600)
        served.runtime.bus.publish(EventUpdate(EventPhase.NEW, long, None))
        await next_matching(seen, lambda u: u["event"]["id"] == long.id)
        for n in range(250):
            short = Event("cam1", "motion", time.time() - 3000 + n, data={"areas": [1]})
            served.runtime.bus.publish(EventUpdate(EventPhase.NEW, short, None))
            served.runtime.bus.publish(
                EventUpdate(EventPhase.END, replace(short, end=short.start + 1), None)
            )
            await asyncio.sleep(0)  # let the socket drain now and then (not a wait)
        await served.runtime.history.flush()
        # The API goes away and comes back; the runtime (and the event) keeps going.
        await served.server.stop()
        async with asyncio.timeout(10):
            assert await states.get() is False
        served.server = ApiServer(served.runtime, "127.0.0.1", served.port)
        await served.server.start()
        async with asyncio.timeout(15):
            assert await states.get() is True
        assert [e["id"] for e in client.active_events("cam1", "video_loss")] == [long.id]
        phases = []
        while not seen.empty():
            update = seen.get_nowait()
            if update["event"]["id"] == long.id:
                phases.append(update["phase"])
        assert phases == []  # neither a false end nor a second new
    finally:
        await client.close()


async def test_an_end_whose_start_was_lost_is_not_published(
    serve: ServeFactory, session: aiohttp.ClientSession
) -> None:
    """An event starts, its ``new`` is dropped in an overflow, and it ends before the resync:
    the client never saw it start, so it publishes nothing of it (not a lone ``end``)."""
    served = await serve(_quiet())
    client = _client(session, served)
    seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.subscribe_events(seen.put_nowait)
    await client.start()
    try:
        event = Event("cam1", "motion", time.time(), data={"areas": [1]})
        marker = Event("cam1", "video_loss", time.time())
        served.runtime.bus.publish(EventUpdate(EventPhase.NEW, event, None))
        _flood_then(
            served,
            EventUpdate(EventPhase.UPDATE, event, None),
            EventUpdate(EventPhase.END, replace(event, end=time.time()), None),
            EventUpdate(EventPhase.NEW, marker, None),
            EventUpdate(EventPhase.END, replace(marker, end=time.time()), None),
        )
        # The socket keeps its order: once the marker arrived, everything before it did too.
        # (It ended before the resync read the state: its ``new`` comes from the socket only.)
        phases = []
        async with asyncio.timeout(15):
            while (update := await seen.get())["event"]["id"] != marker.id:
                phases.append((update["event"]["id"], update["phase"]))
        assert (event.id, "end") not in phases and (event.id, "update") not in phases
        assert phases == []
        assert client.active_events("cam1", "motion") == []
    finally:
        await client.close()


async def test_a_remote_client_plays_stream_urls_and_hands_no_stream_bytes() -> None:
    """A runtime over HTTP serves its streams itself: its client gives URLs, not bytes."""
    async with aiohttp.ClientSession() as session:
        client = RemoteClient(session, "127.0.0.1", free_port(), token="t")
        assert client.serves_streams and not client.opens_streams
        with pytest.raises(StreamUnavailableError, match="play its stream URL"):
            await client.open_stream("cam1")
