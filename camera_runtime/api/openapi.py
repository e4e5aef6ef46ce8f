"""The OpenAPI 3.1 document of the API, built from the live router so it cannot drift.

Every route the app serves appears (plugin routes from ``extend_api`` too, with a generic
operation); the routes documented here get their parameters, bodies and response schemas.
Error bodies are always the ``Error`` schema. Schemathesis (test plan B4) runs on this document.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .. import __version__
from ..capabilities import KEY
from ..config import CHANNEL_ID_PATTERN, STREAM_ROLES
from ..history import DEFAULT_LIMIT, MAX_LIMIT
from ..live import MAX_PICTURE_SIDE
from ..model import EVENT_ID
from .auth import SESSION_COOKIE, STREAM_ACCESS, Policy, route_policy

#: Filled on first request (the router is frozen by then); a dict so the frozen app is not written.
SPEC = web.AppKey("camera_runtime.openapi", dict[str, Any])

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_S, _I, _N, _B = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}


_UNSAFE_CHARS = "\\x00-\\x1f\\x7f-\\x9f"
_NAME_CHAR = f"[^{_UNSAFE_CHARS}]"
#: What the server's path parameters look like (anything else is 404).
_NAME = r"^[A-Za-z0-9_.-]{1,64}$"
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "channel_id": {"type": "string", "pattern": CHANNEL_ID_PATTERN},
    "event_id": {"type": "string", "pattern": EVENT_ID.pattern},
    "capture_id": {"type": "string", "pattern": EVENT_ID.pattern},
    "token_id": {"type": "string", "pattern": r"^[0-9a-f]{16}$"},
    "segment_id": {"type": "string", "pattern": r"^[0-9]{1,18}$"},
    "target_id": {"type": "string", "pattern": r"^[a-z0-9_]{1,32}$"},
    "device_id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,20}$"},
    "kind": {"type": "string", "pattern": _NAME},
    "key": {"type": "string", "pattern": KEY.pattern},
    "username": {"type": "string", "pattern": _NAME},
    "path": {"type": "string", "pattern": r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,199}$"},
    "role": {"type": "string", "pattern": f"^({'|'.join(STREAM_ROLES)})$"},
    "rule_id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,47}$"},
    "resource": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,47}$"},
    "action": {"type": "string", "pattern": KEY.pattern},
    "number": {"type": "string", "pattern": r"^[0-9]{1,3}$"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: str = "", extra: bool = False, **props: Any) -> dict[str, Any]:
    names = required.split()
    return {
        "type": "object",
        "properties": props,
        "required": names or list(props),
        "additionalProperties": extra,
    }


#: An even number from 32 to 7680, in plain digits: the config's rule for a cropping side.
_EVEN_SIDE = (
    "(3[2468]|[4-9][02468]|[1-9][0-9][02468]|[1-6][0-9]{2}[02468]|7[0-5][0-9][02468]"
    "|76[0-7][02468]|7680)"
)
#: Target cropping's window size, ``WxH``.
_RESOLUTION = {"type": "string", "pattern": f"^{_EVEN_SIDE}x{_EVEN_SIDE}$"}
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_CROPPING: dict[str, Any] = {
    "enabled": _B,
    "stream_type": {"const": "third"},
    "resolution": _RESOLUTION,
    "x": _UNIT,
    "y": _UNIT,
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        "error message",
        True,
        error=_S,
        message=_S,
        attempts_left={
            "type": ["integer", "null"],
            "description": "after a wrong password: attempts before the address is locked",
        },
    ),
    "Health": _obj(status={"const": "ok"}, activated=_B, version=_S),
    "Password": _obj(password=_S),
    "Activated": _obj(activated=_B, username=_S),
    "Login": _obj(username=_S, password=_S),
    "Session": _obj("username level", auth=_S, username=_S, level=_S),
    "LoggedOut": _obj(logged_out=_B),
    "PasswordChange": _obj(old_password=_S, new_password=_S),
    "PasswordChanged": _obj(changed=_B),
    "TokenName": _obj(
        name={
            "type": "string",
            "maxLength": 64,
            # Not blank; no control characters (C0, DEL, C1).
            "pattern": f"^{_NAME_CHAR}*[^\\s{_UNSAFE_CHARS}]{_NAME_CHAR}*$",
        }
    ),
    "Token": _obj(id=_S, name=_S, user=_S, created=_N),
    "NewToken": _obj(id=_S, name=_S, user=_S, created=_N, token=_S),
    "TokenList": _obj(tokens={"type": "array", "items": _ref("Token")}),
    "Device": _obj(
        "device_name model serial_no firmware_version device_id",
        True,
        device_name=_S,
        device_no=_I,
        model=_S,
        serial_no=_S,
        firmware_version=_S,
        device_id=_S,
        channels=_I,
        platform=_S,
        uptime=_N,
        services={"type": "object", "additionalProperties": {"type": "object"}},
        sensors={"type": "array", "items": _ref("Sensor")},
        workers={
            "description": "channels in worker processes (config workers); null when off",
            "oneOf": [_ref("Workers"), {"type": "null"}],
        },
    ),
    "Workers": _obj(
        "channels_per_process restarts processes",
        channels_per_process=_I,
        restarts=_I,
        processes={"type": "array", "items": _ref("WorkerProcess")},
    ),
    "WorkerProcess": _obj(
        "name pid alive channels",
        name=_S,
        pid={"type": ["integer", "null"]},
        alive=_B,
        channels={"type": "array", "items": _S},
    ),
    "Sensor": _obj(
        "key label unit device_class state_class diagnostic value",
        True,
        key=_S,
        label=_S,
        translation_key=_S,
        unit={"type": ["string", "null"]},
        device_class={
            "type": ["string", "null"],
            "description": "Home Assistant's sensor device class (data_size, enum...)",
        },
        state_class={"type": ["string", "null"]},
        diagnostic=_B,
        options={"type": "array", "items": _S},
        icon=_S,
        value={"description": "the current reading (null: unknown)"},
    ),
    "Channel": _obj(
        "id name state armed",
        True,
        id=_S,
        name=_S,
        state={"enum": ["starting", "online", "offline", "ended", "stopped"]},
        armed=_B,
        source=_S,
        width={"type": ["integer", "null"]},
        height={"type": ["integer", "null"]},
        fps=_N,
        frames=_I,
        error=_S,
        detectors={
            "type": "object",
            "additionalProperties": _obj(enabled=_B, error=_S, options={"type": "object"}),
        },
        image={
            "type": "object",
            "additionalProperties": _obj(enabled=_B, options={"type": "object"}),
        },
        viewers=_I,
        streams={"type": "object", "additionalProperties": _ref("Stream")},
        target_cropping=_ref("TargetCropping"),
        event_types={"type": "array", "items": _ref("EventType")},
        controls={"type": "array", "items": _ref("Control")},
        recording={
            "type": ["boolean", "null"],
            "description": "writing a segment now; null when the channel does not record",
        },
        sensors={"type": "array", "items": _ref("Sensor")},
        stitching={
            "type": ["object", "null"],
            "description": "the stitched device this channel fronts: id, output_mode, "
            "best_stitching_distance, calibration (calibrated, calibrating, failed, "
            "not_calibrated), error, calibrated_at; null for other channels",
        },
    ),
    "Stream": _obj(
        mode={"type": "string", "enum": ["passthrough", "encoded"]},
        codec={"type": ["string", "null"]},
        width={"type": ["integer", "null"]},
        height={"type": ["integer", "null"]},
        fps=_N,
        clients=_I,
    ),
    "TargetCropping": _obj(**_CROPPING),
    "TargetCroppingChange": {**_obj("", **_CROPPING), "minProperties": 1},
    "StreamUrl": _obj(
        url=_S,
        path=_S,
        expires={
            "type": ["number", "null"],
            "description": "seconds since the epoch; null: as long as the API token lives",
        },
    ),
    "EventType": _obj(
        "name label",
        True,
        name=_S,
        label=_S,
        device_class={"type": ["string", "null"]},
        translation_key=_S,
        exception=_B,
        detector={"type": ["string", "null"]},
    ),
    "Control": _obj(
        "key kind label",
        True,
        key=_S,
        kind={"enum": ["switch", "number", "select", "button"]},
        label=_S,
        translation_key=_S,
        config=_B,
        min=_N,
        max=_N,
        step=_N,
        options={"type": "array", "items": _S},
        unit=_S,
        icon=_S,
        detector={"type": ["string", "null"]},
        image_stage={"type": ["string", "null"]},
        sets=_S,
        value={},
        attributes={
            "type": "string",
            "description": "the channel status entry the control's entity shows as attributes",
        },
    ),
    "ControlValue": _obj(value={}),
    "ButtonResult": {"type": "object"},
    "ChannelList": {"type": "array", "items": _ref("Channel")},
    "Arming": _obj(armed=_B),
    "DetectorChange": {
        **_obj("", enabled=_B, options={"type": "object"}),
        "minProperties": 1,
    },
    "Capture": _obj(
        "id channel time size reason url",
        id=_S,
        channel=_S,
        time=_N,
        size=_I,
        type={
            "enum": ["manual", "timing", "event"],
            "description": "the manual's capture type; an event's picture names it in reason",
        },
        reason=_S,
        url=_S,
        thumbnail=_S,
        uploads={"type": "array", "items": _S},
    ),
    "SearchResult": _obj(
        "",
        segments={"type": "array", "items": _ref("Segment")},
        clips={"type": "array", "items": _ref("Clip")},
        pictures={"type": "array", "items": _ref("Capture")},
        events={"type": "array", "items": _ref("Event")},
    ),
    "UploadTarget": _obj(
        type=_S,
        content={"type": "array", "items": _S},
        state={"enum": ["ok", "failing"]},
        pending=_I,
        uploaded=_I,
        failures=_I,
        dropped=_I,
        unqueued={
            "type": "integer",
            "description": "items the upload queue's file could not take (storage error)",
        },
        last_error=_S,
        last_upload={"type": ["number", "null"]},
        retry_at={"type": ["number", "null"]},
        clips={
            **_obj(pending=_I, uploaded=_I, dropped=_I, unqueued=_I),
            "description": "of the counts above, the clips'",
        },
    ),
    "Uploads": _obj(targets={"type": "object", "additionalProperties": _ref("UploadTarget")}),
    "UploadTest": _obj(target=_S, ok=_B, error=_S),
    "PictureList": _obj(pictures={"type": "array", "items": _ref("Capture")}),
    "RecordingStorage": _obj(
        "video_bytes free_bytes total_bytes overwrite full picture_bytes pictures",
        True,
        video_bytes=_I,
        quota_bytes=_I,
        min_free_bytes=_I,
        free_bytes=_I,
        total_bytes=_I,
        overwrite=_B,
        full={"type": ["string", "null"], "description": "why recording stopped, or null"},
        picture_bytes=_I,
        pictures=_I,
    ),
    "Segment": _obj(id=_I, channel=_S, stream=_S, start=_N, end=_N, size=_I, keyframes=_I),
    "Clip": _obj(
        id=_I,
        channel=_S,
        start=_N,
        end={"type": ["number", "null"], "description": "null while recording"},
        reason=_S,
    ),
    "RecordingList": _obj(
        segments={"type": "array", "items": _ref("Segment")},
        clips={"type": "array", "items": _ref("Clip")},
    ),
    "RecordStatus": _obj("enabled recording", True, enabled=_B, recording=_B),
    "ClipRequest": {
        "type": "object",
        "properties": {
            "pre": {"type": "number", "minimum": 0, "maximum": 30, "default": 5},
            "length": {"type": "number", "minimum": 0, "maximum": 3600, "default": 30},
        },
        "additionalProperties": False,
    },
    "RecordStopped": _obj(stopped=_B),
    "LinkageRuleRequest": _obj(
        "source event actions",
        id={"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]{0,47}$"},
        name={"type": "string", "maxLength": 64},
        enabled=_B,
        source=_S,
        event={"type": "string", "pattern": KEY.pattern},
        actions={
            "type": "array",
            "minItems": 1,
            "items": _obj("resource action", resource=_S, action=_S, params={"type": "object"}),
        },
    ),
    "LinkageRule": {"type": "object", "required": ["id", "source", "event", "actions", "active"]},
    "LinkageRules": {"type": "array", "items": _ref("LinkageRule")},
    "LinkageResources": {"type": "array", "items": {"type": "object"}},
    "LinkageOutcome": {"type": "object", "required": ["resource", "action", "outcome"]},
    "LinkageLog": _obj(status={"type": "object"}, fired={"type": "array"}),
    "LinkageRun": _obj("", params={"type": "object"}),
    "LinkageInput": {"type": "object"},
    "ChannelConfig": _obj(
        "id source",
        True,
        id={"type": "string", "pattern": CHANNEL_ID_PATTERN},
        name={"type": "string"},
        enabled=_B,
        source={"type": "object", "required": ["type"], "properties": {"type": _S}},
        detectors={"type": "object"},
        image={"type": "object"},
    ),
    "Event": _obj(
        id=_S,
        channel=_S,
        type=_S,
        start=_N,
        end={"type": ["number", "null"]},
        active=_B,
        data={"type": "object"},
    ),
    "EventList": _obj(events={"type": "array", "items": _ref("Event")}),
    "EventMessage": _obj(
        "type",
        True,
        type={"enum": ["event", "channel", "overflow", "pong"]},
        phase={"enum": ["new", "update", "end"]},
        event=_ref("Event"),
        change={"enum": ["added", "changed", "removed"]},
        channel=_S,
        status={"anyOf": [_ref("Channel"), {"type": "null"}]},
        dropped=_I,
    ),
    "Config": {"type": "object"},
    "Validation": _obj("valid", valid=_B, errors={"type": "array", "items": _S}),
    "StitchedDevice": _obj(
        id=_S,
        output_mode={
            "type": "string",
            "enum": ["panorama", "panorama_eptz", "original", "divided_panorama"],
        },
        channels={"type": "array", "items": _S},
        running=_B,
        calibrated=_B,
        calibrated_at={"type": ["number", "null"]},
        size={"type": ["array", "null"], "items": _I},
        matches={"type": ["array", "null"], "items": _I},
        recalibrating=_B,
        calibration_error=_S,
        error=_S,
    ),
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


#: ``width`` and ``height`` of a JPEG made smaller (a snapshot, a thumbnail).
_PICTURE_SIZE = {
    "width": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PICTURE_SIDE,
        "description": "at most the picture's width; alone, the height keeps the aspect ratio",
    },
    "height": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PICTURE_SIDE,
        "description": "at most the picture's height; alone, the width keeps the aspect ratio",
    },
}

_ERRORS = {
    "400": "Bad input (the message names the field or parameter), or a malformed request",
    "401": "Authentication required or failed",
    "403": "Not allowed: level, origin, login lock, or not activated",
    "404": "No such object",
    "409": "Conflict with the current state",
    "413": "Request body too large",
    "414": "Request line too long",
    "415": "Body must be application/json",
    "416": "The byte range asked for is past the end (Content-Range says the size)",
    "422": "Invalid configuration or options: every problem with its key path in 'errors'",
    "431": "Request headers too large",
    "503": "Not available right now",
    "507": "The data folder could not be written",
}


def _op(
    summary: str,
    ok: dict[str, Any] | None = None,
    *,
    status: str = "200",
    body: str | None = None,
    query: dict[str, dict[str, Any]] | None = None,
    errors: str = "",
    content: dict[str, Any] | None = None,
    body_content: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if content is not None:
        responses[status] = content
    elif ok is not None:
        responses[status] = _json(ok)
    else:
        responses[status] = {"description": "Done"}
    for code in errors.split():
        responses[code] = _error(_ERRORS[code])
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        body_content = {"application/json": {"schema": _ref(body)}}
    if body_content is not None:
        op["requestBody"] = {"required": True, "content": body_content}
    if query:
        op["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query.items()
        ]
    return op


_TIME = {
    "anyOf": [{"type": "number"}, {"type": "string", "format": "date-time"}],
    "description": "seconds since the epoch, or ISO 8601",
}

_BODY = "400 413 415"

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/health"): _op("Liveness, activation state, version", _ref("Health")),
    ("POST", "/api/activate"): _op(
        "Set the admin password of a fresh device",
        _ref("Activated"),
        body="Password",
        errors=f"{_BODY} 409",
    ),
    ("POST", "/api/login"): _op(
        "Browser sign-in; sets the session cookie",
        _ref("Session"),
        body="Login",
        errors=f"{_BODY} 401 403",
    ),
    ("POST", "/api/logout"): _op("End the browser session", _ref("LoggedOut")),
    ("GET", "/api/session"): _op("Who the caller is", _ref("Session")),
    ("PUT", "/api/users/{username}/password"): _op(
        "Change a password (old one required)",
        _ref("PasswordChanged"),
        body="PasswordChange",
        errors=f"{_BODY} 404",
    ),
    ("GET", "/api/tokens"): _op("List API tokens (no secrets)", _ref("TokenList")),
    ("POST", "/api/tokens"): _op(
        "Create an API token (secret shown once)",
        _ref("NewToken"),
        status="201",
        body="TokenName",
        errors=_BODY,
    ),
    ("DELETE", "/api/tokens/{token_id}"): _op("Delete an API token", status="204", errors="404"),
    ("GET", "/api/device"): _op("Device information (manual 9.1)", _ref("Device")),
    ("GET", "/api/channels"): _op("All channels' status", _ref("ChannelList")),
    ("GET", "/api/channels/{channel_id}"): _op(
        "One channel's status", _ref("Channel"), errors="404"
    ),
    ("PUT", "/api/channels/{channel_id}/arming"): _op(
        "Arm or disarm a channel", _ref("Channel"), body="Arming", errors=f"{_BODY} 404"
    ),
    ("PUT", "/api/channels/{channel_id}/detectors/{kind}"): _op(
        "Enable or disable a detector and/or change some of its options (kept across restarts)",
        _ref("Channel"),
        body="DetectorChange",
        errors=f"{_BODY} 404 422",
    ),
    ("PUT", "/api/channels/{channel_id}/image/{kind}"): _op(
        "Enable or disable an image stage and/or change some of its options (applied before "
        "the next frame, kept across restarts)",
        _ref("Channel"),
        body="DetectorChange",
        errors=f"{_BODY} 404 422",
    ),
    ("POST", "/api/channels/{channel_id}/image/{kind}/preview"): _op(
        "Preview an image stage change: a JPEG of the newest picture with it (the PUT's body "
        "and checks), the live privacy mask kept; nothing is saved or changed",
        body="DetectorChange",
        errors=f"{_BODY} 404 409 422 503",
        content={"description": "JPEG", "content": {"image/jpeg": {"schema": {}}}},
    ),
    ("PUT", "/api/channels/{channel_id}/target_cropping"): _op(
        "Change the target cropping (manual 4.10: the third stream's window; applied from "
        "the next picture, kept across restarts)",
        _ref("Channel"),
        body="TargetCroppingChange",
        errors=f"{_BODY} 404 422 507",
    ),
    ("PUT", "/api/channels/{channel_id}/controls/{key}"): _op(
        "Set a control the channel declares (switch: true/false, number, select: an option); "
        "answers the status of the channel the control is on now (a stitched device's mode "
        "or distance rebuilds its channels: then the one fronting the device)",
        _ref("Channel"),
        body="ControlValue",
        errors=f"{_BODY} 404 422",
    ),
    ("POST", "/api/channels/{channel_id}/controls/{key}"): _op(
        "Press a button the channel declares; answers what its command produced",
        _ref("ButtonResult"),
        errors="404 409 422 503 507",
    ),
    ("POST", "/api/channels/{channel_id}/capture"): _op(
        "Capture picture: keep a JPEG of the newest frame",
        _ref("Capture"),
        status="201",
        errors="404 409 503 507",
    ),
    ("GET", "/api/captures/{capture_id}.jpg"): _op(
        "A captured picture",
        errors="404",
        content={"description": "JPEG", "content": {"image/jpeg": {"schema": {}}}},
    ),
    ("GET", "/api/captures/{capture_id}/thumbnail.jpg"): _op(
        "A captured picture, smaller with width/height",
        errors="400 404",
        query=_PICTURE_SIZE,
        content={"description": "JPEG", "content": {"image/jpeg": {"schema": {}}}},
    ),
    ("GET", "/api/search"): _op(
        "One search over segments, clips, pictures and events by channel, time range, type",
        _ref("SearchResult"),
        errors="400 404",
        query={
            "channel": {"type": "string"},
            "start": _TIME,
            "end": _TIME,
            "type": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"},
            "within": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
        },
    ),
    ("GET", "/api/uploads"): _op(
        "Each upload target's state: what waits, what went, what failed", _ref("Uploads")
    ),
    ("POST", "/api/uploads/{target_id}/test"): _op(
        "Reach an upload target now (the manual's Test); a waiting retry then goes at once",
        _ref("UploadTest"),
        errors="404",
    ),
    ("GET", "/api/channels/{channel_id}/recordings"): _op(
        "A channel's recorded segments and clips in a time range (ids, never paths)",
        _ref("RecordingList"),
        errors="400 404",
        query={"start": _TIME, "end": _TIME},
    ),
    ("GET", "/api/channels/{channel_id}/record"): _op(
        "Whether and what the channel records", _ref("RecordStatus"), errors="404"
    ),
    ("GET", "/api/channels/{channel_id}/playback.ts"): _op(
        "A time range played back as one MPEG-TS file (the segments covering it, whole); "
        "one byte range may be asked (Range), for seeking",
        errors="400 404 416",
        query={"start": _TIME, "end": _TIME},
        content={"description": "MPEG-TS", "content": {"video/mp2t": {"schema": {}}}},
    ),
    ("GET", "/api/channels/{channel_id}/playback.mp4"): _op(
        "A time range (at most 3 hours) remuxed into one MP4 file a browser's video element "
        "plays; times from the first segment's start; byte ranges for seeking",
        errors="400 404 416",
        query={"start": _TIME, "end": _TIME},
        content={"description": "MP4", "content": {"video/mp4": {"schema": {}}}},
    ),
    ("POST", "/api/channels/{channel_id}/record/clip"): _op(
        "Record a clip: from pre seconds before now, length seconds long",
        _ref("Clip"),
        status="201",
        body="ClipRequest",
        errors=f"{_BODY} 404 409",
    ),
    ("POST", "/api/channels/{channel_id}/record/start"): _op(
        "Start manual recording", _ref("Clip"), errors="404 409"
    ),
    ("POST", "/api/channels/{channel_id}/record/stop"): _op(
        "Stop manual recording", _ref("RecordStopped"), errors="404 409"
    ),
    ("GET", "/api/channels/{channel_id}/pictures"): _op(
        "Picture search: a channel's captures in a time range, for one reason",
        _ref("PictureList"),
        errors="400 404",
        query={"start": _TIME, "end": _TIME, "reason": {"type": "string"}},
    ),
    ("GET", "/api/recordings/storage"): _op(
        "The recordings' and pictures' storage: use, limits, free space, full or not",
        _ref("RecordingStorage"),
    ),
    ("GET", "/api/recordings/{segment_id}.jpg"): _op(
        "Thumbnail: JPEG of a recorded segment's first picture, smaller with width/height",
        errors="400 404",
        query=_PICTURE_SIZE,
        content={"description": "JPEG", "content": {"image/jpeg": {"schema": {}}}},
    ),
    ("GET", "/api/recordings/{segment_id}.ts"): _op(
        "Download one recorded segment",
        errors="404",
        content={"description": "MPEG-TS", "content": {"video/mp2t": {"schema": {}}}},
    ),
    ("GET", "/api/linkage/rules"): _op(
        "Every linkage rule, with whether it is active and why not", _ref("LinkageRules")
    ),
    ("POST", "/api/linkage/rules"): _op(
        "Add a linkage rule (every constraint of the document checked)",
        _ref("LinkageRule"),
        status="201",
        body="LinkageRuleRequest",
        errors=f"{_BODY} 422 507",
    ),
    ("PUT", "/api/linkage/rules/{rule_id}"): _op(
        "Replace a linkage rule, keeping its id",
        _ref("LinkageRule"),
        body="LinkageRuleRequest",
        errors=f"{_BODY} 404 422 507",
    ),
    ("DELETE", "/api/linkage/rules/{rule_id}"): _op(
        "Remove a linkage rule", _obj(deleted=_S), errors="404 422 507"
    ),
    ("GET", "/api/linkage/resources"): _op(
        "Every linked resource: type, actions, events, notifications, state",
        _ref("LinkageResources"),
    ),
    ("POST", "/api/linkage/resources/{resource}/actions/{action}"): _op(
        "Run one linkage action by hand; answers its outcome",
        _ref("LinkageOutcome"),
        body_content={"application/json": {"schema": _ref("LinkageRun")}},
        errors=f"{_BODY} 404 422",
    ),
    ("POST", "/api/linkage/resources/{resource}/input"): _op(
        "A source's input: an alarm input's state, a doorbell's event",
        _obj(received=_S),
        body="LinkageInput",
        errors=f"{_BODY} 404 422",
    ),
    ("GET", "/api/linkage/log"): _op(
        "The newest fired linkage rules and the engine's counters",
        _ref("LinkageLog"),
        errors="400",
        query={"limit": {"type": "integer", "minimum": 1, "maximum": 500}},
    ),
    ("POST", "/api/channels"): _op(
        "Add a channel (one entry of the config's channels) and start it",
        _ref("Channel"),
        status="201",
        body="ChannelConfig",
        errors=f"{_BODY} 422 507",
    ),
    ("DELETE", "/api/channels/{channel_id}"): _op(
        "Stop and remove a channel (its events stay)", status="204", errors="404 507"
    ),
    ("GET", "/api/channels/{channel_id}/snapshot.jpg"): _op(
        "JPEG of the newest frame, made smaller with width and/or height",
        errors="400 404 409 503",
        query=_PICTURE_SIZE,
        content={"description": "JPEG", "content": {"image/jpeg": {"schema": {}}}},
    ),
    ("GET", "/api/channels/{channel_id}/live.mjpeg"): _op(
        "MJPEG live view (multipart/x-mixed-replace, boundary=frame)",
        errors="404 503",
        content={
            "description": "endless multipart stream of JPEG parts",
            "content": {"multipart/x-mixed-replace": {"schema": {}}},
        },
    ),
    ("GET", "/api/channels/{channel_id}/streams/{role}.ts"): _op(
        "A stream as live MPEG-TS from its next keyframe (the source's packets, unchanged); "
        "credentials, or a stream URL's access parameter",
        errors="404 409 503",
        query={"access": {"type": "string", "description": "a stream URL's grant"}},
        content={
            "description": "endless MPEG-TS",
            "content": {"video/mp2t": {"schema": {}}},
        },
    ),
    ("GET", "/api/channels/{channel_id}/streams/{role}.mp4"): _op(
        "A stream as live fragmented MP4 from its next keyframe (one fragment per frame: what "
        "a browser's Media Source plays); credentials, or a stream URL's access parameter",
        errors="404 409 503",
        query={"access": {"type": "string", "description": "a stream URL's grant"}},
        content={
            "description": "endless fragmented MP4: an initialisation segment, then fragments",
            "content": {"video/mp4": {"schema": {}}},
        },
    ),
    ("POST", "/api/channels/{channel_id}/streams/{role}/url"): _op(
        "A URL that plays the stream without an Authorization header (Home Assistant, VLC)",
        _ref("StreamUrl"),
        errors="404",
    ),
    ("GET", "/api/events"): _op(
        "Event history, newest first",
        _ref("EventList"),
        errors="400",
        query={
            "channel": _S,
            "type": _S,
            "since": _TIME,
            "until": _TIME,
            "active": {"type": "boolean", "description": "only events still going (or ended)"},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
    ),
    ("GET", "/api/events/ws"): _op(
        'WebSocket of event updates (EventMessage JSON text; send {"type":"ping"})',
        status="101",
        errors="400 404",
        query={"channel": _S},
        content={"description": "Switching to WebSocket; messages are EventMessage objects"},
    ),
    ("GET", "/api/events/{event_id}"): _op("One event", _ref("Event"), errors="404"),
    ("GET", "/api/stitching"): _op(
        "Stitched devices (manual ch. 10): output mode, channels, calibration state",
        {"type": "array", "items": _ref("StitchedDevice")},
    ),
    ("POST", "/api/stitching/{device_id}/calibrate"): _op(
        "Calibrate a stitched device again from its next pictures; answers once done (a "
        "failure keeps the calibration in use, calibration_error says why)",
        _ref("StitchedDevice"),
        errors="404 409",
    ),
    ("GET", "/api/stitching/{device_id}/preview.jpg"): _op(
        "The stitched picture the last calibration saved",
        content={"description": "JPEG", "content": {"image/jpeg": {"schema": {}}}},
        errors="404",
    ),
    ("GET", "/api/config"): _op("Running configuration, secrets redacted", _ref("Config")),
    ("POST", "/api/config/validate"): _op(
        "Validate a YAML or JSON configuration without applying it",
        _ref("Validation"),
        errors="400 413",
        body_content={
            "application/yaml": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    ),
    ("GET", "/api/openapi.json"): _op("This document", {"type": "object"}),
    ("GET", "/"): _op(
        "The web UI", errors="404", content={"description": "HTML", "content": {"text/html": {}}}
    ),
    ("GET", "/static/{path}"): _op(
        "A file of the web UI", errors="404", content={"description": "The file"}
    ),
}
OPERATIONS[("POST", "/api/config/validate")]["responses"]["422"] = _json(
    _ref("Validation"), "Invalid: every problem with its key path"
)


_ANY_REQUEST = ("400", "414", "431")


_SECURITY: list[dict[str, list[str]]] = [
    {"digest": []},
    {"basic": []},
    {"token": []},
    {"session": []},
]


def build_spec(app: web.Application) -> dict[str, Any]:
    """The document for every route of ``app`` (``HEAD`` twins of ``GET`` routes left out)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        path, method = route.resource.canonical, route.method
        doc = OPERATIONS.get((method, path))
        op = dict(doc) if doc is not None else _op(_first_line(route.handler.__doc__), errors="")
        params = [
            {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS.get(name, _S)}
            for name in _PATH_PARAM.findall(path)
        ]
        if params:
            op["parameters"] = params + op.get("parameters", [])
        # Any request may be malformed or oversized (connections.py answers those).
        op["responses"] = {
            **{code: _error(_ERRORS[code]) for code in _ANY_REQUEST},
            **op["responses"],
        }
        policy = route_policy(app, route) or Policy.ADMINISTRATOR
        if policy is Policy.PUBLIC:
            op["security"] = []
        elif policy is Policy.STREAM:
            op["x-level"] = Policy.USER.value
            op["security"] = [*_SECURITY, {"stream_url": []}]
            op["responses"] = {**op["responses"], "401": _error(_ERRORS["401"])}
        else:
            op["x-level"] = policy.value
            op["responses"] = {**op["responses"], **{c: _error(_ERRORS[c]) for c in ("401", "403")}}
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "camera_runtime", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "digest": {"type": "http", "scheme": "digest"},
                "basic": {"type": "http", "scheme": "basic"},
                "token": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "stream_url": {"type": "apiKey", "in": "query", "name": STREAM_ACCESS},
            },
        },
        "security": _SECURITY,
    }


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else "Added by a plugin"


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI document (built once: the router is frozen once the app runs)."""
    cache = request.app[SPEC]
    if not cache:
        cache.update(build_spec(request.app))
    return web.json_response(cache)


def setup_openapi(app: web.Application) -> None:
    app[SPEC] = {}


__all__ = ["OPERATIONS", "SCHEMAS", "build_spec", "openapi_json", "setup_openapi"]
