"""benchmarks.dqn: the cases it times, its analysis, and a quick run."""

import csv
import json
import sys

import pytest

from benchmarks import dqn as bench


def test_full_default_covers_the_issue():
    (round_,), profile = bench.cases(bench.BenchmarkConfig())
    trains = {(c["settings"], c["seeds"], c["devices"], c["vectorize"]) for c in round_}
    assert trains == {(s, n, d, v) for s in ("purejaxrl", "rlfa") for n in (1, 8, 64)
                      for d in ("one", "all") for v in ((False,) if n == 1 else (True, False))}
    assert {c["mode"] for c in round_} == {"train"} and {c["impl"] for c in round_} == {"rlfa"}
    # Every training case at rlfa's capped ISA and at XLA's default (PureJaxRL's).
    isas = [c["isa"] for c in round_]
    assert isas.count("capped") == isas.count("fast") == len(round_) // 2
    assert [c["mode"] for c in profile] == ["no_update", "act", "bare"] * 2
    assert {c["isa"] for c in profile} == {"capped"}
    pj, total = bench.SETTINGS["purejaxrl"]
    assert total == 500_000
    assert (pj.num_envs, pj.buffer_capacity, pj.batch_size) == (10, 10_000, 128)
    assert (pj.warmup_steps, pj.train_frequency, pj.target_period) == (10_000, 10, 500)
    assert (pj.hparams.learning_rate, pj.hparams.epsilon_end, pj.epsilon_decay_steps) == \
        (2.5e-4, 0.05, 250_000)
    assert pj.hidden == (120, 84) and pj.hparams.gamma == 0.99
    # PureJaxRL's optax.adam(learning_rate=lr): no global-norm clipping, a constant rate.
    assert (pj.optimizer, pj.max_grad_norm, pj.learning_rate_decay_steps) == ("adam", 0.0, 0)


def test_a_peer_script_with_other_settings_is_refused():
    config = {**bench.PUREJAXRL_KEYS}
    bench.check_purejaxrl_settings(config, [bench.PUREJAXRL_OPTIMIZER])
    clipped = "optax.chain(optax.clip_by_global_norm(10.0), optax.adam(learning_rate=lr))"
    with pytest.raises(RuntimeError, match="optimizer.*clip_by_global_norm"):
        bench.check_purejaxrl_settings(config, [clipped])
    with pytest.raises(RuntimeError, match="BUFFER_SIZE"):
        bench.check_purejaxrl_settings({**config, "BUFFER_SIZE": 50_000},
                                       [bench.PUREJAXRL_OPTIMIZER])


def test_peer_rounds_interleave_and_check_the_script(tmp_path):
    script = tmp_path / "dqn.py"
    script.write_text("")
    config = bench.BenchmarkConfig(settings=("purejaxrl",), seeds=(1,), devices=("one",),
                                   profile=False, repeats=2, purejaxrl_python=str(script),
                                   purejaxrl_script=str(script))
    rounds, _ = bench.cases(config)
    assert [[(c["impl"], c["seeds"], c["round"]) for c in r] for r in rounds] == [
        [("purejaxrl", 1, k), ("rlfa", 1, k), ("purejaxrl", 8, k), ("rlfa", 1, k)]
        for k in (0, 1)]
    assert [bench.label(c) for c in rounds[0] if c["impl"] == "rlfa"] == [
        "rlfa purejaxrl/flashbax 1 seed one dev", "rlfa purejaxrl/flashbax 1 seed one dev fast"]
    with pytest.raises(ValueError, match="purejaxrl_script"):
        bench.BenchmarkConfig(purejaxrl_python=str(script))


FAKE_PUREJAXRL = """
from typing import NamedTuple

import jax.numpy as jnp
import optax


class TrainState(NamedTuple):
    n_updates: object


def make_train(config):
    lr = config["LR"]
    tx = {optimizer}
    updates = (int(config["TOTAL_TIMESTEPS"]) - config["LEARNING_STARTS"]) // config[
        "TRAINING_INTERVAL"]
    return lambda rng: {{"runner_state": (TrainState(jnp.int32(updates)),)}}


def main():
    config = {config!r}
"""


@pytest.mark.parametrize("optimizer", [bench.PUREJAXRL_OPTIMIZER, "optax.chain("
                                       "optax.clip_by_global_norm(10.0), optax.adam(lr))"])
