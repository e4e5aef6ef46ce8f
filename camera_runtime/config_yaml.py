"""Reading the YAML configuration: safely (no Python object tags), with the line of a syntax
error, and with YAML 1.1's two surprises made visible to validation.

PyYAML reads YAML 1.1, where ``0100`` is the octal number 64 and ``yes``, ``no``, ``on`` and
``off`` are booleans. A number written with a leading zero is always refused (it would pass
silently as another number); a boolean word is a boolean where a switch is meant, and where a
name or a number is meant the error says how YAML read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .exceptions import ConfigError

#: Where a word was read as a boolean: key path -> the word.
Words = dict[tuple[Any, ...], str]


def format_path(path: list[Any]) -> str:
    """``['channels', 1, 'detectors', 'motion', 'sensitivity']`` -> ``channels[1].detectors.motion.sensitivity``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<top>"


def bool_words_as_numbers(
    data: Mapping[str, Any], words: Words, found: list[str], check: Callable[[Any], list[str]]
) -> list[str]:
    """A bool word where a number is meant passes as 1 or 0 (Python's booleans are numbers):
    probe each such place with a plain number; where it passes too, a number was meant."""
    errors = []
    for path, word in words.items():
        where = format_path(list(path))
        if any(line.startswith(f"{where}: ") for line in found):
            continue  # refused already (a name, say): explained there
        probe = _replaced(data, path, 2)
        if not any(line.startswith(f"{where}: ") for line in check(probe)):
            value = 1 if _meaning(word) == "true" else 0
            errors.append(
                f"{where}: expected a number, got {word}, which YAML reads as "
                f"{_meaning(word)} and would count as {value}"
            )
    return errors


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, Mapping):
        return {**data, head: _replaced(data[head], rest, value)}
    copied = list(data)
    copied[head] = _replaced(copied[head], rest, value)
    return copied


class LeadingZero(int):
    """A YAML 1.1 integer written with a leading zero (``0100``), which YAML reads as octal
    (64): kept recognisable, so validation refuses it instead of taking 64 silently."""

    text: str

    def __new__(cls, value: int, text: str) -> LeadingZero:
        number = super().__new__(cls, value)
        number.text = text
        return number

    def __getnewargs__(self) -> tuple[int, str]:  # type: ignore[override]
        return int(self), self.text


class _BoolWord:
    """``yes``/``no``/``on``/``off``: YAML 1.1 booleans; where a switch is meant they are fine,
    elsewhere (a name, a number) the error says how YAML read them."""

    def __init__(self, text: str, value: bool) -> None:
        self.text, self.value = text, value


class YamlDocument(dict[str, Any]):
    """A parsed config mapping that remembers where YAML read a word as a boolean
    (``yaml_words``: key path -> the word), to explain errors at those places."""

    yaml_words: Words


_OCTAL_LIKE = re.compile(r"^[-+]?0[0-9_]+$")


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, with its two surprises made visible."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value: int = loader.construct_yaml_int(node)
    return LeadingZero(value, node.value) if _OCTAL_LIKE.match(node.value) else value


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    value: bool = loader.construct_yaml_bool(node)
    return value if node.value.lower() in ("true", "false") else _BoolWord(node.value, value)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def _unwrap(data: Any, words: Words) -> Any:
    """Bool words become plain booleans, in place (their first places noted). Each container
    is visited once: YAML aliases share them, and a document of aliases may stand for
    billions of nodes that must not be expanded."""
    if isinstance(data, _BoolWord):
        words[()] = data.text
        return data.value
    if not isinstance(data, dict | list):
        return data
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        container, path = stack.pop()
        if id(container) in seen:
            continue
        seen.add(id(container))
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in list(keys):
            value = container[key]
            if isinstance(value, _BoolWord):
                words.setdefault((*path, key), value.text)
                container[key] = value.value
            elif isinstance(value, dict | list):
                stack.append((value, (*path, key)))
    return data


def yaml_surprises(data: Any, errors: list[str]) -> Words:
    """Refuse numbers written with a leading zero (wherever they are) and return the places
    of bool words, to explain the errors found there."""

    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    seen: set[int] = set()
    while stack:  # not recursive (an API body may nest thousands deep), once per container
        value, path = stack.pop()
        if isinstance(value, Mapping | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, LeadingZero):
            decimal = value.text.lstrip("+-").lstrip("0") or "0"
            errors.append(
                f"{format_path(path)}: {value.text} has a leading zero, which YAML reads as the "
                f"octal number {int(value)}: write {decimal}, or quote it for text"
            )
        elif isinstance(value, Mapping):
            stack.extend((inner, [*path, key]) for key, inner in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((inner, [*path, i]) for i, inner in reversed(list(enumerate(value))))
    return dict(getattr(data, "yaml_words", {}))


def _meaning(word: str) -> str:
    return "true" if word.lower() in ("yes", "on", "y") else "false"


def explain_words(errors: list[str], words: Words) -> list[str]:
    if not words:
        return errors
    where = {format_path(list(path)): word for path, word in words.items()}
    explained = []
    for line in errors:
        path = line.split(": ", 1)[0]
        word = where.get(path)
        if word is not None and "YAML reads" not in line:
            line += (
                f" (YAML reads {word} as {_meaning(word)}: quote it, '{word}', to mean the word)"
            )
        explained.append(line)
    return explained


def parse_yaml(text: str, origin: str = "<config>") -> Any:
    """Parse YAML safely: no Python object tags, a clear error with the line for bad syntax,
    and YAML 1.1's surprises (``0100`` is 64, ``yes`` is true) made visible to validation."""
    try:
        loaded = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        message = f"{origin}: not valid YAML{where}: {problem}"
        raise ConfigError(message, [message]) from None
    words: Words = {}
    data = _unwrap(loaded, words)
    if not isinstance(data, dict):
        return data
    document = YamlDocument(data)
    document.yaml_words = words
    return document


def read_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file (not yet validated); every failure is a ``ConfigError``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        message = f"{p}: cannot read the configuration: {err}"
        raise ConfigError(message, [message]) from None
    return parse_yaml(text, str(p))
