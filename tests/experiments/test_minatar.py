"""experiments.minatar and the MinAtar paper's protocol: the agent's schedule, the ablation rungs,
the training-episode metric, the config's errors, and a short Breakout run that learns."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import minatar as exp
from rlfa import envs
from rlfa import dqn_study, minatar_study
from rlfa.control.dqn import (
    DQNConfig,
    DQNHParams,
    RecentReturns,
    make_agent,
    make_program,
    record_returns,
    storage_dtype,
)
from rlfa.control.dqn.minatar_paper import PAPER, PAPER_FRAMES, RUNGS, paper_config
from rlfa.hparams import traced
from rlfa.sweep import Sweep

QUICK_RUNGS = ("DQN", "no replay")


def check_quick_run_writes_results(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    summary = json.loads((path / "summary.json").read_text())
    assert summary["protocol"] == "paper" and summary["num_seeds"] == 2
    assert summary["envs"] == {"Breakout": "Breakout-MinAtar-paper"}  # --quick: the first game
    rungs = summary["games"]["Breakout"]
    assert list(rungs) == list(QUICK_RUNGS)
    for name, rung in rungs.items():
        last_100 = rung["recent_train_return_per_seed"]
        episodes = rung["train_episodes_per_seed"]
        # 2,000 frames of a nearly random policy: Breakout episodes last tens of frames, and
        # a random policy scores about 0.5 per episode (at least 0, at most a brick a frame)
        assert len(last_100) == 2 and all(0.0 <= r <= 10.0 for r in last_100), name
        assert all(10 <= e <= 2_000 for e in episodes), name
        head = summary["headlines"][f"Breakout: {name}"]
        assert rung["train_return_window"] == 100
        assert head["metric"] == "mean return of the last 100 training episodes"
        assert head["per_seed"] == pytest.approx(last_100)
        assert summary["headlines"][f"Breakout: {name}, greedy"]["metric"] == \
            "final greedy return"
    assert rungs["DQN"]["env_steps_per_seed"] == rungs["no replay"]["env_steps_per_seed"] == 2_000
    assert rungs["DQN"]["replay_bytes_per_seed"] > 0 == rungs["no replay"]["replay_bytes_per_seed"]
    # Each rung's agent as run is written down: the rung's replay and warm-up on --quick's agent.
    dqn, no_replay = rungs["DQN"]["agent_settings"], rungs["no replay"]["agent_settings"]
    assert dqn["env"] == no_replay["env"] == "Breakout-MinAtar-paper"
    assert (dqn["replay"], no_replay["replay"], no_replay["warmup_steps"]) == (True, False, 0)
    assert dqn["buffer_capacity"] == minatar_study.quick_dqn(PAPER).buffer_capacity
    rows = (path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2 * 2  # 2 rungs x 2 seeds x 2 logged points
    assert "recent_train_return" in rows[0] and "greedy_return" in rows[0]


# --- the paper's protocol ----------------------------------------------------------------


def test_rungs_differ_in_replay_target_and_the_no_replay_warm_up_only():
    configs = {name: paper_config("Breakout", name) for name in RUNGS}
    flags = {name: (c.replay, c.target_net, c.warmup_steps) for name, c in configs.items()}
    assert flags == {"DQN": (True, True, 5_000), "no replay": (False, True, 0),
                     "no target network": (True, False, 5_000), "neither": (False, False, 0)}
    same = {dataclasses.replace(c, replay=True, target_net=True, warmup_steps=5_000)
            for c in configs.values()}
    assert len(same) == 1
    dqn = configs["DQN"]
    assert (dqn.batch_size, dqn.buffer_capacity, dqn.target_period, dqn.train_frequency,
            dqn.gradient_steps, dqn.num_envs) == (32, 100_000, 1_000, 1, 1, 1)
    assert (dqn.optimizer, dqn.hparams.learning_rate, dqn.huber, dqn.double, dqn.max_grad_norm) == \
        ("centered_rmsprop", 2.5e-4, True, False, 0.0)
    assert dqn.train_return_window == 100 and PAPER_FRAMES == 5_000_000


@pytest.mark.parametrize("rung, frames_epsilon", [
    # 1.0 through the 5,000 random frames, then linearly to 0.1 over the next 100,000
    ("DQN", [(0, 1.0), (5_000, 1.0), (55_000, 0.55), (105_000, 0.1), (10**6, 0.1)]),
    # no replay: no random frames, the decay starts at frame 0
    ("no replay", [(0, 1.0), (50_000, 0.55), (100_000, 0.1), (10**6, 0.1)]),
])
def test_epsilon_decays_over_the_100k_frames_after_the_random_ones(rung, frames_epsilon):
    config = paper_config("Breakout", rung)
    agent = make_agent(config, (10, 10, 4), 6)
    state = agent.init(jax.random.key(1), jnp.zeros((10, 10, 4)))
    for frames, epsilon in frames_epsilon:
        got = agent.epsilon(state._replace(steps=jnp.int32(frames)), traced(config.hparams))
        assert float(got) == pytest.approx(epsilon, abs=1e-6), frames


def test_epsilon_counts_from_step_0_by_default():
    config = DQNConfig(warmup_steps=1_000, epsilon_decay_steps=10_000,
                       hparams=DQNHParams(epsilon_end=0.1))
    agent = make_agent(config, (4,), 2)
    state = agent.init(jax.random.key(1), jnp.zeros(4))
    got = agent.epsilon(state._replace(steps=jnp.int32(5_000)), traced(config.hparams))
    assert float(got) == pytest.approx(0.55)


@pytest.mark.parametrize("env, dtype", [
    ("Breakout-MinAtar-paper", bool), ("SpaceInvaders-MinAtar-gymnax", bool),
    ("Breakout-MinAtar", bool), ("CartPole-v1", np.float32),
])
def test_minatar_frames_are_stored_as_bool(env, dtype):
    config = DQNConfig(env=env, network="cnn" if "MinAtar" in env else "mlp",
                       eval_max_steps=100)
    assert storage_dtype(config, np.float32) == np.dtype(dtype)


def test_recent_returns_keep_the_last_window_in_order_of_finishing():
    recent = RecentReturns(jnp.full(3, jnp.nan), jnp.int32(0))
    recent = record_returns(recent, jnp.array([False, True]), jnp.array([9.0, 1.0]))
    assert np.allclose(recent.returns, [1.0, np.nan, np.nan], equal_nan=True)
    recent = record_returns(recent, jnp.array([True, True]), jnp.array([2.0, 3.0]))
    assert np.allclose(recent.returns, [1.0, 2.0, 3.0]) and int(recent.count) == 3
    recent = record_returns(recent, jnp.array([False, False]), jnp.array([7.0, 7.0]))
    recent = record_returns(recent, jnp.array([True, True]), jnp.array([4.0, 5.0]))
    assert np.allclose(recent.returns, [4.0, 5.0, 3.0]) and int(recent.count) == 5  # wrapped


@pytest.mark.slow
def test_no_replay_learns_from_the_first_frame_on_the_newest_transition():
    built = make_program(paper_config("Breakout", "no replay", num_eval_episodes=0))
    hp = traced(PAPER.hparams)
    carry = built.program.init(jax.random.key(3), hp)
    assert carry.buffer is None and int(carry.agent.steps) == 0  # no warm-up, no buffer
    after = built.program.step(carry, hp)
    assert int(after.agent.steps) == 1
    moved = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), carry.agent.params,
                         after.agent.params)
    assert any(jax.tree.leaves(moved))  # one update in the first frame
    assert jax.tree.all(jax.tree.map(jnp.array_equal, carry.agent.target_params,
                                     after.agent.target_params))  # target kept, not yet copied
    metrics = built.program.log(after, hp)
    assert float(metrics["train_episodes"]) == 0 and np.isnan(metrics["recent_train_return"])


# --- the study's config ------------------------------------------------------------------


def test_defaults_are_the_paper_s():
    config = exp.MinAtarConfig()
    assert config.dqn == PAPER and config.num_seeds == 30 and config.protocol == "paper"
    assert set(config.games) == {"Breakout", "Asterix", "Freeway", "SpaceInvaders", "Seaquest"}
    assert config.rungs == tuple(RUNGS)
    full = config.effective()
    assert (full.frames, full.num_logs) == (PAPER_FRAMES, 100)
    quick = exp.MinAtarConfig(quick=True, num_seeds=5).effective()
    assert (quick.games, quick.rungs, quick.num_seeds, quick.frames, quick.num_logs) == \
        (("Breakout",), QUICK_RUNGS, 2, exp.QUICK_FRAMES, 2)
    assert quick.dqn.buffer_capacity < PAPER.buffer_capacity
    gymnax = exp.MinAtarConfig(protocol="gymnax", games=("Freeway",))
    assert gymnax.rung("Freeway", "neither").env == "Freeway-MinAtar-gymnax"


@pytest.mark.parametrize("kwargs, match", [
    (dict(games=("Pong",)), r"games='Pong'.*Breakout"),
    (dict(games=()), "games"),
    (dict(rungs=("no replays",)), r"rungs='no replays'.*no replay"),
    (dict(protocol="atari"), r"protocol='atari'.*paper"),
    (dict(num_seeds=0), "num_seeds=0"),
    (dict(frames=0), "frames=0"),
    (dict(dqn=dataclasses.replace(PAPER, env="Breakout-MinAtar-gymnax")), "--games"),
    (dict(sweep=Sweep[DQNHParams](epsilon_end=("0.1", "1.5"))), "epsilon_end=1.5"),
    (dict(dqn=dataclasses.replace(PAPER, train_return_window=0)), "train_return_window=0"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exp.MinAtarConfig(**kwargs)


def test_a_network_that_does_not_fit_the_observation_is_refused():
    with pytest.raises(ValueError, match=r"network='cnn'.*CartPole-v1"):
        dataclasses.replace(PAPER, env="CartPole-v1")
    with pytest.raises(ValueError, match=r"network='mlp'.*Breakout-MinAtar-paper"):
        dataclasses.replace(PAPER, network="mlp")


def test_a_sticky_action_probability_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="sticky_action_prob=1.5"):
        envs.make("Breakout-MinAtar-paper", sticky_action_prob=1.5)


def test_an_uncapped_game_needs_its_own_evaluation_budget():
    with pytest.raises(ValueError, match="eval_max_steps=0.*no cap"):
        dataclasses.replace(PAPER, eval_max_steps=0)
    dataclasses.replace(PAPER, eval_max_steps=0, num_eval_episodes=0)  # no evaluation: fine
    dataclasses.replace(PAPER, env="Breakout-MinAtar-gymnax", eval_max_steps=0)  # capped


# The quick study end to end runs from the command line in tests/test_cli.py
# (check_quick_run_writes_results above), not a second time here.


# --- learning ----------------------------------------------------------------------------

# A uniformly random policy's return per Breakout episode (paper protocol), measured over
# 17,129 episodes of 64 environments x 3,000 frames: 0.508 (episodes last about 11 frames).
RANDOM_BREAKOUT_RETURN = 0.51


@pytest.mark.slow
def test_breakout_learns_beyond_a_random_policy_in_12k_frames():
    # The paper's network and environment with a cheaper loop (8 environments, an Adam update
    # every 8 frames, a short epsilon schedule): measured over 4 seeds at about 10.7k frames,
    # the last 100 training episodes' mean return was 1.6-2.0 per seed, the greedy return
    # 1.0-1.6; at 20k frames 2.6-3.0 and 2.9-4.4.
    config = paper_config("Breakout", num_envs=8, train_frequency=8, warmup_steps=1_000,
                          buffer_capacity=10_000, epsilon_decay_steps=10_000,
                          epsilon_after_warmup=False, optimizer="adam", num_eval_episodes=8,
                          eval_max_steps=1_000,
                          hparams=PAPER.hparams._replace(epsilon_end=0.05, learning_rate=1e-3))
    run = dqn_study.train(config, num_seeds=3, total_steps=12_000, num_logs=1, progress=False)
    recent = run.results.metrics["recent_train_return"][0, :, -1]  # [seed]
    assert (run.results.metrics["train_episodes"][0, :, -1] > 100).all()
    assert recent.mean() > 2 * RANDOM_BREAKOUT_RETURN, recent  # epsilon-greedy, as they ran
    assert np.nanmean(run.greedy[:, -1]) > 1.5 * RANDOM_BREAKOUT_RETURN, run.greedy
