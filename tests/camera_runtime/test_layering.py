"""The runtime is a library that never depends on Home Assistant."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
LIBRARY_DIRS = [ROOT / "camera_runtime", ROOT / "plugins"]


def test_no_module_imports_homeassistant() -> None:
    offenders = []
    for folder in LIBRARY_DIRS:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                offenders += [
                    f"{path.relative_to(ROOT)}: {n}"
                    for n in names
                    if n.split(".")[0] == "homeassistant"
                ]
    assert offenders == []


def test_importing_everything_loads_no_homeassistant_module() -> None:
    code = (
        "import sys, camera_runtime.cli, camera_runtime.api, camera_runtime.zeroconf\n"
        "from camera_runtime.registry import create_plugin_manager, collect_registry\n"
        "collect_registry(create_plugin_manager())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


#: The options a built-in detector cannot do without (its schema has required keys).
_REGION = [[0, 0], [1, 0], [0, 1]]
_DETECTOR_OPTIONS: dict[str, dict[str, Any]] = {
    "line_crossing": {"rules": [{"line": [[0, 0], [1, 1]]}]},
    "intrusion": {"rules": [{"region": _REGION}]},
    "region_entrance": {"rules": [{"region": _REGION}]},
    "region_exiting": {"rules": [{"region": _REGION}]},
    "unattended_baggage": {"rules": [{"region": _REGION}]},
    "object_removal": {"rules": [{"region": _REGION}]},
}

#: The options a built-in stage cannot do without (its schema has required keys).
_STAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "privacy_mask": {"areas": [[[0, 0], [1, 0], [0, 1]]]},
    # A 1 x 1 white 24-bit BMP.
    "picture_overlay": {
        "data": "Qk06AAAAAAAAADYAAAAoAAAAAQAAAAEAAAABABgAAAAAAAQAAAATCwAAEwsAAAAAAAAAAAAA////AA=="
    },
}


def _plugin_names() -> set[str]:
    """Every name the built-in plugins declare: kinds, event types, control keys and options."""
    from camera_runtime.registry import collect_registry, create_plugin_manager

    registry = collect_registry(create_plugin_manager())
    names: set[str] = set()
    for kind, cls in registry.classes["detector"].items():
        names.add(kind)
        names |= {info.name for info in cls.EVENT_TYPES}  # type: ignore[attr-defined]
        options = cls.CONFIG_SCHEMA(_DETECTOR_OPTIONS.get(kind, {}))
        names |= {control.key for control in cls.controls(options)}  # type: ignore[attr-defined]
    for kind, cls in registry.classes["image_stage"].items():
        names.add(kind)
        options = cls.CONFIG_SCHEMA(_STAGE_OPTIONS.get(kind, {}))
        names |= {control.key for control in cls.controls(options)}  # type: ignore[attr-defined]
    return names


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """String literals of a module, docstrings left out; skips the demo's own config (the
    demo host writes a config that uses plugins, as a user's file does)."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "demo_config":
            skipped |= {id(inner) for inner in ast.walk(node)}
        # The manual's own words (``*_VOCABULARY``: "motion" and "alarm" record types), which a
        # plugin may share; the core still matches events by what plugins declare.
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("_VOCABULARY") for t in node.targets
        ):
            skipped |= {id(inner) for inner in ast.walk(node)}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and id(node) not in skipped
    ]


def test_no_face_or_core_module_names_a_plugin() -> None:
    """What a plugin offers reaches every face from its declarations: no module of the core,
    its faces or the Home Assistant integration names a built-in detector or image stage, its
    event types or its controls (the motion detector is the model plugin, nothing special)."""
    names = _plugin_names()
    assert {"motion", "motion_detection", "motion_sensitivity", "privacy_mask", "rotate"} <= names
    offenders = []
    for folder in (ROOT / "camera_runtime", ROOT / "custom_components" / "camera_runtime"):
        for path in folder.rglob("*.py"):
            for line, text in _string_constants(path):
                if text in names:
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert offenders == []


def test_the_layering_contracts_hold() -> None:
    """``lint-imports`` checks the contracts of pyproject.toml: the core imports no face, faces
    do not import each other, plugins import only the contract, the integration only the
    client library."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout
