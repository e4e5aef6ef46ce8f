"""The ``linkage:`` config section and the Hik-Connect rules' constraints, checked as data.

A rule is Source + Triggering Event -> one or more (Linked Resource + Linkage Action). The
document's constraints, each refused with its key path: the source and a linked resource are
not the same device; no two identical rules; at most four linkage actions on camera channels
for one source (over all its rules); at most 128 linkage actions or 10 linked resources in a
rule. A rule whose source has notifications off is valid: the engine keeps it inactive and
says so (``engine.rule_status``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol

from ..config_yaml import format_path

#: The document: "at most four Linkage Actions" on camera channels for one source.
MAX_CAMERA_ACTIONS_PER_SOURCE = 4
#: The document: "Up to 128 Linkage Actions or 10 Linked Resources can be selected."
MAX_ACTIONS_PER_RULE = 128
MAX_RESOURCES_PER_RULE = 10

RESOURCE_ID = vol.All(
    str,
    vol.Match(
        r"^[a-z][a-z0-9_]{0,47}$",
        msg="id must be 1-48 lowercase letters, digits or '_', starting with a letter",
    ),
)
RULE_ID = vol.All(
    str, vol.Match(r"^[a-z0-9][a-z0-9_-]{0,47}$", msg="rule id must be 1-48 of a-z 0-9 _ -")
)
NAME = vol.All(str, vol.Length(min=1, max=64))

#: The core keys of a declared resource; the rest are its plugin's options.
RESOURCE_CORE = {"id", "type", "name"}
RESOURCE_SCHEMA = vol.Schema(
    {vol.Required("id"): RESOURCE_ID, vol.Required("type"): str, vol.Optional("name"): NAME},
    extra=vol.ALLOW_EXTRA,
)
LINK_SCHEMA = vol.Schema(
    {
        vol.Required("resource"): str,
        vol.Required("action"): str,
        vol.Optional("params", default={}): {str: vol.Any(str, int, float, bool)},
    }
)
RULE_SCHEMA = vol.Schema(
    {
        vol.Required("id"): RULE_ID,
        vol.Optional("name", default=""): vol.All(str, vol.Length(max=64)),
        vol.Optional("enabled", default=True): bool,
        vol.Required("source"): str,
        vol.Required("event"): vol.All(str, vol.Match(r"^[a-z][a-z0-9_]{0,47}$")),
        vol.Required("actions"): vol.All(list, vol.Length(min=1, msg="give at least one action")),
    }
)
LINKAGE_SCHEMA = vol.Schema(
    {
        vol.Optional("resources", default=[]): list,
        vol.Optional("rules", default=[]): list,
        # A failing action is tried this many times in all, waiting ``backoff`` s, then twice
        # as long..., before it is reported failed.
        vol.Optional("retry", default={}): {
            vol.Optional("attempts", default=3): vol.All(int, vol.Range(min=1, max=10)),
            vol.Optional("backoff", default=1.0): vol.All(
                vol.Coerce(float), vol.Range(min=0.01, max=60)
            ),
        },
    }
)

#: A resource kind's actions and whether they count as camera actions: ``(ACTIONS, CAMERA)``.
Kinds = Callable[[str], tuple[tuple[str, ...], bool] | None]


def _errors(err: vol.Invalid, path: list[Any]) -> list[str]:
    found = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    out = []
    for e in found:
        message = "unknown option" if e.msg == "extra keys not allowed" else e.msg
        out.append(f"{format_path(path + list(e.path))}: {message}")
    return out


def validate_linkage(
    data: Any,
    channels: list[str],
    kinds: Kinds,
    resource_options: Callable[[str, Mapping[str, Any], list[Any]], tuple[Any, list[str]]],
) -> tuple[dict[str, Any], list[str]]:
    """The ``linkage`` section checked: its shape, each resource (its plugin's options through
    ``resource_options``), each rule and every constraint. Returns ``(section, errors)``; with
    errors the section must not be used. ``channels`` are the channel ids (implicit resources
    of the ``channel`` kind)."""
    base: list[Any] = ["linkage"]
    errors: list[str] = []
    try:
        section = dict(LINKAGE_SCHEMA(data if data is not None else {}))
    except vol.Invalid as err:
        return {"resources": [], "rules": [], "retry": {}}, _errors(err, base)
    resources: list[dict[str, Any]] = []
    types: dict[str, str] = {channel: "channel" for channel in channels}
    for index, given in enumerate(section["resources"]):
        path = [*base, "resources", index]
        try:
            core = RESOURCE_SCHEMA(given)
        except vol.Invalid as err:
            errors += _errors(err, path)
            continue
        if core["id"] in types:
            what = "a channel" if types[core["id"]] == "channel" else "another resource"
            errors.append(f"{format_path([*path, 'id'])}: {core['id']!r} is already {what}")
            continue
        if core["type"] == "channel" or kinds(core["type"]) is None:
            errors.append(
                f"{format_path([*path, 'type'])}: no linked resource type {core['type']!r}"
            )
            continue
        own = {k: v for k, v in core.items() if k not in RESOURCE_CORE}
        options, errs = resource_options(core["type"], own, path)
        errors += errs
        if options is not None:
            types[core["id"]] = core["type"]
            resources.append(
                {
                    "id": core["id"],
                    "type": core["type"],
                    "name": core.get("name", core["id"]),
                    **options,
                }
            )
    section["resources"] = resources
    rules: list[dict[str, Any]] = []
    for index, given in enumerate(section["rules"]):
        rule = _rule(given, [*base, "rules", index], types, kinds, errors)
        if rule is not None:
            rules.append(rule)
    if not errors:
        errors += check_constraints(rules, types, kinds)
    section["rules"] = rules
    return section, errors


def _rule(
    given: Any, path: list[Any], types: Mapping[str, str], kinds: Kinds, errors: list[str]
) -> dict[str, Any] | None:
    before = len(errors)
    try:
        rule = dict(RULE_SCHEMA(given))
    except vol.Invalid as err:
        errors += _errors(err, path)
        return None
    if rule["source"] not in types:
        errors.append(
            f"{format_path([*path, 'source'])}: no channel or resource {rule['source']!r}"
        )
    links: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for j, given_link in enumerate(rule["actions"]):
        where = [*path, "actions", j]
        try:
            link = dict(LINK_SCHEMA(given_link))
        except vol.Invalid as err:
            errors += _errors(err, where)
            continue
        resource, action = link["resource"], link["action"]
        kind = types.get(resource)
        declared = kinds(kind) if kind is not None else None
        if declared is None:
            errors.append(
                f"{format_path([*where, 'resource'])}: no channel or resource {resource!r}"
            )
            continue
        if resource == rule["source"]:
            errors.append(
                f"{format_path([*where, 'resource'])}: the source and the linked resource "
                f"cannot be the same device ({resource!r})"
            )
        if action not in declared[0]:
            errors.append(
                f"{format_path([*where, 'action'])}: {action!r} is not an action of a {kind}: "
                f"{', '.join(declared[0])}"
            )
        if (resource, action) in seen:
            errors.append(f"{format_path(where)}: {action!r} on {resource!r} is given twice")
        seen.add((resource, action))
        links.append(link)
    if len(links) > MAX_ACTIONS_PER_RULE:
        errors.append(
            f"{format_path([*path, 'actions'])}: at most {MAX_ACTIONS_PER_RULE} linkage actions "
            f"in a rule, got {len(links)}"
        )
    linked = {link["resource"] for link in links}
    if len(linked) > MAX_RESOURCES_PER_RULE:
        errors.append(
            f"{format_path([*path, 'actions'])}: at most {MAX_RESOURCES_PER_RULE} linked "
            f"resources in a rule, got {len(linked)}"
        )
    rule["actions"] = links
    return rule if len(errors) == before else None


def rule_key(rule: Mapping[str, Any]) -> tuple[str, str, frozenset[tuple[str, str]]]:
    """What makes two rules "totally the same": source, event, linked resources and actions."""
    return (
        rule["source"],
        rule["event"],
        frozenset((link["resource"], link["action"]) for link in rule["actions"]),
    )


def check_constraints(
    rules: list[dict[str, Any]], types: Mapping[str, str], kinds: Kinds
) -> list[str]:
    """The constraints between rules: unique ids, no two identical rules, at most four camera
    actions per source."""
    errors: list[str] = []
    ids: dict[str, int] = {}
    keys: dict[tuple[str, str, frozenset[tuple[str, str]]], int] = {}
    camera: dict[str, list[int]] = {}
    for index, rule in enumerate(rules):
        path = ["linkage", "rules", index]
        if rule["id"] in ids:
            errors.append(f"{format_path([*path, 'id'])}: duplicate rule id {rule['id']!r}")
        ids.setdefault(rule["id"], index)
        key = rule_key(rule)
        if key in keys:
            errors.append(
                f"{format_path(path)}: the same rule as linkage.rules[{keys[key]}] (same "
                "source, triggering event, linked resources and linkage actions)"
            )
        keys.setdefault(key, index)
        for link in rule["actions"]:
            declared = kinds(types[link["resource"]])
            if declared is not None and declared[1]:
                camera.setdefault(rule["source"], []).append(index)
    for source, where in camera.items():
        if len(where) > MAX_CAMERA_ACTIONS_PER_SOURCE:
            listed = ", ".join(f"linkage.rules[{i}]" for i in sorted(set(where)))
            errors.append(
                f"linkage.rules: source {source!r} has {len(where)} linkage actions on camera "
                f"channels (at most {MAX_CAMERA_ACTIONS_PER_SOURCE} for one source): {listed}"
            )
    return errors


__all__ = [
    "LINKAGE_SCHEMA",
    "MAX_ACTIONS_PER_RULE",
    "MAX_CAMERA_ACTIONS_PER_SOURCE",
    "MAX_RESOURCES_PER_RULE",
    "check_constraints",
    "rule_key",
    "validate_linkage",
]
