"""Bad inputs across configs, feature maps, replay, networks, the runner and checkpoints.

Each row builds something with one bad value and expects a ValueError whose
message names the field (and so tells the user what to fix), before anything
compiles.
"""

from typing import NamedTuple

import jax.numpy as jnp
import pytest

from experiments import random_walk as rw_exp
from rlfa import checkpoint, envs, hparams, nets, replay, runner
from rlfa.control import dqn
from rlfa.control.linear_values import ControlHParams
from rlfa.features.fourier import fourier_basis
from rlfa.features.one_hot import one_hot
from rlfa.features.polynomial import polynomial_basis
from rlfa.features.state_action import state_action
from rlfa.features.state_aggregation import state_aggregation
from rlfa.features.tile_coding import tile_coding, tile_coding_1d_widths


class HP(NamedTuple):
    alpha: object


def _program():
    return runner.Program(lambda k, h: {"x": jnp.float32(0)}, lambda c, h: c, lambda c, h: c)


def _run(**kwargs):
    args = {"seed": 0, "num_seeds": 1, "num_logs": 2, "steps_per_log": 1, "progress": False,
            **kwargs}
    return runner.run(_program(), runner.stack_hparams([HP(0.1)]), **args)


CASES = [
    # experiments.random_walk config
    ("figure", lambda: rw_exp.RandomWalkConfig(figure="9.3")),
    ("num_seeds", lambda: rw_exp.RandomWalkConfig(num_seeds=0)),
    ("num_episodes", lambda: rw_exp.RandomWalkConfig(num_episodes=-5)),
    ("max_episode_steps", lambda: rw_exp.RandomWalkConfig(max_episode_steps=0)),
    ("num_devices", lambda: rw_exp.RandomWalkConfig(num_devices=0)),
    ("checkpoint_every", lambda: rw_exp.RandomWalkConfig(checkpoint_every=-1)),
    ("resume", lambda: rw_exp.RandomWalkConfig(resume="/nonexistent/ckpt")),
    # DQN config
    ("env", lambda: dqn.DQNConfig(env="CartPole-v9")),
    ("network", lambda: dqn.DQNConfig(network="transformer")),
    ("num_envs", lambda: dqn.DQNConfig(num_envs=0)),
    ("buffer_capacity", lambda: dqn.DQNConfig(buffer_capacity=0)),
    ("batch_size", lambda: dqn.DQNConfig(batch_size=20_000)),
    ("warmup_steps", lambda: dqn.DQNConfig(warmup_steps=-10)),
    ("learning_rate", lambda: dqn.DQNConfig(hparams=dqn.DQNHParams(learning_rate=0.0))),
    ("max_grad_norm", lambda: dqn.DQNConfig(max_grad_norm=float("nan"))),
    ("gamma", lambda: dqn.DQNConfig(hparams=dqn.DQNHParams(gamma=1.5))),
    ("epsilon_start", lambda: dqn.DQNConfig(hparams=dqn.DQNHParams(epsilon_start=-0.1))),
    ("tau", lambda: dqn.DQNConfig(hparams=dqn.DQNHParams(tau=2.0))),
    ("replay_impl", lambda: dqn.DQNConfig(replay_impl="reverb")),
    ("train_frequency", lambda: dqn.DQNConfig(train_frequency=15)),
    # linear control hyperparameters
    ("step_size", lambda: hparams.check(ControlHParams(step_size=-0.1, epsilon=0.1))),
    ("epsilon", lambda: hparams.check(ControlHParams(step_size=0.1, epsilon=1.1))),
    # feature maps
    ("group_size", lambda: state_aggregation(1000, 0)),
    ("num_states", lambda: state_aggregation(-1, 10)),
    ("first_state", lambda: state_aggregation(1000, 10, first_state=1.5)),
    ("num_tilings", lambda: tile_coding([0.0], [1.0], [4], 0)),
    ("tiles_per_dim", lambda: tile_coding([0.0], [1.0], [0], 8)),
    ("tile_width", lambda: tile_coding_1d_widths(1.0, 1000.0, -200.0, 50, 4.0)),
    ("order", lambda: fourier_basis(-1, 1, 0.0, 1.0)),
    ("num_dims", lambda: polynomial_basis(2, 0, 0.0, 1.0)),
    ("num_states", lambda: one_hot(0)),
    ("num_actions", lambda: state_action(one_hot(5), 0)),
    # replay, networks, environments
    ("capacity", lambda: replay.make(0, 1)),
    ("batch_size", lambda: replay.make(8, 16)),
    ("replay implementation", lambda: replay.make(8, 4, "reverb")),
    ("network", lambda: nets.q_network((4,), 2, kind="rnn")),
    ("num_actions", lambda: nets.q_network((4,), 0)),
    ("env", lambda: envs.make("NoSuchEnv-v0")),
    # the runner
    ("num_seeds", lambda: _run(num_seeds=0)),
    ("num_logs", lambda: _run(num_logs=2.5)),
    ("steps_per_log", lambda: _run(steps_per_log=True)),
    ("logs_per_chunk", lambda: _run(logs_per_chunk=0)),
    ("num_devices", lambda: _run(num_devices=99)),
    ("checkpoint_every", lambda: _run(checkpoints=runner.Checkpoints(every=-2))),
    ("resume", lambda: _run(checkpoints=runner.Checkpoints(resume="/nonexistent/ckpt"))),
    ("hyperparameter grid", lambda: runner.stack_hparams([])),
    # checkpoints
    ("resume", lambda: checkpoint.check_resume("resume", "/nonexistent/ckpt")),
    ("checkpoint_dir", lambda: checkpoint.check_writable("/proc/rlfa-not-writable")),
]


@pytest.mark.parametrize("field, build", CASES,
                         ids=[f"{i:02d}-{field}" for i, (field, _) in enumerate(CASES)])
def test_bad_input_names_the_field(field, build):
    with pytest.raises(ValueError) as error:
        build()
    assert field in str(error.value)


def test_the_table_is_broad():
    assert len(CASES) >= 30
    assert len({(field, build.__code__.co_firstlineno) for field, build in CASES}) == len(CASES)
