"""The DQN agent: config validation, the loss against hand-computed targets, target timing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.control.dqn import DQNConfig, DQNHParams, make_agent, make_program
from rlfa.dqn_study import plan
from rlfa.hparams import traced
from rlfa.types import Transition


@pytest.fixture(autouse=True, scope="module")
def key_reuse_checked():
    """Every test here, module fixtures included, traced under the key-reuse checker."""
    with jax.debug_key_reuse(True):
        yield


@pytest.mark.parametrize("kwargs, match", [
    (dict(env="CartPole-v9"), "env='CartPole-v9'.*CartPole-v1"),
    (dict(hparams=DQNHParams(gamma=1.5)), "gamma=1.5"),
    (dict(hparams=DQNHParams(gamma=-0.1)), "gamma=-0.1"),
    (dict(hparams=DQNHParams(learning_rate=0.0)), "learning_rate=0.0"),
    (dict(hparams=DQNHParams(learning_rate=-1e-3)), "learning_rate=-0.001"),
    (dict(target_period=0), "target_period=0"),
    (dict(batch_size=256, buffer_capacity=100, warmup_steps=300), "batch_size=256"),
    (dict(batch_size=128, warmup_steps=100), "warmup_steps=100"),
    (dict(num_envs=4, train_frequency=10), "train_frequency=10"),
    (dict(hparams=DQNHParams(tau=2.0)), "tau=2.0"),
    (dict(network="rnn"), "network='rnn'"),
    (dict(num_envs=0), "num_envs=0"),
    (dict(double=True, target_net=False), r"double=True.*target_net=False"),
    (dict(hidden=(8, 0)), r"hidden\[1\]=0"),
    # DQN picks among a finite set of actions: a continuous or a single action is refused
    (dict(env="Pendulum-v1"), r"env='Pendulum-v1'.*action space is Box\(.*Discrete"),
    (dict(env="RandomWalk1000"), r"env='RandomWalk1000'.*action space is Discrete\(1,"),
    # the network and the observations it would get, named before anything compiles
    (dict(network="cnn"), r"network='cnn'.*env='CartPole-v1'.*observation shape \(4,\)"),
    (dict(env="Breakout-MinAtar", network="mlp"),
     r"network='mlp'.*env='Breakout-MinAtar'.*observation shape \(10, 10, 4\)"),
])
def test_bad_config_raises_before_compiling(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DQNConfig(**kwargs)


@pytest.mark.parametrize("env", ["CartPole-v1", "Acrobot-v1", "Breakout-MinAtar"])
def test_discrete_environments_are_accepted(env):
    assert DQNConfig(env=env).env == env


def test_online_rung_needs_no_warmup_or_buffer():
    config = DQNConfig(replay=False, target_net=False, warmup_steps=0, num_envs=1,
                       train_frequency=1, batch_size=10**6)
    assert traced(config.hparams).gamma == np.float32(0.99)


def test_observation_shape_the_network_cannot_take():
    with pytest.raises(ValueError, match="observation shape"):
        make_program(DQNConfig(env="CartPole-v1", network="cnn"))
    with pytest.raises(ValueError, match="observation shape"):
        make_program(DQNConfig(env="Breakout-MinAtar", network="mlp"))


def test_plan_counts_env_steps():
    config = DQNConfig(warmup_steps=1000, train_frequency=10)
    steps_per_log, env_steps = plan(config, total_steps=11_000, num_logs=4)
    assert steps_per_log == 250
    np.testing.assert_array_equal(env_steps, [3500, 6000, 8500, 11000])
    with pytest.raises(ValueError, match="total_steps=1000"):
        plan(config, 1000, 4)


def _batch():
    obs = jnp.array([[0.1, -0.2, 0.3, 0.0], [0.5, 0.5, -0.5, 1.0], [1.0, 0.0, 0.0, -1.0]])
    return Transition(obs_tm1=obs, a_tm1=jnp.array([0, 1, 1], jnp.int32),
                      r_t=jnp.array([1.0, 0.5, -1.0]),
                      terminated_t=jnp.array([False, True, False]),
                      truncated_t=jnp.array([False, False, True]),  # still bootstraps
                      obs_t=obs[::-1] * 2.0)


@pytest.mark.parametrize("double, huber", [(False, False), (True, False), (False, True)])
def test_loss_matches_hand_computed_targets(double, huber):
    config = DQNConfig(hidden=(8,), double=double, huber=huber,
                       hparams=DQNHParams(gamma=0.9))
    agent = make_agent(config, (4,), 2)
    state = agent.init(jax.random.key(3), jnp.zeros(4))
    # a target network different from the online one
    state = state._replace(target_params=jax.tree.map(lambda x: x * 0.5 + 0.1, state.params))
    batch = _batch()
    q_tm1 = np.asarray(agent.q_values(state.params, batch.obs_tm1))
    q_t_target = np.asarray(agent.q_values(state.target_params, batch.obs_t))
    q_t_online = np.asarray(agent.q_values(state.params, batch.obs_t))
    if double:
        next_value = q_t_target[np.arange(3), q_t_online.argmax(1)]
    else:
        next_value = q_t_target.max(1)
    y = np.array([1.0, 0.5, -1.0]) + 0.9 * np.array([1.0, 0.0, 1.0]) * next_value
    error = y - q_tm1[np.arange(3), [0, 1, 1]]
    if huber:
        expected = np.mean(np.where(np.abs(error) <= 1, 0.5 * error**2, np.abs(error) - 0.5))
    else:
        expected = np.mean(0.5 * error**2)
    _, metrics = agent.update(state, traced(config.hparams), batch)
    np.testing.assert_allclose(metrics["loss"], expected, rtol=1e-5)


def test_without_target_network_bootstraps_from_online():
    config = DQNConfig(hidden=(8,), target_net=False, replay=False, warmup_steps=0,
                       hparams=DQNHParams(gamma=0.9))
    agent = make_agent(config, (4,), 2)
    state = agent.init(jax.random.key(3), jnp.zeros(4))
    assert state.target_params is None
    batch = _batch()
    q_tm1 = np.asarray(agent.q_values(state.params, batch.obs_tm1))
    q_t = np.asarray(agent.q_values(state.params, batch.obs_t)).max(1)
    y = np.array([1.0, 0.5, -1.0]) + 0.9 * np.array([1.0, 0.0, 1.0]) * q_t
    _, metrics = agent.update(state, traced(config.hparams), batch)
    np.testing.assert_allclose(metrics["loss"],
                               np.mean(0.5 * (y - q_tm1[np.arange(3), [0, 1, 1]]) ** 2), rtol=1e-5)


def test_update_moves_online_only_and_advance_copies_at_exact_steps():
    config = DQNConfig(hidden=(8,), target_period=500)
    agent = make_agent(config, (4,), 2)
    hp = traced(config.hparams)
    state = agent.init(jax.random.key(0), jnp.zeros(4))
    initial = state.params
    state, _ = agent.update(state, hp, _batch())
    same = lambda a, b: jax.tree.all(jax.tree.map(np.array_equal, a, b))
    assert not same(state.params, initial) and same(state.target_params, initial)
    changed_at = []
    for _ in range(120):  # ten environment steps at a time, like 10 envs x 1 step
        before = state.target_params
        state = agent.advance(state, hp, 10)
        if not same(state.target_params, before):
            changed_at.append(int(state.steps))
    assert changed_at == [500]  # params did not change after the first copy
    assert same(state.target_params, state.params)
    assert int(state.steps) == 1200


@pytest.mark.parametrize("tau", [1.0, 0.3])
def test_target_period_below_train_frequency_applies_every_update_due(tau):
    # 2 envs x 2 vectorised steps: the counter moves 4 environment steps per train step; the
    # target is due at every multiple of 3 of it, so 1, 1, 2, 1, 1, 2, ... updates per train step
    config = DQNConfig(hidden=(8,), num_envs=2, train_frequency=4, warmup_steps=128,
                       target_period=3, hparams=DQNHParams(tau=tau, learning_rate=1e-2))
    agent = make_agent(config, (4,), 2)
    hp = traced(config.hparams)
    state = agent.init(jax.random.key(0), jnp.zeros(4))
    for updates_due in [1, 1, 2, 1, 1, 2, 1, 1, 2]:
        state, _ = agent.update(state, hp, _batch())  # a new online network every train step
        old = state.target_params
        state = agent.advance(state, hp, config.train_frequency)
        keep = (1 - tau) ** updates_due
        leaves = map(jax.tree.leaves, (state.target_params, state.params, old))
        for got, o, t in zip(*leaves, strict=True):
            assert not np.array_equal(got, t)  # the target moves at every train step
            np.testing.assert_allclose(got, o + keep * (t - o), rtol=1e-6, atol=1e-7)
            if tau < 1 and updates_due == 2:  # one mix would keep 0.7, not 0.49, of the old
                assert not np.allclose(got, o + (1 - tau) * (t - o), rtol=1e-6, atol=1e-7)
    assert int(state.steps) == 36
    if tau == 1.0:
        assert jax.tree.all(jax.tree.map(np.array_equal, state.target_params, state.params))


def test_act_is_greedy_at_epsilon_zero_and_uniform_at_one():
    config = DQNConfig(hidden=(8,), hparams=DQNHParams(epsilon_start=0.0, epsilon_end=0.0))
    agent = make_agent(config, (4,), 2)
    state = agent.init(jax.random.key(1), jnp.zeros(4))
    obs = jax.random.normal(jax.random.key(2), (64, 4))
    greedy = np.asarray(agent.q_values(state.params, obs)).argmax(1)
    np.testing.assert_array_equal(agent.act(state, traced(config.hparams), obs, jax.random.key(3)),
                                  greedy)
    hp = traced(config.hparams._replace(epsilon_start=1.0))
    actions = np.asarray(agent.act(state, hp, jnp.zeros((4000, 4)), jax.random.key(4)))
    assert abs(actions.mean() - 0.5) < 0.05  # uniform exploration over two actions
