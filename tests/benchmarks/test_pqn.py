"""benchmarks.pqn: the cases it times, its paired ratios, the peer's driver settings, and
the quick run (checked on tests/test_cli.py's run as a user types it)."""

import json

import pytest

from benchmarks import pqn as bench


def check_quick_run_measures_rlfa_only(path):
    summary = json.loads((path / "summary.json").read_text())
    (case,) = summary["cases"]
    assert case["impl"] == "rlfa" and case["workload"] == "cartpole" and case["run_s"] > 0
    assert summary["analysis"]["goals"]["one seed, rlfa / purejaxql"]["best"] is None


def test_cases_interleave_rlfa_and_purejaxql(tmp_path):
    (tmp_path / "pqn_gymnax.py").write_text("")
    config = bench.BenchmarkConfig(purejaxql_python=str(tmp_path / "pqn_gymnax.py"),
                                   purejaxql_dir=str(tmp_path), repeats=2)
    rounds = bench.cases(config)
    assert [[bench.label(c) for c in r] for r in rounds] == [[
        "purejaxql cartpole 1 seed", "rlfa cartpole 1 seed", "purejaxql cartpole 8 seeds",
        "rlfa cartpole 8 seeds map", "purejaxql minatar 1 seed", "rlfa cartpole 8 seeds vmap",
        "rlfa minatar 1 seed"]] * 2
    assert [c["round"] for c in rounds[1]] == [1] * 7


def test_rlfa_runs_purejaxqls_rollout_counts():
    config, rollouts, logs = bench.settings("cartpole", False, 409_600)
    assert rollouts == 500_000 // (32 * 64) == 244 and rollouts % logs == 0
    assert config.num_eval_episodes == 128  # purejaxql's TEST_NUM_ENVS
    config, rollouts, logs = bench.settings("minatar", False, 409_600)
    assert config.env == "Breakout-MinAtar" and rollouts == 100 and rollouts % logs == 0
    for workload, keys in bench.PEER_KEYS.items():
        config = bench.settings(workload, False, 409_600)[0]
        assert (keys["NUM_ENVS"], keys["NUM_STEPS"], keys["NUM_EPOCHS"],
                keys["NUM_MINIBATCHES"]) == (config.num_envs, config.rollout_steps,
                                             config.num_epochs, config.num_minibatches)
        assert (keys["LR"], keys["LAMBDA"], keys["EPS_FINISH"]) == (
            config.hparams.learning_rate, config.hparams.lambda_, config.hparams.epsilon_end)


def test_ratios_are_paired_within_rounds():
    rows = []
    for k, (ours1, ours8, peer1) in enumerate([(10.0, 30.0, 20.0), (30.0, 100.0, 40.0)]):
        common = dict(workload="cartpole", round=k, vectorize=False)
        rows += [dict(common, impl="rlfa", seeds=1, run_s=ours1),
                 dict(common, impl="rlfa", seeds=8, run_s=ours8),
                 dict(common, impl="purejaxql", seeds=1, run_s=peer1, final_per_seed=[500.0])]
    out = bench.analyse(rows)
    one = out["time_over_purejaxql"]["rlfa cartpole 1 seed / purejaxql cartpole 1 seed"]
    assert one == pytest.approx((0.5 + 0.75) / 2)
    assert out["eight_over_one_seed"]["rlfa cartpole 8 seeds map / rlfa cartpole 1 seed"] == \
        pytest.approx((3.0 + 100 / 30) / 2)
    assert out["goals"]["one seed, rlfa / purejaxql"]["met"]
    assert out["final_greedy_return_per_seed"] == {"purejaxql cartpole 1 seed": [500.0]}


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(workloads=("atari",)), r"workloads='atari' is invalid"),
    (dict(seeds=(0,)), r"seeds=0 is invalid"),
    (dict(purejaxql_python="/usr/bin/python3"), r"give both"),
])
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bench.BenchmarkConfig(**kwargs)
