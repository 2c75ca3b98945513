"""experiments.pqn: its settings, --sweep.lambda as one program, MinAtar's settings, the
quick run's files (checked on tests/test_cli.py's run as a user types it), bad input."""

import json

import numpy as np
import pytest
import tyro

from experiments import pqn as exp
from rlfa import dqn_study
from rlfa.control.pqn import MINATAR, PQNConfig, PQNHParams
from rlfa.sweep import Sweep


def check_quick_run_writes_results(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    summary = json.loads((path / "summary.json").read_text())
    assert summary["env"] == "CartPole-v1" and summary["agent"] == "PQN"
    assert summary["num_seeds"] == 2 and summary["replay_bytes_per_seed"] == 0
    finals = summary["final_greedy_return_per_seed"]
    assert len(finals) == 2 and all(r >= 1 for r in finals)
    # 600 steps in whole rollouts of 4 x 8: 19 rollouts, logged after each (19 is prime)
    assert summary["env_steps_per_seed"] == 608
    # What was run is written down: --quick's rollouts, not the flags' defaults.
    agent = summary["agent_settings"]
    assert (agent["env"], agent["num_envs"], agent["rollout_steps"]) == ("CartPole-v1", 4, 8)
    rows = (path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 19 and "greedy_return" in rows[0]


def parse(*args):
    return tyro.cli(exp.ExperimentConfig, args=list(args)).effective()


def test_budget_in_whole_rollouts_logged_evenly():
    steps_per_log, env_steps = dqn_study.plan(PQNConfig(), 500_000, 20)
    assert (steps_per_log, len(env_steps), env_steps[-1]) == (7, 35, 245 * 2048)
    steps_per_log, env_steps = dqn_study.plan(PQNConfig(), 100_000, 20)
    assert (steps_per_log, len(env_steps), env_steps[-1]) == (1, 49, 49 * 2048)


def test_defaults_are_purejaxqls_cartpole_run():
    config = parse()
    assert config.pqn == PQNConfig() and config.total_steps == 500_000
    assert (config.num_seeds, config.num_logs) == (16, 20)


def test_sweep_lambda_is_one_program_of_three_points():
    config = parse("--sweep.lambda", "0", "0.65", "0.95")
    points = config.grid(config.pqn.hparams)
    assert [p.lambda_ for p in points] == [0.0, 0.65, 0.95]
    assert len(list(exp.jobs(parse("--quick", "--sweep.lambda", "0", "0.95")))) == 1


def test_a_minatar_game_starts_from_purejaxqls_minatar_settings():
    config = parse("--game", "Breakout", "--pqn.num-epochs", "3", "--pqn.lambda", "0.5")
    assert config.pqn.env == "Breakout-MinAtar-paper"
    assert config.pqn.num_envs == MINATAR.num_envs and config.pqn.num_epochs == 3
    assert config.pqn.hparams.lambda_ == 0.5
    assert config.pqn.hparams.learning_rate == MINATAR.hparams.learning_rate
    assert parse("--game", "Breakout", "--protocol", "gymnax").pqn.env == \
        "Breakout-MinAtar-gymnax"


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(sweep=Sweep[PQNHParams](lambda_=("1.5",))),
     r"sweep\.lambda=1\.5 is invalid: must be a number in"),
    (dict(game="Pong"), r"game='Pong' is invalid: must be one of"),
    (dict(protocol="atari"), r"protocol='atari' is invalid"),
    (dict(num_seeds=0), r"num_seeds=0 is invalid"),
])
def test_bad_input_names_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        exp.ExperimentConfig(**kwargs)


@pytest.mark.slow  # a MinAtar program compiles
def test_quick_minatar_run_writes_finite_returns(tmp_path):
    from rlfa import study

    path = study.main(exp.STUDY, exp.ExperimentConfig(quick=True, game="Breakout",
                                                       out=str(tmp_path), progress=False))
    summary = json.loads((path / "summary.json").read_text())
    assert summary["env"] == "Breakout-MinAtar-paper"
    assert np.all(np.isfinite(summary["final_greedy_return_per_seed"]))
    # The MinAtar settings the game started from are written down, not the CartPole flags.
    agent = summary["agent_settings"]
    assert (agent["env"], agent["reward_scale"], agent["eval_max_steps"]) == \
        ("Breakout-MinAtar-paper", 1.0, 10_000)
    assert agent["hparams"]["learning_rate"] == 5e-4 and agent["hparams"]["lambda_"] == 0.65
