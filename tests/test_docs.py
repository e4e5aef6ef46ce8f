"""The docs stay complete: every hook, extension point and config key is documented, every
relative link leads somewhere, and the README stays short.

Runs with the runtime tests (no Home Assistant import). The keys are read from the schemas
themselves (the core's, each face's section, each built-in plugin's options), so a key added
to a schema without a line in ``docs/configuration.md`` fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol

from camera_runtime import config, hookspecs, host
from camera_runtime.capabilities import validators
from camera_runtime.interfaces import EXTENSION_POINTS
from camera_runtime.registry import build_plugins

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_MAX_LINES = 250

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _read(path: Path) -> str:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    return path.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """The text without fenced code blocks (their backticks are not code spans)."""
    return _FENCE.sub("", text)


def _spans(text: str) -> list[str]:
    return _CODE_SPAN.findall(_prose(text))


def _names_in_spans(text: str) -> set[str]:
    """Every name a code span gives: the span itself and each part of a dotted key path
    (`` `tls.ca_certs` `` gives ``tls`` and ``ca_certs``; `` `channels[].source` `` gives
    ``channels`` and ``source``)."""
    names: set[str] = set()
    for span in _spans(text):
        names.add(span.strip())
        names.update(part for part in re.split(r"[.\[\]\s:=,]+", span) if part)
    return names


def _documented_keys(text: str) -> set[str]:
    """The config keys ``text`` gives an entry of their own: a code span in the first cell of
    a table row (`` | `keepalive` | ... ``, `` | `width`, `height` | ... ``) or in a heading.
    A key only mentioned in another key's description does not count."""
    prose = _prose(text)
    cells = re.findall(r"^\|([^|\n]*)\|", prose, re.M)
    headings = [match[2] for match in _HEADING.finditer(prose)]
    return _names_in_spans("\n".join(cells + headings))


