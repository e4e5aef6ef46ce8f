"""Benchmark: motion detection accuracy per scene and sensitivity, this version against an earlier one (recall, false pictures).

The scenes come from ``tests/plugins/detectors/motion_scenes.py`` (720p drawn, 320x180 detect
pictures at 5 fps, ground truth per picture): a person-sized walker at 15 % opacity (faint) and
solid (ordinary) over a textured and a flat background by day and by night, and the same
backgrounds quiet (sensor noise only), under global brightness steps and with the camera
shaking by up to 3 px. Each scene is run through a fresh detector at each sensitivity, for the
detector in the working tree ("after") and the one at ``--base`` ("before", loaded from git into
a temporary module beside the current plugin's helpers).

Targets (issue 17, at the default sensitivity 50): recall on the faint walker >= 90 %; false
pictures <= 5 % on the quiet, brightness-step and shake scenes. Accuracy does not depend on
the machine's load, so this needs no quiet machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import environment, finish, markdown_table, print_header, verdict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camera_runtime_plugins.detectors.motion import MotionDetector  # noqa: E402
from tests.plugins.detectors.motion_scenes import SCENES, Score, build, factory, score  # noqa: E402

NAME = "motion_accuracy"
#: The detector before issue 17 (the fork point of the branch that made it adaptive).
BEFORE_ISSUE_17 = "5d8e2c0"
SENSITIVITIES = (30, 50, 70, 85, 100)
DEFAULT = 50
TARGET_RECALL = 0.90
TARGET_FALSE = 0.05


def load_version(ref: str) -> ModuleType:
    """The motion plugin module as it was at git ``ref``, imported as a sibling of the current
    plugin modules: its events (``motion_events``: the findings it hands over and the events
    they make) as they were at ``ref`` too, its areas, day/night and foreground today's."""
    folder = Path(tempfile.mkdtemp(prefix="motion-base-"))
    events = _import_source(_source_at(ref, "motion_events"), "motion_events", folder)
    source = _source_at(ref, "motion").replace(
        "from .motion_events import", f"from .{events.__name__.rsplit('.', 1)[1]} import"
    )
    return _import_source(source, "motion", folder)


def _source_at(ref: str, module: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:plugins/detectors/{module}.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _import_source(source: str, module: str, folder: Path) -> ModuleType:
    path = folder / f"{module}_base.py"
    path.write_text(source)
    name = f"camera_runtime_plugins.detectors.{module}_base"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def cell(result: Score, walking: bool) -> str:
    if walking:
        return f"{result.found}/{result.visible} ({result.false})"
    return f"{result.false}/{result.scored}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default=BEFORE_ISSUE_17, help="git ref of the 'before' detector")
    parser.add_argument("--quick", action="store_true", help="sensitivities 50 and 85 only")
    parser.add_argument("--seeds", type=int, default=1, help="scene variants (default 1)")
    args = parser.parse_args()
    sensitivities = (DEFAULT, 85) if args.quick else SENSITIVITIES

    env = environment()
    print_header("Motion detection accuracy", env, args.quick)
    versions = {
        "before": factory(load_version(args.base).MotionDetector),
        "after": factory(MotionDetector),
    }
    results: dict[str, dict[str, dict[int, list[Score]]]] = {}
    for spec in SCENES:
        for seed in range(args.seeds):
            clip = build(type(spec)(spec.background, spec.light, spec.kind, seed))
            for version, make in versions.items():
                row = results.setdefault(spec.name, {}).setdefault(version, {})
                for s in sensitivities:
                    row.setdefault(s, []).append(score(clip, make, {"sensitivity": s}))
        print(f"  {spec.name}: done", flush=True)

    def total(scores: list[Score]) -> Score:
        return Score(
            sum(x.found for x in scores),
            sum(x.visible for x in scores),
            sum(x.false for x in scores),
            sum(x.scored for x in scores),
        )

    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    for spec in SCENES:
        walking = spec.kind in ("faint", "ordinary")
        for version in versions:
            scores = {s: total(v) for s, v in results[spec.name][version].items()}
            at_default = scores[DEFAULT]
            if walking:
                ok = at_default.recall >= TARGET_RECALL if spec.kind == "faint" else None
            else:
                ok = at_default.false_rate <= TARGET_FALSE
            rows.append(
                [spec.name, version]
                + [cell(scores[s], walking) for s in sensitivities]
                + ["" if ok is None else verdict(ok)]
            )
            summary.setdefault(spec.name, {})[version] = {
                s: {"found": x.found, "visible": x.visible, "false": x.false, "scored": x.scored}
                for s, x in scores.items()
            }
    print()
    print(
        markdown_table(
            ["scene", "detector", *(f"s={s}" for s in sensitivities), f"target at s={DEFAULT}"],
            rows,
        )
    )
    print(
        "\nWalker scenes: pictures with a box on the walker / pictures where at least half of it "
        "is visible (pictures with motion reported elsewhere). Other scenes: pictures with "
        f"motion / pictures scored. {args.seeds} seed(s); 'before' is {args.base}. Targets at "
        f"s={DEFAULT}: faint recall >= {TARGET_RECALL:.0%}, false pictures <= {TARGET_FALSE:.0%}."
    )
    finish(
        NAME,
        args.quick,
        env,
        {
            "base": args.base,
            "seeds": args.seeds,
            "sensitivities": sensitivities,
            "results": summary,
        },
    )


if __name__ == "__main__":
    main()
