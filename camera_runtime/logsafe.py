"""Log-safe text: values from the network written into a log line with control characters escaped.

A request path, a header, a user name or a topic may carry CR, LF and other control characters;
written as they are, they end the log line and start a forged one (a fake
``camera_runtime.security.audit`` record, say). Every value that comes from outside and reaches
a log line goes through ``escape`` (or is formatted with ``%r``, which escapes the same
characters and adds quotes).
"""

from __future__ import annotations

import re

#: C0 controls (CR, LF, TAB, ESC...), DEL, C1 controls (NEL...), the Unicode line and paragraph
#: separators, and lone surrogates (which a log file's encoder would refuse).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Longer values are cut: a log line is not the place for a megabyte of header.
LIMIT = 512


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(value: object, limit: int = LIMIT) -> str:
    """``value`` as one line of printable text: control characters as ``\\n``, ``\\x1b``,
    ``\\u2028``..., cut to ``limit`` characters (then ``...``)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return _UNSAFE.sub(_replace, text)


__all__ = ["LIMIT", "escape"]
