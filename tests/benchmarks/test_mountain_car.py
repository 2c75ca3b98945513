"""benchmarks.mountain_car on quick settings (no timing assertions)."""

import csv
import json
from pathlib import Path

import pytest

from benchmarks import mountain_car as bench


def test_quick_benchmark_writes_results(tmp_path):
    path = bench.main(bench.BenchmarkConfig(quick=True, repeats=2, out=str(tmp_path)))
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    assert summary["workload"]["runs"] == 6 and summary["workload"]["num_episodes"] == 10
    assert summary["run_s"] > 0 and summary["compile_s"] > 0 and summary["env_steps"] > 0
    assert summary["speedup_vs_numpy_reference"] is None  # the quoted reference: full workload
    assert "not measured in this run" in summary["numpy_reference_quoted"]["measured"]
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["repeat"] for r in rows] == ["0", "1"]
    assert all(float(r["run_s"]) > 0 and int(r["env_steps"]) > 0 for r in rows)
    assert summary["run_s"] == pytest.approx(min(float(r["run_s"]) for r in rows))


def test_relative_out_becomes_absolute():
    assert Path(bench.BenchmarkConfig(out="runs").out) == Path.cwd() / "runs"


@pytest.mark.parametrize("field", ["num_seeds", "num_episodes", "block_steps", "repeats"])
def test_bad_config(field):
    with pytest.raises(ValueError, match=field):
        bench.BenchmarkConfig(**{field: 0})
