"""Log-safe text: no value from outside can end a log line or start a forged one."""

from __future__ import annotations

from camera_runtime.logsafe import escape


def test_control_characters_are_escaped() -> None:
    assert escape("/x\nFAKE security.audit") == "/x\\nFAKE security.audit"
    assert escape("a\r\nb\tc\x00d\x1be\x7ff") == "a\\r\\nb\\tc\\x00d\\x1be\\x7ff"
    assert escape("nel\x85 ls\u2028 ps\u2029") == "nel\\x85 ls\\u2028 ps\\u2029"
    assert escape("lone \udc80") == "lone \\udc80"


def test_printable_text_is_kept_and_long_values_are_cut() -> None:
    assert escape("/api/channels/cam1 é 日本") == "/api/channels/cam1 é 日本"
    assert escape(None) == "None"
    assert escape("x" * 600) == "x" * 512 + "..."
    assert escape("x\n" * 10, limit=4) == "x\\nx\\n..."
