"""Tabular Q-learning: a plain tabular reference step by step, frozen runs, q* through truncation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import runner
from rlfa.control import (
    ControlHParams,
    TabularQState,
    episodic_control,
    linear_q,
    q_table,
    tabular_q_learning,
)
from rlfa.envs import chain
from rlfa.features import one_hot
from rlfa.types import Transition

W0 = jnp.array([1.0, 2.0, 3.0, 4.0])  # [q(0,0), q(1,0), q(0,1), q(1,1)]


def _transition(terminated=False, truncated=False):
    return Transition(jnp.float32(0), jnp.int32(1), jnp.float32(0.5), jnp.bool_(terminated),
                      jnp.bool_(truncated), jnp.float32(1))


def test_tabular_matches_a_plain_tabular_implementation_step_by_step():
    num_states, num_actions, power, gamma = 3, 2, 0.7, 0.9
    agent = tabular_q_learning(num_states, num_actions, step_size_power=power)
    hp = ControlHParams(jnp.float32(1.0), jnp.float32(0.0), jnp.float32(gamma))
    update = jax.jit(agent.update)
    rng = np.random.default_rng(0)
    state = agent.init(jax.random.key(0), jnp.float32(0))
    q_ref, n_ref = np.zeros((num_states, num_actions)), np.zeros((num_states, num_actions))
    for _ in range(200):
        s, a, s2 = rng.integers(num_states), rng.integers(num_actions), rng.integers(num_states)
        r, term, trunc = rng.normal(), rng.random() < 0.2, rng.random() < 0.2
        tr = Transition(jnp.float32(s), jnp.int32(a), jnp.float32(r), jnp.bool_(term),
                        jnp.bool_(trunc), jnp.float32(s2))
        state, _ = update(state, hp, tr)
        n_ref[s, a] += 1
        target = r + (0.0 if term else gamma * q_ref[s2].max())
        q_ref[s, a] += (target - q_ref[s, a]) / n_ref[s, a] ** power
        np.testing.assert_allclose(q_table(state, num_states), q_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(state.counts).reshape(num_actions, -1).T, n_ref)


def test_tabular_inactive_update_changes_nothing():
    # A finished run in the episode loop: neither the table nor the counts move, whatever
    # the step size (the update no longer reads a zero step size as "frozen").
    agent = tabular_q_learning(2, 2)
    state = TabularQState(W0, jnp.array([0.0, 3.0, 1.0, 0.0]))
    for step_size in (0.0, 1.0):
        hp = ControlHParams(jnp.float32(step_size), jnp.float32(0.0), jnp.float32(0.9))
        new, _ = agent.update(state, hp, _transition(), active=jnp.bool_(False))
        np.testing.assert_array_equal(new.w, state.w)
        np.testing.assert_array_equal(new.counts, state.counts)


def test_tabular_zero_step_size_leaves_the_table():
    agent = tabular_q_learning(2, 2)
    state = TabularQState(W0, jnp.array([0.0, 3.0, 1.0, 0.0]))
    hp = ControlHParams(jnp.float32(0.0), jnp.float32(0.0), jnp.float32(0.9))
    new, _ = agent.update(state, hp, _transition())
    np.testing.assert_array_equal(new.w, state.w)


@pytest.mark.parametrize("kwargs, field", [
    ({"num_states": 0, "num_actions": 2}, "num_states"),
    ({"num_states": 2, "num_actions": 0}, "num_actions"),
    ({"num_states": 2, "num_actions": 2, "step_size_power": 1.5}, "step_size_power"),
])
def test_bad_tabular_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        tabular_q_learning(**kwargs)


def _chain_q_learning(stop_at_truncation: bool):
    """Tabular Q-learning behind a uniformly random policy on the time-limited chain."""
    env, params = chain.Chain(), chain.EnvParams()
    agent = tabular_q_learning(params.num_states, 2, step_size_power=0.7)
    if stop_at_truncation:  # the pitfall: one `done` for termination and truncation
        inner = agent.update
        agent = agent._replace(update=lambda s, h, tr, active=True: inner(
            s, h, tr._replace(terminated_t=tr.terminated_t | tr.truncated_t), active))
    q = linear_q(one_hot(params.num_states), 2)
    program = episodic_control(env, params, agent, q, 2, num_episodes=3000, block_steps=64)
    hparams = runner.stack_hparams([ControlHParams(1.0, 1.0, 0.9)])
    results = runner.run(program, hparams, seed=0, num_seeds=2, num_logs=2, steps_per_log=100,
                         num_devices=1, progress=False)
    assert (results.final.episodes == 3000).all()
    # Frozen once its episodes are done: one count per step taken before, none after.
    np.testing.assert_array_equal(results.final.agent.counts[0].sum(-1), results.final.steps[0])
    return np.asarray(results.final.agent.w[0]).reshape(2, 2, params.num_states).transpose(0, 2, 1)


def test_tabular_q_learning_converges_to_q_star_through_truncation():
    q_star = chain.optimal_q(chain.EnvParams(), gamma=0.9)
    for q in _chain_q_learning(stop_at_truncation=False):  # each seed
        np.testing.assert_allclose(q, q_star, atol=0.05)
    q_wrong = _chain_q_learning(stop_at_truncation=True)
    assert np.abs(q_wrong - q_star).max() > 1.0