def test_the_driver_reads_the_peer_s_config_and_optimizer_from_its_source(optimizer, tmp_path):
    """PUREJAXRL_DRIVER, in a Python of its own, on a stand-in with PureJaxRL's layout."""
    script = tmp_path / "dqn.py"
    config = {**bench.PUREJAXRL_KEYS, "TOTAL_TIMESTEPS": 5e5, "SEED": 0, "NUM_SEEDS": 1}
    script.write_text(FAKE_PUREJAXRL.format(optimizer=optimizer, config=config))
    case = {"python": sys.executable, "script": str(script), "seeds": 2, "total_steps": 20_000}
    if optimizer != bench.PUREJAXRL_OPTIMIZER:
        with pytest.raises(RuntimeError, match="clip_by_global_norm"):
            bench.run_purejaxrl(case)
        return
    row = bench.run_purejaxrl(case)
    assert row["updates_per_seed"] == (20_000 - 10_000) // 10
    assert row["run_s"] > 0 and row["env_steps_per_s"] > 0


def test_analysis_ratios():
    common = dict(settings="purejaxrl", replay="rlfa", devices="one", impl="rlfa",
                  vectorize=True)
    rows = [dict(common, mode="train", seeds=1, run_s=12.0, updates_per_seed=1000,
                 us_per_train_step=12_000.0, round=0),
            dict(common, mode="train", seeds=1, run_s=10.0, updates_per_seed=1000,
                 us_per_train_step=10_000.0, round=1),
            dict(common, mode="train", seeds=1, run_s=14.0, updates_per_seed=1000,
                 us_per_train_step=14_000.0, round=2),
            dict(common, mode="train", seeds=8, run_s=48.0, updates_per_seed=1000,
                 us_per_train_step=48_000.0, round=0),
            dict(common, mode="no_update", seeds=1, us_per_train_step=3000.0),
            dict(common, mode="act", seeds=1, us_per_train_step=1000.0),
            dict(common, mode="bare", seeds=1, us_per_update=10_000.0)]
    out = bench.analyse(rows)["purejaxrl/rlfa"]
    assert out["loop_over_bare_update"] == pytest.approx(1.2)  # the median round's
    assert out["median_run_s"] == {"rlfa purejaxrl/rlfa 1 seed one dev": 12.0,
                                   "rlfa purejaxrl/rlfa 8 seeds one dev vmap": 48.0}
    share = out["share_of_train_step"]
    assert share["gradient updates"] == pytest.approx(0.75)
    assert share["replay writes + sampling"] == pytest.approx(2000 / 12000)


def test_ratio_to_purejaxrl_is_paired_within_rounds():
    ours = dict(impl="rlfa", settings="purejaxrl", replay="flashbax", devices="one",
                mode="train", seeds=8)
    peer = dict(impl="purejaxrl", settings="purejaxrl", mode="train", seeds=8)
    rows = [dict(ours, vectorize=True, run_s=30.0, round=0), dict(peer, run_s=100.0, round=0),
            dict(ours, vectorize=False, run_s=20.0, round=0),
            dict(ours, vectorize=True, run_s=60.0, round=1), dict(peer, run_s=200.0, round=1),
            dict(ours, vectorize=False, run_s=50.0, round=1),
            dict(ours, mode="no_update", vectorize=True, us_per_train_step=9.0, round=0)]  # no run_s
    out = bench.against_purejaxrl(rows)["purejaxrl 8 seeds"]
    assert out["rlfa_time_over_purejaxrl"] == {
        "rlfa purejaxrl/flashbax 8 seeds one dev vmap": pytest.approx(0.3),
        "rlfa purejaxrl/flashbax 8 seeds one dev map": pytest.approx(0.225)}
    assert out["best"] == pytest.approx(0.225) and out["goal"] == 0.30 and out["goal_met"]


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
    assert "not measured in this run" in summary["purejaxrl"]


@pytest.mark.slow
def test_bare_update_runs_on_cartpole_and_on_minatar_frames():
    from benchmarks import minatar

    for dqn in (bench.case_config("purejaxrl", "flashbax", quick=True)[0],
                minatar.agent_config("Breakout", quick=True)):
        assert bench.time_bare_update(dqn, repeats=2, num_batches=2) > 0
