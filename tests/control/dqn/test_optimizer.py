"""DQN's optimizers: centered RMSProp as PyTorch (and the MinAtar paper) computes it."""

import dataclasses

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from rlfa.control.dqn import DQNConfig, update_direction


def torch_centered_rmsprop(params, grads_seq, lr, alpha, eps):
    """``torch.optim.RMSprop(centered=True, momentum=0)``, written out in NumPy:
    v = alpha v + (1 - alpha) g^2; m = alpha m + (1 - alpha) g;
    p -= lr g / (sqrt(v - m^2) + eps)."""
    p, v, m = np.array(params, np.float64), np.zeros_like(params), np.zeros_like(params)
    for g in grads_seq:
        v = alpha * v + (1 - alpha) * g**2
        m = alpha * m + (1 - alpha) * g
        p = p - lr * g / (np.sqrt(v - m**2) + eps)
    return p


def apply(config, params, grads_seq, lr):
    """The agent's update path: the direction from ``update_direction``, then ``p - lr * s``."""
    opt = update_direction(config)
    state, p = opt.init(params), params
    for g in grads_seq:
        step, state = opt.update(jnp.asarray(g, jnp.float32), state, p)
        p = jax.tree.map(lambda a, s: a - lr * s, p, step)
    return np.asarray(p)


def test_centered_rmsprop_matches_pytorch_eps_outside_the_root():
    config = DQNConfig(optimizer="centered_rmsprop", max_grad_norm=0.0)  # the paper: no clip
    params = jnp.array([0.5, -1.0, 2.0], jnp.float32)
    grads = [np.array([0.3, -0.02, 1.5]), np.array([-0.1, 0.05, 1.4]),
             np.array([0.2, 0.01, -0.7])]
    expected = torch_centered_rmsprop(params, grads, 2.5e-4, 0.95, 0.01)
    np.testing.assert_allclose(apply(config, params, grads, 2.5e-4), expected, rtol=1e-5)
    # eps inside the root (optax's default) is a different optimizer at eps 0.01: the first
    # step of a small gradient differs by far more than rounding.
    inside = optax.scale_by_stddev(decay=0.95, eps=0.01, eps_in_sqrt=True)
    step, _ = inside.update(jnp.asarray(grads[0], jnp.float32), inside.init(params))
    outside = (params - apply(config, params, grads[:1], 1.0))
    assert abs(float(step[1]) - float(outside[1])) > 0.1


def test_clipping_applies_before_the_direction_and_zero_turns_it_off():
    params, grads = jnp.zeros(2), [np.array([30.0, 40.0])]  # global norm 50
    clipped = DQNConfig(optimizer="centered_rmsprop", max_grad_norm=5.0)
    expected = torch_centered_rmsprop(np.zeros(2), [grads[0] / 10.0], 1.0, 0.95, 0.01)
    np.testing.assert_allclose(apply(clipped, params, grads, 1.0), expected, rtol=1e-5)
    free = dataclasses.replace(clipped, max_grad_norm=0.0)
    expected = torch_centered_rmsprop(np.zeros(2), grads, 1.0, 0.95, 0.01)
    np.testing.assert_allclose(apply(free, params, grads, 1.0), expected, rtol=1e-5)


@pytest.mark.parametrize("kwargs, field", [
    ({"optimizer": "sgd"}, "optimizer"),
    ({"rmsprop_decay": 1.5}, "rmsprop_decay"),
    ({"rmsprop_eps": 0.0}, "rmsprop_eps"),
    ({"max_grad_norm": -1.0}, "max_grad_norm"),
])
def test_bad_optimizer_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        DQNConfig(**kwargs)


def test_deepmind_rmsprop_step_is_neural_q_learners():
    """Two updates of the agent against DeepMind's ``NeuralQLearner.lua`` written out: the
    error clipped to [-1, 1], ``dw`` the minibatch's SUM of clipped error x dQ(s, a)/dw,
    ``g = 0.95 g + 0.05 dw``, ``g2 = 0.95 g2 + 0.05 dw^2``, ``w += lr dw / sqrt(g2 - g^2 +
    0.01)``, the target network fixed."""
    from rlfa.control.dqn import make_agent
    from rlfa.types import Transition

    config = DQNConfig(optimizer="deepmind_rmsprop", huber=True, max_grad_norm=0.0,
                       batch_size=8, hidden=(16,))
    hp = config.hparams._replace(learning_rate=0.05)
    agent = make_agent(config, (4,), 2)
    state = agent.init(jax.random.key(0), jnp.zeros(4))
    rng = np.random.default_rng(0)
    batches = [Transition(jnp.asarray(rng.normal(size=(8, 4)), jnp.float32),
                          jnp.asarray(rng.integers(2, size=8), jnp.int32),
                          jnp.asarray(rng.normal(size=8) * 3, jnp.float32),
                          jnp.asarray(rng.random(8) < 0.3), jnp.zeros(8, bool),
                          jnp.asarray(rng.normal(size=(8, 4)), jnp.float32)) for _ in range(2)]
    flat, unravel = jax.flatten_util.ravel_pytree(state.params)
    w, g, g2 = np.asarray(flat, np.float64), np.zeros(flat.size), np.zeros(flat.size)
    target = state.target_params
    for batch in batches:
        dw = np.zeros_like(w)
        q_next = np.asarray(agent.q_values(target, batch.obs_t)).max(1)
        for i in range(8):
            def q_taken(flat_w, i=i):
                return agent.q_values(unravel(flat_w), batch.obs_tm1[i:i + 1])[0, batch.a_tm1[i]]
            y = float(batch.r_t[i]) + 0.99 * (1 - float(batch.terminated_t[i])) * q_next[i]
            delta = np.clip(y - float(q_taken(jnp.asarray(w, jnp.float32))), -1, 1)
            dw += delta * np.asarray(jax.grad(q_taken)(jnp.asarray(w, jnp.float32)), np.float64)
        g = 0.95 * g + 0.05 * dw
        g2 = 0.95 * g2 + 0.05 * dw**2
        w = w + 0.05 * dw / np.sqrt(g2 - g**2 + 0.01)
        state, _ = agent.update(state, hp, batch)
    np.testing.assert_allclose(jax.flatten_util.ravel_pytree(state.params)[0], w, rtol=2e-4,
                               atol=2e-5)
