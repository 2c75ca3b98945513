"""experiments.dqn end to end on quick settings, and its bad inputs."""

import json

import numpy as np
import pytest

from experiments import dqn as exp
from rlfa import dqn_study
from rlfa.control.dqn import DQNConfig, DQNHParams
from rlfa.sweep import Sweep


def check_quick_run_writes_results(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).stat().st_size > 0
    summary = json.loads((path / "summary.json").read_text())
    assert summary["env"] == "CartPole-v1" and summary["num_seeds"] == 2
    finals = summary["final_greedy_return_per_seed"]
    assert len(finals) == 2 and all(r >= 1 for r in finals)  # CartPole pays 1 per step
    (headline,) = summary["headlines"].values()
    assert headline["per_seed"] == finals
    assert headline["mean"]["value"] == pytest.approx(np.mean(finals))
    assert summary["env_steps_per_seed"] == exp.QUICK_STEPS
    assert summary["replay_bytes_per_seed"] == 500 * (4 * 4 * 2 + 4 + 4 + 1 + 1) + 8
    assert summary["compile_s"] > 0 and summary["run_s"] > 0
    assert "seeds_at_threshold_final" in summary
    rows = (path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2  # 2 seeds x 2 logged points
    assert "greedy_return" in rows[0]


def test_defaults_are_the_cartpole_settings():
    config = exp.ExperimentConfig()
    assert config.dqn == exp.CARTPOLE and config.num_seeds == 16
    assert config.effective().total_steps == 100_000 and config.effective().num_logs == 20
    quick = exp.ExperimentConfig(quick=True, num_logs=6).effective()
    assert (quick.total_steps, quick.num_logs, quick.num_seeds) == (exp.QUICK_STEPS, 6, 2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_seeds=0), "num_seeds=0"), (dict(total_steps=-1), "total_steps=-1"),
    (dict(num_logs=0), "num_logs=0"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exp.ExperimentConfig(**kwargs)


def test_unknown_env_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Acrobot-v1"):
        exp.ExperimentConfig(dqn=DQNConfig(env="Pong"))


def test_training_without_evaluation_is_refused():
    with pytest.raises(ValueError, match="num_eval_episodes=0"):
        dqn_study.train(DQNConfig(num_eval_episodes=0), num_seeds=1, total_steps=20_000, num_logs=1)


@pytest.mark.slow
def test_a_sweep_runs_every_point_in_one_program_with_one_headline_each(tmp_path):
    path = exp.STUDY.run(exp.ExperimentConfig(
        quick=True, out=str(tmp_path), progress=False, num_seeds=1,
        sweep=Sweep[DQNHParams](learning_rate=("1e-3", "5e-4"))))
    summary = json.loads((path / "summary.json").read_text())
    assert len(summary["timings"]) == 1  # both points in one compiled program
    assert list(summary["headlines"]) == ["CartPole-v1: DQN (learning_rate=0.001)",
                                          "CartPole-v1: DQN (learning_rate=0.0005)"]
    assert list(summary["points"]) == list(summary["headlines"])
    # Each point's agent as run carries its own swept value.
    assert [p["agent_settings"]["hparams"]["learning_rate"]
            for p in summary["points"].values()] == [1e-3, 5e-4]
    rows = (path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 and "learning_rate" in rows[0]  # 2 points x 2 logged points


def test_a_swept_value_is_validated_like_the_config_s_own():
    with pytest.raises(ValueError, match="gamma=1.5"):
        exp.ExperimentConfig(sweep=Sweep[DQNHParams](gamma=("0.9", "1.5")))
