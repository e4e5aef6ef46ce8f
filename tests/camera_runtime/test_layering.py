"""The runtime is a library that never depends on Home Assistant."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
