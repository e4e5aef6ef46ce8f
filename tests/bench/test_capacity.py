"""How ``bench/capacity.py`` counts the cameras a load carries and compares two loads' CPU:
issue 15's verdict (smart at least 0.8x motion's cameras) rests on these counts."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def capacity() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # its helpers (_common, _paced) are imported by name
    try:
        return importlib.import_module("capacity")
    finally:
        sys.path.remove(str(BENCH))


def _run(
    capacity: ModuleType,
    n: int,
    late: float,
    *,
    variant: str = "",
    trial: int = 0,
    cpu: float = 1.0,
) -> object:
    return capacity.RunResult(
        n=n,
        mode="random",
        processes=1,
        variant=variant,
        trial=trial,
        frames=1000,
        late_percent=late,
        cpu_cores=cpu,
    )


def test_a_step_counts_when_most_of_its_runs_pass_and_the_count_stops_at_the_first_that_does_not(
    capacity: ModuleType,
) -> None:
    runs = (
        [
            _run(capacity, 64, late)
            for late in (0.0, 3.7, 0.4)  # two of three pass
        ]
        + [_run(capacity, 68, late) for late in (0.1, 0.4, 0.1)]
        + [
            _run(capacity, 72, late)
            for late in (8.4, 1.1, 0.3)  # one of three: the count stops at 68
        ]
        + [
            _run(capacity, 76, late)
            for late in (0.0, 0.2, 0.5)  # a fast phase of the host above a failed step
        ]
    )
    assert capacity.runs_passed(runs, "random", "") == {
        64: (2, 3),
        68: (3, 3),
        72: (1, 3),
        76: (3, 3),
    }
    assert capacity.carried(runs, "random", "") == 68
    assert capacity.carried(runs, "random", "smart") == 0  # no runs of that variant


def test_half_the_runs_is_not_a_majority_and_one_run_a_step_stops_at_the_first_failure(
    capacity: ModuleType,
) -> None:
    halves = [_run(capacity, 60, 0.0), _run(capacity, 64, 0.0), _run(capacity, 64, 34.6)]
    assert capacity.carried(halves, "random", "") == 60
    single = [_run(capacity, n, late) for n, late in ((48, 0.2), (52, 0.9), (56, 1.0), (60, 0.1))]
    assert capacity.carried(single, "random", "") == 52  # 1.0 % is not under 1 %
    assert capacity.carried([_run(capacity, 48, 2.0)], "random", "") == 0


def test_cpu_is_compared_within_a_round_and_the_median_of_the_rounds_is_given(
    capacity: ModuleType,
) -> None:
    runs = []
    for trial, (plain, smart) in enumerate(((1.0, 1.3), (1.2, 1.2), (1.5, 1.5 * 1.2))):
        runs.append(_run(capacity, 64, 0.0, trial=trial, cpu=plain))
        runs.append(_run(capacity, 64, 0.0, variant="smart", trial=trial, cpu=smart))
    # a failed run's CPU is capped by the machine: no ratio at 68, where smart failed
    runs.append(_run(capacity, 68, 0.0, cpu=1.4))
    runs.append(_run(capacity, 68, 5.0, variant="smart", cpu=1.9))
    ratios = capacity.cpu_ratios(runs, "random", "smart")
    assert list(ratios) == [64]
    assert ratios[64] == pytest.approx(1.2)  # the rounds' 1.3, 1.0, 1.2: not the sums' 4.3 / 3.7


def test_the_comparison_shows_each_step_s_runs_for_both_loads(capacity: ModuleType) -> None:
    runs = [
        _run(capacity, 64, 0.0),
        _run(capacity, 64, 0.1, variant="smart"),
        _run(capacity, 68, 0.0),
        _run(capacity, 68, 2.3, variant="smart"),
        _run(capacity, 72, 0.2),
    ]
    [row] = capacity.variant_ratios(runs, ["random"], ["smart"])
    assert (row["best"], row["plain"], row["passed"]) == (64, 72, True)  # 0.89
    assert capacity._passes(row["runs_passed"], row["plain_runs_passed"]) == (
        "64: 1/1 / 1/1, 68: 0/1 / 1/1, 72: - / 1/1"
    )
