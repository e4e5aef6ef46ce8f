"""The linkage example config is valid as shipped, with every constraint met."""

from __future__ import annotations

from pathlib import Path

from camera_runtime.host import runtime_from_file

EXAMPLE = Path(__file__).parents[3] / "examples" / "linkage.yaml"


def test_the_linkage_example_is_valid() -> None:
    runtime = runtime_from_file(EXAMPLE)
    linkage = runtime.config.linkage
    assert [r["id"] for r in linkage["rules"]] == ["ring", "garage-opened", "porch-motion"]
    types = {r["type"] for r in linkage["resources"]}
    assert types == {
        "doorbell", "alarm_input", "alarm_output", "door", "panel_area", "surveillance_center",
    }  # fmt: skip
