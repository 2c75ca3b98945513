"""PQN: Q(lambda) targets against a hand-written backward loop, LayerNorm in the network,
the training step's counters and schedules, learning on CartPole, and bad settings."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import dqn_study, nets
from rlfa.control.pqn import MINATAR, PQNConfig, PQNHParams, make_program, q_lambda_targets


def hand_written(r, term, trunc, v, gamma, lam):
    """The Q(lambda) return of every step of a rollout, one step at a time, in float64:
    an episode's end does not look past it (bootstrapping from v at a truncation), and
    the rollout's last step bootstraps from v."""
    g, T = np.zeros_like(r, np.float64), len(r)
    for t in reversed(range(T)):
        if term[t]:
            g[t] = r[t]
        elif trunc[t] or t == T - 1:
            g[t] = r[t] + gamma * v[t]
        else:
            g[t] = r[t] + gamma * ((1 - lam) * v[t] + lam * g[t + 1])
    return g


def rollout(seed=0, T=9, N=3):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=(T, N))
    v = rng.normal(size=(T, N))
    term = np.zeros((T, N), bool)
    trunc = np.zeros((T, N), bool)
    term[2, 0] = term[T - 1, 1] = True  # one inside, one at the rollout's end
    trunc[5, 0] = trunc[4, 2] = True  # inside the rollout: bootstrap from the final obs
    return r, term, trunc, v


@pytest.mark.parametrize("lam", [0.0, 0.65, 0.95, 1.0])
def test_q_lambda_targets_match_a_hand_written_backward_loop(lam):
    r, term, trunc, v = rollout()
    with jax.enable_x64(True):
        got = q_lambda_targets(jnp.asarray(r), jnp.asarray(term), jnp.asarray(trunc),
                               jnp.asarray(v), jnp.float64(0.9), jnp.float64(lam))
        assert got.dtype == jnp.float64
    want = np.stack([hand_written(r[:, i], term[:, i], trunc[:, i], v[:, i], 0.9, lam)
                     for i in range(r.shape[1])], axis=1)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)


def test_lambda_zero_is_one_step_q_learning():
    r, term, trunc, v = rollout(1)
    got = q_lambda_targets(jnp.asarray(r, jnp.float32), jnp.asarray(term), jnp.asarray(trunc),
                           jnp.asarray(v, jnp.float32), jnp.float32(0.99), jnp.float32(0.0))
    np.testing.assert_allclose(got, r + 0.99 * (1 - term) * v, rtol=1e-6, atol=1e-6)


def test_lambda_one_is_the_discounted_return_to_the_bootstrap():
    T, gamma = 6, 0.9
    r = np.arange(1.0, T + 1)[:, None]
    v = np.full((T, 1), 100.0)
    term, trunc = np.zeros((T, 1), bool), np.zeros((T, 1), bool)
    got = np.asarray(q_lambda_targets(jnp.asarray(r), jnp.asarray(term), jnp.asarray(trunc),
                                      jnp.asarray(v), jnp.float32(gamma), jnp.float32(1.0)))
    want = [sum(gamma ** (k - t) * r[k, 0] for k in range(t, T)) + gamma ** (T - t) * 100.0
            for t in range(T)]
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-6)
    trunc[2] = True  # the episode ends at step 2: its return stops there
    got = np.asarray(q_lambda_targets(jnp.asarray(r), jnp.asarray(term), jnp.asarray(trunc),
                                      jnp.asarray(v), jnp.float32(gamma), jnp.float32(1.0)))
    assert got[0, 0] == pytest.approx(1 + gamma * 2 + gamma ** 2 * (3 + gamma * 100.0))


@pytest.mark.parametrize("shape", [(4,), (10, 10, 4)])
def test_layer_norm_parameters_in_the_network_and_absent_in_the_ablation(shape):
    def norms(layer_norm):
        net = nets.q_network(shape, 3, hidden=(16, 16), layer_norm=layer_norm)
        params = net.init(jax.random.key(0), jnp.zeros((1, *shape)))["params"]
        return sorted(k for k in params if k.startswith("LayerNorm"))

    assert norms(True) == ["LayerNorm_0", "LayerNorm_1"]  # one per hidden layer
    assert norms(False) == []


def test_a_train_step_counts_steps_and_updates_and_decays_its_schedules():
    config = dqn_study.quick_pqn(PQNConfig())
    built = make_program(config)
    hp = jax.tree.map(jnp.float32, config.hparams)
    carry = jax.jit(built.program.init)(jax.random.key(0), hp)
    step = jax.jit(built.program.step)
    for _ in range(3):
        carry = step(carry, hp)
    assert int(carry.steps) == 3 * config.batch_size == 3 * 4 * 8
    assert int(carry.updates) == 3 * config.num_epochs * config.num_minibatches
    metrics = jax.jit(built.program.log)(carry, hp)
    fraction = 96 / config.epsilon_decay_steps  # both decays are over QUICK_STEPS
    assert float(metrics["epsilon"]) == pytest.approx(1.0 + fraction * (0.2 - 1.0))
    assert float(metrics["learning_rate"]) == pytest.approx(1e-4 * (1 - fraction))
    assert np.isfinite(float(metrics["loss"]))
    assert metrics["eval_return"].shape == (config.num_eval_episodes,)


def test_minatar_settings_are_purejaxqls():
    assert (MINATAR.num_envs, MINATAR.rollout_steps, MINATAR.num_epochs,
            MINATAR.num_minibatches) == (128, 32, 2, 32)
    assert MINATAR.hparams == PQNHParams(learning_rate=5e-4, lambda_=0.65, epsilon_end=0.05)
    default = PQNConfig()
    assert (default.num_envs, default.rollout_steps, default.num_epochs,
            default.num_minibatches, default.hidden, default.reward_scale) == \
        (32, 64, 4, 16, (256, 256), 0.1)


@pytest.mark.parametrize(("field", "kwargs", "message"), [
    ("lambda", dict(hparams=PQNHParams(lambda_=1.5)), r"lambda=1\.5 is invalid: must be a"
     r" number in \[0\.0, 1\.0\]"),
    ("lambda", dict(hparams=PQNHParams(lambda_=-0.1)), r"lambda=-0\.1 is invalid"),
    ("rollout_steps", dict(rollout_steps=0), r"rollout_steps=0 is invalid"),
    ("num_minibatches", dict(num_minibatches=3), r"num_minibatches=3 is invalid: must divide"
     r" num_envs x rollout_steps = 2048"),
    ("env", dict(env="Pendulum-v1"), r"env='Pendulum-v1' is invalid for PQN"),
    ("reward_scale", dict(reward_scale=0.0), r"reward_scale=0\.0 is invalid"),
])
def test_bad_settings_name_the_field(field, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PQNConfig(**kwargs)


@pytest.mark.slow  # 100k steps x 2 seeds
def test_learns_cartpole_well_above_random():
    config = dataclasses.replace(PQNConfig(), epsilon_decay_steps=20_000,
                                 learning_rate_decay_steps=100_000)
    run = dqn_study.train(config, num_seeds=2, total_steps=100_000, num_logs=2, progress=False)
    assert np.all(run.greedy[:, -1] > 100)  # a uniformly random policy lasts about 22 steps
