"""Semi-gradient SARSA: hand-computed updates, termination vs truncation, the policy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import hparams, runner
from rlfa.control import (
    ControlHParams,
    LinearQState,
    episodic_control,
    epsilon_greedy,
    linear_q,
    sarsa_actions,
    sarsa_transition,
    semi_gradient_sarsa,
)
from rlfa.envs import chain
from rlfa.features import one_hot
from rlfa.types import Transition

# Two states, two actions, one-hot features: w = [q(0,0), q(1,0), q(0,1), q(1,1)].
W0 = jnp.array([1.0, 2.0, 3.0, 4.0])
HP = ControlHParams(jnp.float32(0.1), jnp.float32(0.0), jnp.float32(0.9))


def _update(terminated, truncated, a_t=0):
    agent = semi_gradient_sarsa(one_hot(2), 2)
    tr = Transition(jnp.float32(0), jnp.int32(1), jnp.float32(0.5), jnp.bool_(terminated),
                    jnp.bool_(truncated), jnp.float32(1))
    state, metrics = agent.update(LinearQState(W0), HP, sarsa_transition(tr, jnp.int32(a_t)))
    return np.asarray(state.w), float(metrics["td_error"])


@pytest.mark.parametrize("jit", [False, True])
def test_update_equals_hand_computed(jit):
    agent = semi_gradient_sarsa(one_hot(2), 2)
    tr = sarsa_transition(Transition(jnp.float32(0), jnp.int32(1), jnp.float32(0.5),
                                     jnp.bool_(False), jnp.bool_(False), jnp.float32(1)),
                          jnp.int32(0))
    update = jax.jit(agent.update) if jit else agent.update
    state, metrics = update(LinearQState(W0), HP, tr)
    # delta = 0.5 + 0.9 * q(1, 0) - q(0, 1) = 0.5 + 1.8 - 3 = -0.7; only w[q(0,1)] moves.
    np.testing.assert_allclose(metrics["td_error"], -0.7, rtol=1e-6)
    np.testing.assert_allclose(state.w, [1.0, 2.0, 3.0 - 0.07, 4.0], rtol=1e-6)


def test_next_action_enters_the_target():
    _, delta = _update(False, False, a_t=1)  # 0.5 + 0.9 * q(1, 1) - q(0, 1) = 1.1
    np.testing.assert_allclose(delta, 1.1, rtol=1e-6)


def test_termination_stops_bootstrapping_truncation_does_not():
    w_term, d_term = _update(terminated=True, truncated=False)
    w_trunc, d_trunc = _update(terminated=False, truncated=True)
    np.testing.assert_allclose(d_term, 0.5 - 3.0, rtol=1e-6)
    np.testing.assert_allclose(w_term[2], 3.0 - 0.25, rtol=1e-6)
    np.testing.assert_allclose(d_trunc, -0.7, rtol=1e-6)
    np.testing.assert_allclose(w_trunc[2], 2.93, rtol=1e-6)


def test_greedy_ties_are_broken_at_random():
    q = jnp.array([1.0, 1.0, 0.0])
    keys = jax.random.split(jax.random.key(0), 4000)
    greedy = np.asarray(jax.vmap(lambda k: epsilon_greedy(q, 0.0, k))(keys))
    assert set(np.unique(greedy)) == {0, 1}
    assert abs(np.mean(greedy == 0) - 0.5) < 0.05
    explore = np.asarray(jax.vmap(lambda k: epsilon_greedy(q, 1.0, k))(keys))
    np.testing.assert_allclose(np.bincount(explore, minlength=3) / 4000, [1 / 3] * 3, atol=0.04)


@pytest.mark.parametrize("kwargs, field", [
    ({"step_size": 0.0, "epsilon": 0.1}, "step_size"),
    ({"step_size": -0.5, "epsilon": 0.1}, "step_size"),
    ({"step_size": 0.1, "epsilon": 1.5}, "epsilon"),
    ({"step_size": 0.1, "epsilon": -0.1}, "epsilon"),
])
def test_bad_hyperparameters_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        hparams.check(ControlHParams(**kwargs))


def test_weights_that_do_not_match_the_features_raise():
    agent = semi_gradient_sarsa(one_hot(2), 2)
    tr = sarsa_transition(Transition(jnp.float32(0), jnp.int32(1), jnp.float32(0.5),
                                     jnp.bool_(False), jnp.bool_(False), jnp.float32(1)),
                          jnp.int32(0))
    with pytest.raises(ValueError, match="weights have shape"):
        agent.update(LinearQState(jnp.zeros(5)), HP, tr)


def _chain_sarsa(stop_at_truncation: bool, next_action: str = "reuse"):
    """SARSA with a uniformly random policy (epsilon = 1) on the time-limited chain."""
    env, params = chain.Chain(), chain.EnvParams()
    features = one_hot(params.num_states)
    agent = semi_gradient_sarsa(features, 2)
    if stop_at_truncation:  # the pitfall: one `done` for termination and truncation
        inner = agent.update
        agent = agent._replace(update=lambda s, h, tr, active=True: inner(
            s, h, tr._replace(terminated_t=tr.terminated_t | tr.truncated_t), active))
    program = episodic_control(env, params, agent, linear_q(features, 2), 2, num_episodes=4000,
                               actions=sarsa_actions(next_action), block_steps=64)
    hparams = runner.stack_hparams([ControlHParams(0.02, 1.0, 0.9)])
    results = runner.run(program, hparams, seed=3, num_seeds=8, num_logs=2, steps_per_log=100,
                         num_devices=1, progress=False)
    assert (results.final.episodes == 4000).all()
    q = results.final.agent.w[0].mean(0).reshape(2, params.num_states).T
    return q


def test_sarsa_learns_the_infinite_horizon_values_through_truncation():
    q_pi = chain.policy_q(chain.EnvParams(), gamma=0.9)
    q = _chain_sarsa(stop_at_truncation=False)
    np.testing.assert_allclose(q, q_pi, atol=0.25)
    q_wrong = _chain_sarsa(stop_at_truncation=True)
    assert np.abs(q_wrong - q_pi).max() > 1.5


def test_an_inactive_update_writes_nothing():
    agent = semi_gradient_sarsa(one_hot(2), 2)
    tr = sarsa_transition(Transition(jnp.float32(0), jnp.int32(1), jnp.float32(0.5),
                                     jnp.bool_(False), jnp.bool_(False), jnp.float32(1)),
                          jnp.int32(0))
    state, metrics = agent.update(LinearQState(W0), HP, tr, active=jnp.bool_(False))
    np.testing.assert_array_equal(state.w, W0)
    np.testing.assert_allclose(metrics["td_error"], -0.7, rtol=1e-6)  # still reported


def test_bad_next_action_names_the_field():
    with pytest.raises(ValueError, match="next_action"):
        sarsa_actions("later")
