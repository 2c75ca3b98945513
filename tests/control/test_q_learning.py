"""Linear Q-learning: hand-computed updates, termination vs truncation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.control import ControlHParams, LinearQState, linear_q_learning
from rlfa.features import one_hot
from rlfa.types import Transition

W0 = jnp.array([1.0, 2.0, 3.0, 4.0])  # [q(0,0), q(1,0), q(0,1), q(1,1)]
HP = ControlHParams(jnp.float32(0.1), jnp.float32(0.0), jnp.float32(0.9))


def _transition(terminated=False, truncated=False):
    return Transition(jnp.float32(0), jnp.int32(1), jnp.float32(0.5), jnp.bool_(terminated),
                      jnp.bool_(truncated), jnp.float32(1))


@pytest.mark.parametrize("jit", [False, True])
def test_linear_update_equals_hand_computed(jit):
    agent = linear_q_learning(one_hot(2), 2)
    update = jax.jit(agent.update) if jit else agent.update
    state, metrics = update(LinearQState(W0), HP, _transition())
    # delta = 0.5 + 0.9 * max(q(1, .)) - q(0, 1) = 0.5 + 3.6 - 3 = 1.1
    np.testing.assert_allclose(metrics["td_error"], 1.1, rtol=1e-6)
    np.testing.assert_allclose(state.w, [1.0, 2.0, 3.11, 4.0], rtol=1e-6)


def test_termination_stops_bootstrapping_truncation_does_not():
    agent = linear_q_learning(one_hot(2), 2)
    _, m_term = agent.update(LinearQState(W0), HP, _transition(terminated=True))
    _, m_trunc = agent.update(LinearQState(W0), HP, _transition(truncated=True))
    np.testing.assert_allclose(m_term["td_error"], 0.5 - 3.0, rtol=1e-6)
    np.testing.assert_allclose(m_trunc["td_error"], 1.1, rtol=1e-6)


def test_an_inactive_update_writes_nothing():
    agent = linear_q_learning(one_hot(2), 2)
    state, _ = agent.update(LinearQState(W0), HP, _transition(), active=jnp.bool_(False))
    np.testing.assert_array_equal(state.w, W0)
