"""benchmarks.dqn: the cases it times, its analysis, and a quick run."""

import csv
import json

import pytest

from benchmarks import dqn as bench


def test_full_default_covers_the_issue():
    config = bench.BenchmarkConfig()
    cases = bench.cases(config)
    trains = {(c["settings"], c["seeds"], c["devices"]) for c in cases if c["mode"] == "train"}
    assert trains == {(s, n, d) for s in ("purejaxrl", "rlfa") for n in (1, 8, 64)
                      for d in ("one", "all")}
    assert {c["mode"] for c in cases} == {"train", "no_update", "act", "bare"}
    pj, total = bench.SETTINGS["purejaxrl"]
    assert total == 500_000
    assert (pj.num_envs, pj.buffer_capacity, pj.batch_size) == (10, 10_000, 128)
    assert (pj.warmup_steps, pj.train_frequency, pj.target_period) == (10_000, 10, 500)
    assert (pj.hparams.learning_rate, pj.hparams.epsilon_end, pj.epsilon_decay_steps) == \
        (2.5e-4, 0.05, 250_000)
    assert pj.hidden == (120, 84) and pj.hparams.gamma == 0.99


def test_analysis_ratios():
    common = dict(settings="purejaxrl", replay="rlfa", devices="one")
    rows = [dict(common, mode="train", seeds=1, run_s=12.0, updates_per_seed=1000,
                 us_per_train_step=12_000.0),
            dict(common, mode="train", seeds=8, run_s=48.0, updates_per_seed=1000,
                 us_per_train_step=48_000.0),
            dict(common, mode="no_update", seeds=1, us_per_train_step=3000.0),
            dict(common, mode="act", seeds=1, us_per_train_step=1000.0),
            dict(common, mode="bare", seeds=1, us_per_update=10_000.0)]
    out = bench.analyse(rows)["purejaxrl/rlfa"]
    assert out["loop_over_bare_update"] == pytest.approx(1.2)
    assert out["seeds_scaling_one"] == {"1": 1.0, "8": 4.0}
    share = out["share_of_train_step"]
    assert share["gradient updates"] == pytest.approx(0.75)
    assert share["replay writes + sampling"] == pytest.approx(2000 / 12000)


def test_bad_config():
    with pytest.raises(ValueError, match="settings='cleanrl'"):
        bench.BenchmarkConfig(settings=("cleanrl",))
    with pytest.raises(ValueError, match="seeds=0"):
        bench.BenchmarkConfig(seeds=(0,))


def check_quick_run_times_one_setting(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it (the
    first setting, one seed, each case in its own process, with the profile)."""
    summary = json.loads((path / "summary.json").read_text())
    (row,) = [r for r in summary["cases"] if r["mode"] == "train"]
    assert row["settings"] == "purejaxrl" and row["seeds"] == 1
    assert row["updates_per_s"] > 0 and row["compile_s"] > 0 and row["peak_rss_mb"] > 0
    assert summary["hyperparameters"]["purejaxrl"]["batch_size"] == 128
    assert {r["mode"] for r in summary["cases"]} == {"train", "no_update", "act", "bare"}
    for name in ("config.json", "metrics.csv", "figure.png"):
        assert (path / name).is_file()
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    (csv_row,) = [r for r in rows if r["mode"] == "train"]
    assert float(csv_row["run_s"]) > 0
    quoted = summary["purejaxrl_reference_quoted"]
    assert quoted["run_s"] == {"1": 8.4, "8": 68.1} and "not in this run" in quoted["measured"]


@pytest.mark.slow
def test_bare_update_runs_on_cartpole_and_on_minatar_frames():
    from benchmarks import minatar

    for dqn in (bench.case_config("purejaxrl", "flashbax", quick=True)[0],
                minatar.agent_config("Breakout", quick=True)):
        assert bench.time_bare_update(dqn, repeats=2, num_batches=2) > 0
