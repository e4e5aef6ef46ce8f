"""The route table (every path with its auth policy) and the thin handlers for the runtime's
resources: device, channels and their controls, snapshots, events, config, the web UI's files.

Handlers parse, call a Runtime method, serialise. Errors are raised and become JSON in one
place (``errors.error_middleware``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from ..config_yaml import parse_yaml
from ..exceptions import ConfigError, NotFoundError
from ..history import DEFAULT_LIMIT, MAX_LIMIT
from ..live import MAX_PICTURE_SIDE
from ..model import ChannelStatus
from ..security.stream_access import read as read_grant
from . import account, linkage, mjpeg, openapi, recordings, stitching, ws
from .auth import STREAM_ACCESS, Policy, add_route, audit, identity
from .errors import ApiError
from .keys import RUNTIME, SECURITY
from .parsing import (
    field,
    parse_bool,
    parse_int,
    parse_time,
    read_json_object,
)
from .ptz import setup_ptz_routes

_LOGGER = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
REDACTED = "**REDACTED**"
#: Config keys whose values are secrets, matched on ``_``-separated words.
_SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|pass|secret|token|api_?key|credentials?|private_key|authorization)($|_)",
    re.I,
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.I)
#: A config document with more nodes than this is refused before validation (YAML aliases can
#: make a small document expand into billions of nodes).
MAX_CONFIG_NODES = 100_000


def _channel(request: web.Request) -> ChannelStatus:
    """The status of the channel the path names (404 ``channel_not_found`` otherwise)."""
    return request.app[RUNTIME].channel_status(request.match_info["channel_id"])


async def device(request: web.Request) -> web.Response:
    """Manual 9.1 basic information."""
    return web.json_response(request.app[RUNTIME].device_info())


async def channels(request: web.Request) -> web.Response:
    return web.json_response(request.app[RUNTIME].channel_statuses())


async def channel(request: web.Request) -> web.Response:
    return web.json_response(_channel(request))


async def set_arming(request: web.Request) -> web.Response:
    """Arm or disarm a channel: a disarmed channel raises no events."""
    target = _channel(request)["id"]
    body = await read_json_object(request, allowed={"armed"})
    runtime = request.app[RUNTIME]
    armed = field(body, "armed", bool)
    await runtime.set_armed(target, armed)
    audit(request, "channel %r %s", target, "armed" if armed else "disarmed")
    return web.json_response(runtime.channel_status(target))


async def _plugin_change(
    request: web.Request, key: str, code: str, noun: str
) -> tuple[ChannelStatus, str, bool | None, dict[str, Any] | None]:
    """The channel, the plugin kind and the change a request names for one of the channel's
    plugins (its status' ``key``: ``detectors``, ``image``): ``{"enabled", "options"}``;
    ``code`` and ``noun`` name the plugin in errors."""
    target = _channel(request)
    kind = request.match_info["kind"]
    if kind not in target[key]:  # type: ignore[literal-required]
        raise ApiError(404, code, f"channel {target['id']!r} has no {kind!r} {noun}")
    body = await read_json_object(request, allowed={"enabled", "options"})
    if not body:
        raise ApiError(400, "bad_request", "give 'enabled', 'options' or both")
    enabled = field(body, "enabled", bool) if "enabled" in body else None
    options = field(body, "options", dict) if "options" in body else None
    return target, kind, enabled, options


async def _set_plugin(request: web.Request, key: str, code: str, noun: str) -> web.Response:
    """Switch one of a channel's plugins on or off and/or change some of its options
    (``_plugin_change``); ``noun`` names it in the audit log too."""
    target, kind, enabled, options = await _plugin_change(request, key, code, noun)
    runtime = request.app[RUNTIME]
    change = runtime.set_detector if key == "detectors" else runtime.set_stage
    await change(target["id"], kind, enabled=enabled, options=options)
    audit(
        request,
        f"channel %r {noun} %r changed (enabled: %r, options: %r)",
        target["id"],
        kind,
        enabled,
        sorted(options or ()),
    )
    return web.json_response(runtime.channel_status(target["id"]))


async def set_detector(request: web.Request) -> web.Response:
    """Switch one detector of a channel on or off and/or change some of its options."""
    return await _set_plugin(request, "detectors", "detector_not_found", "detector")


async def set_stage(request: web.Request) -> web.Response:
    """Switch one image stage of a channel on or off and/or change some of its options."""
    return await _set_plugin(request, "image", "image_stage_not_found", "image stage")


async def preview_stage(request: web.Request) -> web.Response:
    """A JPEG of the channel's newest picture as it would be with the change a ``PUT`` of the
    stage would make (the same body, the same checks); nothing is saved or changed."""
    target, kind, enabled, options = await _plugin_change(
        request, "image", "image_stage_not_found", "image stage"
    )
    jpeg = await request.app[RUNTIME].preview_stage(
        target["id"], kind, enabled=enabled, options=options
    )
    return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def set_target_cropping(request: web.Request) -> web.Response:
    """Change some of the channel's target cropping keys (manual 4.10: the third stream's
    window), checked by the config's schema (``422`` names each bad key)."""
    target = _channel(request)["id"]
    body = await read_json_object(request)
    if not body:
        raise ApiError(400, "bad_request", "give one or more of the target cropping's keys")
    runtime = request.app[RUNTIME]
    await runtime.set_target_cropping(target, body)
    audit(request, "channel %r target cropping changed (%s)", target, ", ".join(sorted(body)))
    return web.json_response(runtime.channel_status(target))


