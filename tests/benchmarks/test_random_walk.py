"""benchmarks.random_walk on quick settings (no timing assertions)."""

import csv
import json

import pytest

from benchmarks import random_walk as bench


def test_quick_benchmark_writes_its_table(tmp_path):
    config = bench.BenchmarkConfig(quick=True, repeats=1, reference_episodes=20,
                                   out=str(tmp_path))
    path = bench.main(config)
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png"):
        assert (path / name).is_file()
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["figure"], r["repeat"]) for r in rows] == [("9.1", "0"), ("9.10", "0")]
    assert all(float(r["run_s"]) > 0 and float(r["compile_s"]) > 0 for r in rows)
    summary = json.loads((path / "summary.json").read_text())
    table = summary["benchmarks"]
    assert set(table) == {"9.1", "9.10"}
    assert table["9.1"]["workload"] == "1 config x 1 runs x 2000 episodes"
    assert table["9.10"]["workload"] == "2 config x 3 runs x 200 episodes"
    for row in table.values():
        assert row["run_s_median"] > 0 and row["compile_s_median"] > 0
    assert table["9.1"]["speedup_vs_numpy"] > 0


@pytest.mark.parametrize("kwargs, field", [({"repeats": 0}, "repeats"),
                                           ({"reference_episodes": -1}, "reference_episodes")])
def test_bad_config(kwargs, field):
    with pytest.raises(ValueError, match=field):
        bench.BenchmarkConfig(**kwargs)
