"""Differential semi-gradient SARSA (S&B §10.3): a hand-computed update, the active flag,
the average reward learned on small continuing problems, the episode loop, bad hparams."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import hparams
from rlfa.control import (
    DifferentialHParams,
    DifferentialQState,
    differential_sarsa,
    episodic_control,
    linear_q,
    sarsa_actions,
    sarsa_transition,
)
from rlfa.envs import access_control
from rlfa.features import one_hot
from rlfa.types import Transition

# Two states, two actions, one-hot features: w = [q(0,0), q(1,0), q(0,1), q(1,1)].
W0 = jnp.array([1.0, 2.0, 3.0, 4.0])
STATE0 = DifferentialQState(W0, jnp.float32(0.5))
HP = DifferentialHParams(jnp.float32(0.1), jnp.float32(0.2), jnp.float32(0.0))
AGENT = differential_sarsa(one_hot(2), 2)
UPDATE = jax.jit(AGENT.update)  # one compilation for every hand-computed update


def _transition(terminated=False, truncated=False):
    # S = 0, A = 1, R = 2, S' = 1, A' = 0.
    return sarsa_transition(Transition(jnp.float32(0), jnp.int32(1), jnp.float32(2.0),
                                       jnp.bool_(terminated), jnp.bool_(truncated),
                                       jnp.float32(1)), jnp.int32(0))


def test_update_equals_hand_computed():
    state, metrics = UPDATE(STATE0, HP, _transition())
    # delta = R - R_bar + q(1, 0) - q(0, 1) = 2 - 0.5 + 2 - 3 = 0.5;
    # R_bar = 0.5 + 0.2 * 0.5 = 0.6; only q(0, 1)'s weight moves: 3 + 0.1 * 0.5 = 3.05.
    np.testing.assert_allclose(metrics["td_error"], 0.5, atol=1e-6)
    np.testing.assert_allclose(state.r_bar, 0.6, atol=1e-6)
    np.testing.assert_allclose(metrics["r_bar"], 0.6, atol=1e-6)
    np.testing.assert_allclose(state.w, [1.0, 2.0, 3.05, 4.0], atol=1e-6)
    assert state.r_bar.dtype == jnp.float32 and state.w.dtype == jnp.float32


def test_truncation_bootstraps_termination_does_not():
    _, m_trunc = UPDATE(STATE0, HP, _transition(truncated=True))
    _, m_term = UPDATE(STATE0, HP, _transition(terminated=True))
    np.testing.assert_allclose(m_trunc["td_error"], 0.5, atol=1e-6)
    np.testing.assert_allclose(m_term["td_error"], 2.0 - 0.5 - 3.0, atol=1e-6)


def test_inactive_update_changes_nothing():
    state, _ = UPDATE(STATE0, HP, _transition(), jnp.bool_(False))
    np.testing.assert_array_equal(state.w, W0)
    assert float(state.r_bar) == 0.5


def test_init_and_act():
    agent = differential_sarsa(one_hot(2), 2, initial_value=1.5, initial_r_bar=0.25)
    state = jax.jit(agent.init)(jax.random.key(0), jnp.float32(0))
    np.testing.assert_array_equal(state.w, [1.5] * 4)
    assert float(state.r_bar) == 0.25
    # Greedy (epsilon 0) at state 1 of W0: q(1, 1) = 4 > q(1, 0) = 2.
    assert int(jax.jit(AGENT.act)(STATE0, HP, jnp.float32(1), jax.random.key(1))) == 1


def _run(agent, hparams, step_fn, num_steps, key):
    """``num_steps`` SARSA steps from state 0 in one jitted scan: (final state, rewards)."""

    def step(carry, key):
        state, s, a = carry
        s_next, r = step_fn(s, a)
        a_next = agent.act(state, hparams, s_next, key)
        tr = Transition(s, a, r, jnp.bool_(False), jnp.bool_(False), s_next)
        state, _ = agent.update(state, hparams, sarsa_transition(tr, a_next))
        return (state, s_next, a_next), r

    s0 = jnp.float32(0)
    k_init, k_act, k_steps = jax.random.split(key, 3)
    state = agent.init(k_init, s0)
    carry = (state, s0, agent.act(state, hparams, s0, k_act))
    (state, _, _), rewards = jax.jit(
        lambda c: jax.lax.scan(step, c, jax.random.split(k_steps, num_steps)))(carry)
    return state, rewards


def test_r_bar_converges_to_the_average_reward_of_a_deterministic_cycle():
    """States 0 -> 1 -> 0 ..., rewards 1 then 3: r(pi) = 2, and the differential values
    satisfy q(0) = 1 - 2 + q(1), so q(0) - q(1) = -1."""
    agent = differential_sarsa(one_hot(2), 1)

    def cycle(s, a):
        return 1.0 - s, jnp.where(s == 0, 1.0, 3.0)

    hp = hparams.traced(DifferentialHParams(0.1, 0.05, 0.0))
    state, _ = _run(agent, hp, cycle, 2000, jax.random.key(2))
    np.testing.assert_allclose(state.r_bar, 2.0, atol=1e-3)
    np.testing.assert_allclose(state.w[0] - state.w[1], -1.0, atol=1e-3)


def test_control_learns_the_better_action_and_its_average_reward():
    """Two states swapped every step; action 1 pays 1, action 0 pays 0. Epsilon-greedy with
    epsilon 0.1 takes action 1 w.p. 0.95 once greedy picks it: r(pi) = 0.95."""
    agent = differential_sarsa(one_hot(2), 2)

    def swap(s, a):
        return 1.0 - s, a.astype(jnp.float32)

    hp = hparams.traced(DifferentialHParams(0.1, 0.01, 0.1))
    state, rewards = _run(agent, hp, swap, 5000, jax.random.key(3))
    q = np.asarray(state.w).reshape(2, 2)  # [action, state]
    assert (q[1] > q[0]).all()
    # R_bar's noise: sd ~ sqrt(beta / 2 * Var R) = sqrt(0.005 * 0.0475) = 0.015.
    np.testing.assert_allclose(state.r_bar, 0.95, atol=0.05)
    np.testing.assert_allclose(float(rewards[1000:].mean()), 0.95, atol=0.02)


def test_runs_in_the_episode_loop_on_access_control():
    """What a study calls: the episode loop with SARSA's actions on the continuing task."""
    env = access_control.AccessControl()
    params = env.default_params
    features = access_control.features(params)
    agent = differential_sarsa(features, 2)
    program = episodic_control(env, params, agent, linear_q(features, 2), 2, num_episodes=1,
                               actions=sarsa_actions("reuse"), block_steps=200)
    hp = hparams.traced(DifferentialHParams(0.01, 0.01, 0.1))
    carry = program.init(jax.random.key(4), hp)
    step = jax.jit(program.step)
    for _ in range(5):
        carry = step(carry, hp)
    assert int(carry.episodes) == 0  # continuing: no episode ends
    assert 0.0 < float(carry.agent.r_bar) < 8.0
    assert np.isfinite(np.asarray(carry.agent.w)).all() and float(jnp.abs(carry.agent.w).sum()) > 0


@pytest.mark.parametrize("field, args", [("beta", (0.1, 0.0, 0.1)), ("beta", (0.1, -1.0, 0.1)),
                                         ("beta", (0.1, float("nan"), 0.1)),
                                         ("step_size", (0.0, 0.1, 0.1)),
                                         ("epsilon", (0.1, 0.1, 1.5))])
def test_bad_hparams_are_refused_naming_the_field(field, args):
    with pytest.raises(ValueError, match=field):
        hparams.check(DifferentialHParams(*args))


def test_bad_num_actions_is_refused():
    with pytest.raises(ValueError, match="num_actions"):
        differential_sarsa(one_hot(2), 0)
