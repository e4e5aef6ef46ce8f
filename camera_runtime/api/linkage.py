"""Linkage routes: the rules (list, add, replace, delete: each checked like the config file),
the linked resources and their state, running an action by hand (a manual alarm output and
its clearing), a resource's input (an alarm input, a doorbell calling in), and the record of
fired rules."""

from __future__ import annotations

from aiohttp import web

from .auth import audit
from .keys import RUNTIME
from .parsing import field, parse_int, read_json_object


async def list_rules(request: web.Request) -> web.Response:
    """Every linkage rule, with whether it is active and why not."""
    return web.json_response(request.app[RUNTIME].linkage.rules())


async def add_rule(request: web.Request) -> web.Response:
    """Add a linkage rule (``422`` names each broken constraint; nothing changes)."""
    body = await read_json_object(request)
    rule = await request.app[RUNTIME].linkage.add_rule(body)
    audit(request, "linkage rule %r added", rule["id"])
    return web.json_response(rule, status=201)


async def replace_rule(request: web.Request) -> web.Response:
    """Replace a linkage rule, keeping its id."""
    rule_id = request.match_info["rule_id"]
    body = await read_json_object(request)
    rule = await request.app[RUNTIME].linkage.replace_rule(rule_id, body)
    audit(request, "linkage rule %r changed", rule_id)
    return web.json_response(rule)


async def delete_rule(request: web.Request) -> web.Response:
    """Remove a linkage rule."""
    rule_id = request.match_info["rule_id"]
    await request.app[RUNTIME].linkage.delete_rule(rule_id)
    audit(request, "linkage rule %r removed", rule_id)
    return web.json_response({"deleted": rule_id})


async def resources(request: web.Request) -> web.Response:
    """Every linked resource (channels included): its type, actions, events and state."""
    return web.json_response(request.app[RUNTIME].linkage.resources())


async def run_action(request: web.Request) -> web.Response:
    """Run one linkage action by hand (``{"params": {...}}`` optional): a manual alarm
    output, clearing it, opening a door; answers its outcome."""
    resource, action = request.match_info["resource"], request.match_info["action"]
    body = await read_json_object(request, allowed={"params"}) if request.can_read_body else {}
    params = field(body, "params", dict) if "params" in body else {}
    outcome = await request.app[RUNTIME].linkage.run(resource, action, params)
    audit(request, "linkage action %r run on %r: %s", action, resource, outcome["outcome"])
    return web.json_response(outcome)


async def resource_input(request: web.Request) -> web.Response:
    """A source's input over HTTP: an alarm input's ``{"state": "closed"}``, a doorbell's
    ``{"event": "doorbell_ring"}``; it raises the resource's events like MQTT would."""
    resource = request.match_info["resource"]
    body = await read_json_object(request)
    await request.app[RUNTIME].linkage.receive(resource, body)
    return web.json_response({"received": resource})


async def log(request: web.Request) -> web.Response:
    """The newest fired rules (``limit``, 1-500): when, which event, each action's outcome,
    with the engine's counters."""
    limit = parse_int("limit", request.query.get("limit"), 1, 500) or 50
    linkage = request.app[RUNTIME].linkage
    return web.json_response({"status": linkage.status(), "fired": await linkage.log(limit)})


__all__ = [
    "add_rule",
    "delete_rule",
    "list_rules",
    "log",
    "replace_rule",
    "resource_input",
    "resources",
    "run_action",
]
