"""What a wheel ships: every package of the tree (the list in pyproject.toml is explicit, and a
package left out would be missing from a real install, not from an editable one), the web
page's files and the licence."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_package_of_the_tree_is_listed() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    roots = {name: ROOT / folder for name, folder in setuptools["package-dir"].items()}
    found = {"camera_runtime.api.static"}  # data only: the web page's files
    for name, folder in roots.items():
        for init in folder.rglob("__init__.py"):
            relative = init.parent.relative_to(folder).parts
            found.add(".".join((name, *relative)))
    assert listed == found


def test_the_web_page_and_the_licence_ship() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = project["tool"]["setuptools"]["package-data"]["camera_runtime.api.static"]
    static = ROOT / "camera_runtime" / "api" / "static"
    suffixes = {f"*{p.suffix}" for p in static.iterdir() if p.is_file()}
    assert suffixes <= set(data)
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()
