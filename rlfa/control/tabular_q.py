"""Tabular Q-learning with count-based step sizes (Sutton & Barto §6.5).

Q-learning's update (:func:`rlfa.control.q_learning.q_learning_error`) over
one-hot state-action features, with the step size ``alpha_n = step_size /
n(s, a)^p`` shrinking with the visits of (s, a): for ``p`` in (0.5, 1] it meets
the Robbins-Monro conditions under which it converges to ``q*`` (Watkins &
Dayan 1992). In the episode loop it acts like linear Q-learning
(:func:`~rlfa.control.episodes.act_afresh`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.config import check_in_range, check_positive_int
from rlfa.control.linear_values import ControlHParams, linear_act, linear_init
from rlfa.control.q_learning import q_learning_error
from rlfa.features import add_scaled, one_hot, state_action
from rlfa.types import Agent, Transition

Array = jax.Array


class TabularQState(NamedTuple):
    """Tabular Q-learning's state.

    Attributes:
      w: the Q-table as one-hot state-action weights, float32 ``[A * S]``; entry
        ``a * S + s`` is ``Q(s, a)`` (see :func:`q_table`).
      counts: updates of each (s, a) so far, float32 ``[A * S]``.
    """

    w: Array
    counts: Array


def q_table(state: TabularQState, num_states: int) -> Array:
    """The Q-table ``[S, A]`` held in a tabular agent's weights."""
    return state.w.reshape(-1, num_states).T


def tabular_q_learning(num_states: int, num_actions: int, step_size_power: float = 1.0,
                       first_state: int = 0, initial_value: float = 0.0) -> Agent:
    """Tabular Q-learning with count-based step sizes ``step_size / n(s, a)^p``.

    Observations are state numbers ``first_state .. first_state + S - 1`` (shape
    ``()`` or ``[1]``). ``hparams.step_size`` scales the schedule: 1 gives the
    plain ``1 / n^p``. ``update(state, hparams, transition, active=True)``
    counts the visit and updates Q(s, a); for ``active`` False (a finished run in
    the episode loop) it leaves the table and the counts unchanged.

    Args:
      num_states: S >= 1.
      num_actions: A >= 1.
      step_size_power: p in [0, 1]; ``p = 1`` is the sample average, ``p = 0`` a
        constant step size; convergence to q* needs p in (0.5, 1].
      first_state: the number of the first state.
      initial_value: every Q(s, a)'s start.

    Raises:
      ValueError: naming the field, for a bad size or a power outside [0, 1].
    """
    check_positive_int("num_states", num_states)
    check_positive_int("num_actions", num_actions)
    check_in_range("step_size_power", step_size_power, 0.0, 1.0)
    feature_map = one_hot(num_states, first_state)
    phi_sa = state_action(feature_map, num_actions)
    linear = linear_init(feature_map, num_actions, initial_value)

    def init(key: Array, obs_example: Array) -> TabularQState:
        w = linear(key, obs_example).w
        return TabularQState(w, jnp.zeros_like(w))

    def update(state: TabularQState, hparams: ControlHParams, tr: Transition,
               active: Array = True):
        phi = phi_sa((tr.obs_tm1, tr.a_tm1))
        counts = add_scaled(state.counts, phi, jnp.asarray(active, jnp.float32))
        alpha = hparams.step_size * jnp.maximum(counts[phi.indices[0]], 1.0) ** -step_size_power
        delta = q_learning_error(state.w, feature_map, num_actions, hparams, tr)
        w = add_scaled(state.w, phi, jnp.where(active, alpha * delta, 0.0))
        return TabularQState(w, counts), {"td_error": delta}

    return Agent(init=init, act=linear_act(feature_map, num_actions), update=update)