async def set_control(request: web.Request) -> web.Response:
    """Set one of the controls a channel declares (its ``controls`` in the status)."""
    target = _channel(request)["id"]
    body = await read_json_object(request, allowed={"value"})
    if "value" not in body:
        raise ApiError(400, "bad_request", "give the control's new 'value'")
    runtime = request.app[RUNTIME]
    key = request.match_info["key"]
    now = await runtime.set_control(target, key, body["value"])
    audit(request, "channel %r control %r set to %.64r", target, key, body["value"])
    # A stitched device's mode or distance rebuilt its channels: the one fronting it now.
    return web.json_response(runtime.channel_status(now))


async def press_control(request: web.Request) -> web.Response:
    """Press one of the buttons a channel declares; answers what the command produced."""
    target = _channel(request)["id"]
    key = request.match_info["key"]
    result = await request.app[RUNTIME].press(target, key)
    audit(request, "channel %r button %r pressed", target, key)
    return web.json_response(result)


async def capture(request: web.Request) -> web.Response:
    """Capture picture: keep a JPEG of the newest frame; 503 while there is none, 409 for a
    stopped channel."""
    target = _channel(request)["id"]
    return web.json_response(await request.app[RUNTIME].capture(target), status=201)


async def uploads(request: web.Request) -> web.Response:
    """Each upload target's state (manual 5.1.2 FTP, 5.1.3 NAS)."""
    return web.json_response({"targets": request.app[RUNTIME].upload_status()})


async def test_upload(request: web.Request) -> web.Response:
    """The manual's *Test*: reach an upload target now (its answer, not an HTTP error)."""
    target = request.match_info["target_id"]
    return web.json_response(await request.app[RUNTIME].test_upload(target))


async def add_channel(request: web.Request) -> web.Response:
    """Add a channel (the body is one entry of the config's ``channels``) and start it."""
    body = await read_json_object(request)
    added = await request.app[RUNTIME].add_channel(body)
    audit(request, "channel %r added", added["id"])
    return web.json_response(added, status=201)


async def remove_channel(request: web.Request) -> web.Response:
    target = _channel(request)["id"]
    await request.app[RUNTIME].remove_channel(target)
    audit(request, "channel %r removed", target)
    return web.Response(status=204)


async def snapshot(request: web.Request) -> web.Response:
    """JPEG of the newest frame (503 ``no_frame`` with ``Retry-After`` before the first; 409
    for a stopped channel), smaller with ``?width=`` and/or ``?height=`` (one alone keeps the
    aspect ratio; 400 ``bad_parameter`` for a value that is not from 1 to the picture's own
    size)."""
    target = _channel(request)["id"]
    width = parse_int("width", request.query.get("width"), 1, MAX_PICTURE_SIDE)
    height = parse_int("height", request.query.get("height"), 1, MAX_PICTURE_SIDE)
    jpeg = await request.app[RUNTIME].snapshot(target, width=width, height=height)
    return web.Response(body=jpeg, content_type="image/jpeg")


async def stream_url(request: web.Request) -> web.Response:
    """A URL that plays one stream without an ``Authorization`` header (``stream_access``):
    for Home Assistant's ``stream``, go2rtc, VLC. Given to an API token, it lives as long as
    the token; to a password or session, ``expires`` says until when."""
    status = _channel(request)
    role = request.match_info["role"]
    if role not in status["streams"]:
        raise NotFoundError(f"channel {status['id']!r} has no {role!r} stream", "stream_not_found")
    caller = identity(request)
    now = time.time()
    access = request.app[SECURITY].stream_url_access(
        caller.user, status["id"], role, caller.token_id, now
    )
    grant = read_grant(access)
    path = f"/api/channels/{status['id']}/streams/{role}.ts"
    url = request.url.with_path(path).with_query({STREAM_ACCESS: access})
    return web.json_response({"url": str(url), "path": url.path_qs, "expires": grant.expires})


