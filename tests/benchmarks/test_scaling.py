"""benchmarks.scaling: the measurements it plans, its speed-ups, and a quick run."""

import csv
import json

import pytest

from benchmarks import scaling as bench


def test_default_covers_the_issue():
    config = bench.ScalingConfig()
    todo = bench.cases(config)
    seeds = {(c["workload"], c["seeds"]) for c in todo if c["study"] == "seeds"}
    assert seeds == {(w, n) for w in bench.WORKLOADS for n in (1, 4, 16, 64, 256, 1024)}
    assert all(c["num_devices"] is None for c in todo if c["study"] == "seeds")  # all present
    devices = {(c["workload"], c["num_devices"], c["seeds"]) for c in todo
               if c["study"] == "devices"}
    assert devices == {(w, k, 64) for w in bench.WORKLOADS for k in (1, 2, 4)}
    only = bench.cases(bench.ScalingConfig(devices_only=True))
    assert {c["study"] for c in only} == {"devices"} and len(only) == 9


def test_budgets_fill_whole_logged_points():
    # Mountain Car: 4096 steps = 64 blocks of 64, over 2 logged points; DQN: one update per 4 steps.
    _, _, steps_per_log, updates = bench.build("mountain_car", 4096)
    assert (steps_per_log, updates) == (32, 0)
    _, _, steps_per_log, updates = bench.build("dqn", 512)
    assert (steps_per_log, updates) == (64, 1)
    assert bench.env_steps_done("dqn", None, steps_per_log, 3) == 64 * 2 * 4 * 3


def test_speedups():
    rows = [{"study": "devices", "workload": "dqn", "num_devices": k, "env_steps_per_s": v}
            for k, v in ((1, 100.0), (2, 190.0), (4, 200.0))]
    rows.append({"study": "seeds", "workload": "dqn", "num_devices": 2, "env_steps_per_s": 1.0})
    assert bench.speedups(rows) == {"dqn": {"1": 1.0, "2": 1.9, "4": 2.0}}


def test_bad_config():
    with pytest.raises(ValueError, match="workloads='ppo'"):
        bench.ScalingConfig(workloads=("ppo",))
    with pytest.raises(ValueError, match="seeds=0"):
        bench.ScalingConfig(seeds=(0,))
    with pytest.raises(ValueError, match="dqn_steps=0"):
        bench.ScalingConfig(dqn_steps=0)
    with pytest.raises(ValueError, match="device_counts"):
        bench.ScalingConfig(device_counts=(), devices_only=True)


def check_quick_run_writes_table_and_figure(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it (every
    workload, in one process: the devices study in a child with 2 devices if this has 1)."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    table = summary["table"]
    assert {r["workload"] for r in table} == set(bench.WORKLOADS)
    walk = [r for r in table if r["workload"] == "random_walk"]
    assert [(r["study"], r["seeds"]) for r in walk] == [("seeds", 1), ("seeds", 4),
                                                        ("devices", 4), ("devices", 4)]
    assert [r["num_devices"] for r in walk[2:]] == [1, 2]
    for r in walk:
        assert r["updates_per_s"] == 0 and r["env_steps_per_seed"] >= 4  # 4 episodes at least
    for r in table:
        assert r["env_steps_per_s"] > 0 and r["compile_s"] > 0 and r["peak_rss_mb"] > 0
    assert set(summary["speedup_over_1_device"]["random_walk"]) == {"1", "2"}
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(table) and {"env_steps_per_s", "compile_s", "run_s"} <= set(rows[0])
