"""benchmarks.random_walk on quick settings (no timing assertions)."""

import csv
import json

import pytest

from benchmarks import random_walk as bench


def test_quick_leaves_out_the_six_programs_of_figure_9_5_unless_asked():
    assert bench.BenchmarkConfig().figures == ("9.1", "9.5", "9.10")
    quick = bench.BenchmarkConfig(quick=True).effective()
    assert quick.figures == ("9.1", "9.10") and quick.repeats == 1
    asked = bench.BenchmarkConfig(quick=True, figures=("9.5",)).effective()
    assert asked.figures == ("9.5",)
    assert bench.BenchmarkConfig(repeats=5).effective().repeats == 5


def check_quick_run_writes_its_table(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png"):
        assert (path / name).is_file()
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["figure"], r["repeat"]) for r in rows] == [("9.1", "0"), ("9.10", "0")]
    assert all(float(r["run_s"]) > 0 and float(r["compile_s"]) > 0 for r in rows)
    # 3 runs x 200 episodes of about 83 steps each (9.1: 1 run x 2000 episodes).
    steps = {r["figure"]: int(r["env_steps"]) for r in rows}
    assert 0.8 * 2000 * 83 < steps["9.1"] < 1.2 * 2000 * 83
    assert 0.8 * 2 * 600 * 83 < steps["9.10"] < 1.2 * 2 * 600 * 83
    summary = json.loads((path / "summary.json").read_text())
    table = summary["benchmarks"]
    assert set(table) == {"9.1", "9.10"}
    assert table["9.1"]["workload"] == "1 config x 1 runs x 2000 episodes"
    assert table["9.10"]["workload"] == "2 config x 3 runs x 200 episodes"
    for row in table.values():
        assert row["run_s_median"] > 0 and row["compile_s_median"] > 0
        assert row["env_steps_per_s"] > 0
    assert table["9.1"]["speedup_vs_numpy"] > 0


@pytest.mark.parametrize("kwargs, field", [({"repeats": 0}, "repeats"),
                                           ({"figures": ()}, "figures"),
                                           ({"figures": ("9.10", "9.3")}, "figures"),
                                           ({"reference_episodes": -1}, "reference_episodes")])
def test_bad_config(kwargs, field):
    with pytest.raises(ValueError, match=field):
        bench.BenchmarkConfig(**kwargs)