async def events(request: web.Request) -> web.Response:
    """Event history, newest first, filtered by channel, type and start time."""
    query = request.query
    since = parse_time("since", query.get("since"))
    until = parse_time("until", query.get("until"))
    limit = parse_int("limit", query.get("limit"), 1, MAX_LIMIT) or DEFAULT_LIMIT
    found = await request.app[RUNTIME].events(
        channel=query.get("channel") or None,
        type=query.get("type") or None,
        since=since,
        until=until,
        active=parse_bool("active", query.get("active")),
        limit=limit,
    )
    return web.json_response({"events": [e.as_dict() for e in found]})


async def event(request: web.Request) -> web.Response:
    found = await request.app[RUNTIME].event(request.match_info["event_id"])
    if found is None:
        raise ApiError(404, "event_not_found", "no such event")
    return web.json_response(found.as_dict())


def redact(value: Any, key: str = "") -> Any:
    """The config with secrets replaced: values of secret-named keys, and credentials in URLs."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED
            if isinstance(k, str) and _SECRET_KEY.search(k) and v not in (None, "")
            else redact(v, str(k))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, key) for v in value]
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", value)
    return value


async def config(request: web.Request) -> web.Response:
    """The running configuration, secrets redacted."""
    return web.json_response(redact(request.app[RUNTIME].effective_config()))


def _count_nodes(data: Any, limit: int) -> int:
    count, stack = 0, [data]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return count


async def validate(request: web.Request) -> web.Response:
    """Check a YAML or JSON config document without applying it; 422 lists every problem."""
    runtime = request.app[RUNTIME]
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "the config must be UTF-8 text") from None

    def check() -> None:
        data = parse_yaml(text, "<request>")
        if not isinstance(data, Mapping):  # an empty document too: there is nothing to check
            raise ConfigError("not a mapping", ["<top>: a configuration is a mapping of sections"])
        if _count_nodes(data, MAX_CONFIG_NODES) > MAX_CONFIG_NODES:
            raise ConfigError("too large", [f"<top>: more than {MAX_CONFIG_NODES} values"])
        runtime.validate_config(data)

    try:
        await asyncio.get_running_loop().run_in_executor(None, check)
    except ConfigError as err:
        return web.json_response({"valid": False, "errors": err.errors}, status=422)
    except (RecursionError, MemoryError):
        errors = ["<top>: the document is nested too deeply"]
        return web.json_response({"valid": False, "errors": errors}, status=422)
    except Exception:  # a schema bug must not turn bad input into a 500
        _LOGGER.exception("config validation failed unexpectedly")
        errors = ["<top>: the document could not be validated"]
        return web.json_response({"valid": False, "errors": errors}, status=422)
    return web.json_response({"valid": True})


STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def _static_response(relative: str) -> web.FileResponse:
    """A file of the web UI. Missing and outside-the-folder look alike (test plan C1)."""
    if "\0" in relative:
        raise ApiError(404, "not_found", "no such resource")
    root = os.path.realpath(STATIC_DIR)
    candidate = os.path.realpath(os.path.join(root, relative))
    if os.path.commonpath([root, candidate]) != root or not os.path.isfile(candidate):
        raise ApiError(404, "not_found", "no such resource")
    headers = {"Cache-Control": "no-cache"}
    # Module scripts are refused under nosniff unless typed as JavaScript: do not depend on
    # the host's /etc/mime.types for that.
    content_type = STATIC_TYPES.get(os.path.splitext(candidate)[1])
    if content_type is not None:
        headers["Content-Type"] = content_type
    return web.FileResponse(candidate, headers=headers)


async def index(request: web.Request) -> web.FileResponse:
    """The web UI (its files are public; everything they show needs a login)."""
    return _static_response("index.html")


async def static_file(request: web.Request) -> web.FileResponse:
    return _static_response(request.match_info["path"])


def setup_routes(app: web.Application) -> None:
    """Every route and its policy. ``/api/events/ws`` comes before ``/api/events/{event_id}``."""
    public, user, operator, admin = (
        Policy.PUBLIC,
        Policy.USER,
        Policy.OPERATOR,
        Policy.ADMINISTRATOR,
    )
    table: list[tuple[str, str, Any, Policy]] = [
        ("GET", "/api/health", account.health, public),
        ("POST", "/api/activate", account.activate, public),
        ("POST", "/api/login", account.login, public),
        ("POST", "/api/logout", account.logout, user),
        ("GET", "/api/session", account.session, user),
        ("PUT", "/api/users/{username}/password", account.change_password, user),
        ("GET", "/api/tokens", account.list_tokens, admin),
        ("POST", "/api/tokens", account.create_token, admin),
        ("DELETE", "/api/tokens/{token_id}", account.delete_token, admin),
        ("GET", "/api/device", device, user),
        ("GET", "/api/channels", channels, user),
        ("POST", "/api/channels", add_channel, admin),
        ("GET", "/api/channels/{channel_id}", channel, user),
        ("DELETE", "/api/channels/{channel_id}", remove_channel, admin),
        ("PUT", "/api/channels/{channel_id}/arming", set_arming, operator),
        ("PUT", "/api/channels/{channel_id}/detectors/{kind}", set_detector, operator),
        ("PUT", "/api/channels/{channel_id}/image/{kind}", set_stage, operator),
        ("POST", "/api/channels/{channel_id}/image/{kind}/preview", preview_stage, operator),
        ("PUT", "/api/channels/{channel_id}/target_cropping", set_target_cropping, operator),
        ("PUT", "/api/channels/{channel_id}/controls/{key}", set_control, operator),
        ("POST", "/api/channels/{channel_id}/controls/{key}", press_control, operator),
        ("GET", "/api/channels/{channel_id}/snapshot.jpg", snapshot, user),
        ("POST", "/api/channels/{channel_id}/capture", capture, operator),
        ("GET", "/api/captures/{capture_id}.jpg", recordings.picture_file, user),
        ("GET", "/api/captures/{capture_id}/thumbnail.jpg", recordings.picture_thumbnail, user),
        ("GET", "/api/search", recordings.search, user),
        ("GET", "/api/uploads", uploads, user),
        ("POST", "/api/uploads/{target_id}/test", test_upload, admin),
        ("GET", "/api/channels/{channel_id}/recordings", recordings.list_recordings, user),
        ("GET", "/api/channels/{channel_id}/record", recordings.recording_status, user),
        ("GET", "/api/channels/{channel_id}/playback.ts", recordings.playback, user),
        ("GET", "/api/channels/{channel_id}/playback.mp4", recordings.playback_mp4, user),
        ("POST", "/api/channels/{channel_id}/record/clip", recordings.record_clip, operator),
        ("POST", "/api/channels/{channel_id}/record/start", recordings.record_start, operator),
        ("POST", "/api/channels/{channel_id}/record/stop", recordings.record_stop, operator),
        ("GET", "/api/recordings/{segment_id}.ts", recordings.segment_file, user),
        ("GET", "/api/recordings/{segment_id}.jpg", recordings.segment_thumbnail, user),
        ("GET", "/api/channels/{channel_id}/pictures", recordings.pictures, user),
        ("GET", "/api/recordings/storage", recordings.storage, user),
        ("GET", "/api/channels/{channel_id}/live.mjpeg", mjpeg.live_mjpeg, user),
        ("GET", "/api/channels/{channel_id}/streams/{role}.ts", mjpeg.live_ts, Policy.STREAM),
        ("GET", "/api/channels/{channel_id}/streams/{role}.mp4", mjpeg.live_mp4, Policy.STREAM),
        ("POST", "/api/channels/{channel_id}/streams/{role}/url", stream_url, user),
        ("GET", "/api/events", events, user),
        ("GET", "/api/events/ws", ws.events_ws, user),
        ("GET", "/api/events/{event_id}", event, user),
        ("GET", "/api/linkage/rules", linkage.list_rules, user),
        ("POST", "/api/linkage/rules", linkage.add_rule, admin),
        ("PUT", "/api/linkage/rules/{rule_id}", linkage.replace_rule, admin),
        ("DELETE", "/api/linkage/rules/{rule_id}", linkage.delete_rule, admin),
        ("GET", "/api/linkage/resources", linkage.resources, user),
        (
            "POST",
            "/api/linkage/resources/{resource}/actions/{action}",
            linkage.run_action,
            operator,
        ),
        ("POST", "/api/linkage/resources/{resource}/input", linkage.resource_input, operator),
        ("GET", "/api/linkage/log", linkage.log, user),
        ("GET", "/api/stitching", stitching.stitching, user),
        ("POST", "/api/stitching/{device_id}/calibrate", stitching.recalibrate, admin),
        ("GET", "/api/stitching/{device_id}/preview.jpg", stitching.preview, user),
        ("GET", "/api/config", config, admin),
        ("POST", "/api/config/validate", validate, admin),
        ("GET", "/api/openapi.json", openapi.openapi_json, user),
        ("GET", "/", index, public),
        ("GET", "/static/{path:.+}", static_file, public),
    ]
    for method, path, handler, policy in table:
        add_route(app, method, path, handler, policy)
    setup_ptz_routes(lambda *route: add_route(app, *route))


__all__ = ["redact", "setup_routes"]
