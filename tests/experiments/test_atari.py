"""experiments.atari: the Nature agent and protocol as the defaults, protocol and agent
settings merged with explicit flags, the quick run's files (checked on tests/test_cli.py's
run as a user types it), an interrupted run resumed, bad input."""

import dataclasses
import json
import signal

import numpy as np
import pytest
import tyro

from experiments import atari as exp
from rlfa.control.dqn import DQNHParams
from rlfa.control.dqn.atari import NATURE_DQN
from rlfa.envs import atari


def check_quick_run_writes_results(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    summary = json.loads((path / "summary.json").read_text())
    assert list(summary["games"]) == ["Breakout"] and summary["protocol"] == "nature"
    run = summary["games"]["Breakout"]["Breakout"]
    assert run["frames_per_seed"] == summary["frames"] == 2_400
    assert (run["random_score"], run["human_score"]) == atari.REFERENCE_SCORES["breakout"]
    assert len(run["final_score_per_seed"]) == 2
    # What was run is written down: the quick agent's replay, not the flags' defaults.
    assert run["agent_settings"]["buffer_capacity"] == 2_000
    assert run["agent_settings"]["hparams"]["learning_rate"] == 2.5e-4
    assert run["agent_settings"]["env"] == atari.env_name("Breakout", "nature")
    assert all(np.isfinite(run["final_score_per_seed"]))
    headlines = summary["headlines"]
    score = headlines["Breakout"]["per_seed"]
    normalised = headlines["Breakout, human-normalised"]["per_seed"]
    np.testing.assert_allclose(normalised, (np.array(score) - 1.7) / (30.5 - 1.7))
    rows = (path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 and "eval_score" in rows[0] and "frames" in rows[0]


def parse(*args):
    return tyro.cli(exp.AtariConfig, args=list(args)).effective()


def test_defaults_are_the_nature_papers():
    config = parse()
    assert config.dqn == NATURE_DQN and config.frames == 50_000_000
    assert config.protocol_settings() == atari.NATURE and config.games == ("Breakout", "Pong")
    # Half an hour per logged point on a CPU: progress and checkpoints come at each one.
    assert config.num_logs == 50 and config.logs_per_chunk == 1
    dqn = config.agent("Pong")
    assert dqn.env == "Pong-Atari-nature" and dqn.eval_max_steps == 4_500
    assert (dqn.buffer_capacity, dqn.batch_size, dqn.train_frequency, dqn.target_period,
            dqn.warmup_steps, dqn.epsilon_decay_steps) == (1_000_000, 32, 4, 10_000, 50_000,
                                                           1_000_000)


def test_machado_protocol_with_an_explicit_flag_winning():
    config = parse("--protocol", "machado", "--atari.noop-max", "10")
    settings = config.protocol_settings()
    assert settings.sticky_action_prob == 0.25 and settings.full_action_space
    assert not settings.life_loss_ends_episode and settings.noop_max == 10
    assert config.agent("Breakout").env == "Breakout-Atari-machado"


def test_cpu_settings_with_an_explicit_flag_winning():
    dqn = parse("--settings", "cpu", "--dqn.learning-rate", "3e-4").agent("Breakout")
    # The Nature agent's network, loss, batch and update rate, sized for a 1M-frame run.
    assert (dqn.network, dqn.huber, dqn.batch_size, dqn.train_frequency) == ("nature", True, 32, 4)
    assert (dqn.optimizer, dqn.target_period, dqn.warmup_steps, dqn.epsilon_decay_steps,
            dqn.buffer_capacity) == ("adam", 1_000, 12_500, 62_500, 250_000)
    # The flag replaces one hyperparameter; the others stay the cpu agent's.
    assert dqn.hparams == DQNHParams(learning_rate=3e-4, gamma=0.99, epsilon_start=1.0,
                                     epsilon_end=0.01)
    assert parse("--settings", "cpu").agent("Pong").hparams.learning_rate == 1e-4
    quick = parse("--settings", "cpu", "--quick")
    assert quick.settings == "cpu" and quick.agent("Breakout").optimizer == "adam"
    assert quick.agent("Breakout").buffer_capacity == exp.quick_dqn(NATURE_DQN).buffer_capacity


@pytest.mark.parametrize("make, message", [
    (lambda: exp.AtariConfig(games=("Breakouts",)), r"game='Breakouts' is invalid"),
    (lambda: exp.AtariConfig(protocol="dopamine"), r"protocol='dopamine' is invalid"),
    (lambda: exp.AtariConfig(settings="gpu"), r"settings='gpu' is invalid"),
    (lambda: exp.AtariConfig(atari=atari.AtariProtocol(frame_skip=0)), r"frame_skip=0 is invalid"),
    (lambda: exp.AtariConfig(atari=atari.AtariProtocol(stack=0)), r"stack=0 is invalid"),
    (lambda: exp.AtariConfig(dqn=dataclasses.replace(NATURE_DQN, network="mlp")),
     r"network='mlp' is invalid"),
    (lambda: exp.AtariConfig(dqn=dataclasses.replace(NATURE_DQN, num_eval_episodes=0)),
     r"num_eval_episodes=0 is invalid"),
])
def test_bad_input_names_the_field(make, message):
    with pytest.raises(ValueError, match=message) as error:
        make()
    assert "\n" not in str(error.value)


@pytest.mark.slow  # two quick Atari runs in subprocesses
def test_sigint_then_the_printed_resume_finishes_with_new_episodes(tmp_path):
    """A resumed run restores the agent, replay and counters and restarts the games (their
    emulators are not in the checkpoint): it finishes every logged point."""
    from tests.test_cli import failure, interrupt_after_a_chunk, python_m, results_dir

    args = ["--quick", "--num-seeds", "1", "--checkpoint-every", "1", "--logs-per-chunk", "1",
            "--num-logs", "4"]
    _, resume = interrupt_after_a_chunk("experiments.atari", args, tmp_path, signal.SIGINT,
                                        "runs/checkpoints/atari/*/*/chunk_*")
    resumed = python_m("experiments.atari", *args, "--resume", str(resume), cwd=tmp_path)
    assert resumed.returncode == 0, failure(resumed)
    path = results_dir(resumed.stdout)
    rows = (path / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    frames = [int(float(r.split(",")[header.index("frames")])) for r in rows[1:]]
    assert frames == [1_200, 1_600, 2_000, 2_400]  # 200 random steps, then 4 x 100
    summary = json.loads((path / "summary.json").read_text())
    assert np.isfinite(summary["games"]["Breakout"]["Breakout"]["final_score_per_seed"]).all()
