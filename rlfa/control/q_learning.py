"""Q-learning with linear action values (Sutton & Barto §10.1 and §11.1).

``w += alpha * (R + gamma * max_b q(S', b) - q(S, A)) * phi(S, A)``, online,
one update per step: semi-gradient and off-policy, the target following the
greedy policy whatever the behaviour. In the episode loop
(:func:`rlfa.control.episodes.episodic_control`) the behaviour is the loop's
default :func:`~rlfa.control.episodes.act_afresh`: an epsilon-greedy action
drawn afresh at every state. Tabular Q-learning, the same update over one-hot
features with count-based step sizes, is :mod:`rlfa.control.tabular_q`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlfa import targets
from rlfa.control.linear_values import (
    ControlHParams,
    LinearQState,
    check_num_actions,
    linear_act,
    linear_init,
)
from rlfa.features import FeatureMap, add_scaled, q_values, state_action
from rlfa.types import Agent, Transition

Array = jax.Array


def q_learning_error(w: Array, feature_map: FeatureMap, num_actions: int,
                     hparams: ControlHParams, tr: Transition) -> Array:
    """The TD error ``R + gamma * max_b q(S', b) - q(S, A)``, float ``[]`` (no bootstrap
    through termination; through a truncation, from ``tr.obs_t``)."""
    q_tm1 = q_values(w, feature_map, num_actions, tr.obs_tm1)
    q_t = q_values(w, feature_map, num_actions, tr.obs_t)
    discount_t = targets.discount(hparams.gamma, tr.terminated_t)
    return targets.q_learning_error(q_tm1, tr.a_tm1, tr.r_t, discount_t, q_t)


def linear_q_learning(feature_map: FeatureMap, num_actions: int,
                      initial_value: float = 0.0) -> Agent:
    """Online semi-gradient Q-learning over ``state_action(feature_map, num_actions)``.

    Args:
      feature_map: the state features phi(s).
      num_actions: A.
      initial_value: every weight's start.

    Returns:
      An :class:`~rlfa.types.Agent` over :class:`~rlfa.control.linear_values.LinearQState`
      with :class:`~rlfa.control.linear_values.ControlHParams`;
      ``update(state, hparams, transition, active=True)`` takes a
      :class:`~rlfa.types.Transition`, reports the TD error and, for ``active``
      False (a finished run in the episode loop), writes nothing.
    """
    check_num_actions(feature_map, num_actions)
    phi_sa = state_action(feature_map, num_actions)

    def update(state: LinearQState, hparams: ControlHParams, tr: Transition,
               active: Array = True):
        delta = q_learning_error(state.w, feature_map, num_actions, hparams, tr)
        w = add_scaled(state.w, phi_sa((tr.obs_tm1, tr.a_tm1)),
                       jnp.where(active, hparams.step_size * delta, 0.0))
        return LinearQState(w), {"td_error": delta}

    return Agent(init=linear_init(feature_map, num_actions, initial_value),
                 act=linear_act(feature_map, num_actions), update=update)