def _sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` of every heading, the body running to the next heading of the same
    or a higher level (so it includes its subsections)."""
    prose = _prose(text)
    found = list(_HEADING.finditer(prose))
    out = []
    for index, match in enumerate(found):
        level = len(match[1])
        end = len(prose)
        for later in found[index + 1 :]:
            if len(later[1]) <= level:
                end = later.start()
                break
        out.append((match[2], prose[match.end() : end]))
    return out


def _section_about(text: str, name: str) -> str:
    """The body of the first section whose heading names `` `name` `` in a code span."""
    for heading, body in _sections(text):
        if f"`{name}`" in heading:
            return body
    raise AssertionError(f"docs/configuration.md has no heading naming `{name}`")


# ---------------------------------------------------------------------------- schema keys


def schema_keys(node: Any) -> Iterator[str]:
    """Every key name of a voluptuous schema, nested ones too: dict keys (``vol.Optional``,
    ``vol.Required``, ``vol.Inclusive`` markers or plain strings), inside ``vol.Schema``,
    ``vol.All``, ``vol.Any`` and lists. Type keys (``{str: ...}``) name nothing."""
    for inner in validators(node):
        if isinstance(inner, dict):
            for key, value in inner.items():
                name = key.schema if isinstance(key, vol.Marker) else key
                if isinstance(name, str):
                    yield name
                yield from schema_keys(value)


def test_the_key_walker_finds_nested_keys() -> None:
    schema = vol.Schema(
        vol.All(
            {
                vol.Required("a"): int,
                vol.Optional("b", default={}): vol.Any(None, vol.Schema({"c": [{"d": str}]})),
                vol.Inclusive("e", "pair"): str,
                str: int,
            },
            lambda value: value,
        )
    )
    assert sorted(schema_keys(schema)) == ["a", "b", "c", "d", "e"]


def _plugin_schemas() -> list[tuple[str, str, Any]]:
    registry = build_plugins()[1]
    return [
        (point, kind, cls.CONFIG_SCHEMA)
        for point, classes in sorted(registry.classes.items())
        for kind, cls in sorted(classes.items())
    ]


def test_built_in_plugins_are_found() -> None:
    kinds = {(point, kind) for point, kind, _ in _plugin_schemas()}
    assert {("source", "synthetic"), ("source", "rtsp"), ("detector", "motion")} <= kinds


def test_every_core_config_key_is_documented() -> None:
    documented = _documented_keys(_read(DOCS / "configuration.md"))
    core = {
        "top level": config.CONFIG_SCHEMA,
        "channels[]": config.CHANNEL_KEYS,
        "detector core keys": config.DETECTOR_SCHEMA,
    }
    missing = [
        f"{where}: {key}"
        for where, schema in core.items()
        for key in schema_keys(schema)
        if key not in documented
    ]
    assert missing == [], f"config keys missing from docs/configuration.md: {missing}"


@pytest.mark.parametrize("section", host.SECTIONS, ids=lambda s: s.key)
def test_every_face_section_key_is_documented(section: config.ConfigSection) -> None:
    """Each face's keys are documented under a heading that names its section."""
    body = _section_about(_read(DOCS / "configuration.md"), section.key)
    documented = _documented_keys(body)
    missing = [key for key in schema_keys(section.schema) if key not in documented]
    assert missing == [], f"`{section.key}` keys missing from docs/configuration.md: {missing}"


@pytest.mark.parametrize(
    ("point", "kind", "schema"), _plugin_schemas(), ids=lambda v: v if isinstance(v, str) else None
)
def test_every_built_in_plugin_option_is_documented(point: str, kind: str, schema: Any) -> None:
    """Each built-in kind's options are documented under a heading that names the kind."""
    body = _section_about(_read(DOCS / "configuration.md"), kind)
    documented = _documented_keys(body)
    missing = [key for key in schema_keys(schema) if key not in documented]
    assert missing == [], f"{point} `{kind}` options missing from docs/configuration.md: {missing}"


# ---------------------------------------------------------------------------- plugin contract


def _documents(text: str, name: str) -> bool:
    """``name`` appears as a code span (`` `name` `` or `` `name(...)` ``) or in a heading."""
    call = re.compile(rf"^{re.escape(name)}(\(.*\))?$")
    if any(call.match(span.strip()) for span in _spans(text)):
        return True
    return any(re.search(rf"\b{re.escape(name)}\b", heading) for heading, _ in _sections(text))


HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "camera_runtime_spec")
)


def test_hookspecs_are_found() -> None:
    assert {"register_sources", "after_event", "before_channels_start"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_is_documented(hook: str) -> None:
    assert _documents(_read(DOCS / "plugins.md"), hook), f"docs/plugins.md does not document {hook}"


@pytest.mark.parametrize("point", sorted(EXTENSION_POINTS))
def test_every_extension_point_is_documented(point: str) -> None:
    text = _read(DOCS / "plugins.md")
    info = EXTENSION_POINTS[point]
    for name in (info.name, info.hook, info.base.__name__):
        assert _documents(text, name), f"docs/plugins.md does not document {name} ({point})"


# ---------------------------------------------------------------------------- links and size


def _markdown_files() -> list[Path]:
    return [README, ROOT / "bench" / "README.md", *sorted(DOCS.glob("*.md"))]


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file."""
    seen: dict[str, int] = {}
    anchors = set()
    for match in _HEADING.finditer(_prose(_read(path))):
        text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", match[2])
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_the_docs_pages_exist() -> None:
    for name in (
        "README.md",
        "configuration.md",
        "http-api.md",
        "mqtt.md",
        "home-assistant.md",
        "plugins.md",
        "deployment.md",
        "security.md",
    ):
        _read(DOCS / name)


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_prose(_read(page))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor}")
    assert broken == [], f"{page.relative_to(ROOT)}: broken links {broken}"


def test_the_readme_links_every_docs_page() -> None:
    readme = _read(README)
    for page in [*sorted(DOCS.glob("*.md")), ROOT / "bench" / "README.md"]:
        relative = page.relative_to(ROOT).as_posix()
        assert f"]({relative}" in readme, f"README.md does not link {relative}"


def test_the_readme_is_short() -> None:
    lines = _read(README).count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"


def test_the_readme_keeps_the_two_commands() -> None:
    readme = _read(README)
    assert "scripts/demo" in readme
    assert "scripts/test" in readme
