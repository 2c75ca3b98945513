"""Differential semi-gradient SARSA with linear action values (Sutton & Barto §10.3).

For continuing tasks in the average-reward setting: values are differential
(the expected differential return, eq. 10.9: the rewards' excesses ``R - r(pi)``
summed, no discount), and the agent learns the
average reward r(pi) (eq. 10.6) alongside them. The book's box, per step:

* ``delta = R - R_bar + q(S', A', w) - q(S, A, w)`` (the differential TD error for action
  values, eq. 10.11),
* ``R_bar <- R_bar + beta * delta``,
* ``w <- w + alpha * delta * grad q(S, A, w)``, with ``grad q = phi(S, A)`` for
  linear values (eq. 10.12's update).

``A'`` is epsilon-greedy w.r.t. ``q_w`` at ``S'`` and comes in with the transition
(:class:`~rlfa.control.sarsa.SarsaTransition`), exactly as for episodic SARSA, so
:func:`~rlfa.control.sarsa.sarsa_actions` drives it in the episode loop. The
features, weights and epsilon-greedy policy are those of
:mod:`~rlfa.control.linear_values`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.control.linear_values import check_num_actions, linear_act, linear_init
from rlfa.control.sarsa import SarsaTransition
from rlfa.features import FeatureMap, add_scaled, linear_value, q_values, state_action
from rlfa.hparams import Positive, ZeroToOne
from rlfa.types import Agent

Array = jax.Array


class DifferentialHParams(NamedTuple):
    """Differential semi-gradient SARSA's traced hyperparameters (S&B §10.3)."""

    step_size: Positive
    """Step size alpha > 0 per weight."""
    beta: Positive
    """Step size beta > 0 of the average-reward estimate R_bar (0.01 in Figure 10.5)."""
    epsilon: ZeroToOne
    """Exploration probability in [0, 1]."""


class DifferentialQState(NamedTuple):
    """Weights ``w`` float32 ``[d * A]`` of ``q(s, a) = w . phi(s, a)`` and ``r_bar``, the
    average-reward estimate R_bar, float32 ``[]`` (reward per step)."""

    w: Array
    r_bar: Array


def differential_sarsa(feature_map: FeatureMap, num_actions: int, initial_value: float = 0.0,
                       initial_r_bar: float = 0.0) -> Agent:
    """Differential semi-gradient SARSA over ``state_action(feature_map, num_actions)`` features.

    Args:
      feature_map: the state features phi(s) (one-hot for the book's tabular
        access-control solution, :func:`rlfa.envs.access_control.features`).
      num_actions: A.
      initial_value: every weight's start (0 in the book).
      initial_r_bar: R_bar's start (0 in the book).

    Returns:
      An :class:`~rlfa.types.Agent` over :class:`DifferentialQState` with
      hyperparameters :class:`DifferentialHParams`; ``act`` is epsilon-greedy
      w.r.t. ``q_w``; ``update(state, hparams, transition, active=True)`` takes a
      :class:`~rlfa.control.sarsa.SarsaTransition`, reports the differential TD
      error ``td_error`` and, for ``active`` False, changes nothing. A continuing task
      never terminates; should ``terminated_t`` be set, ``q(S', A')`` is taken as 0.
      Truncation keeps bootstrapping.

    Raises:
      ValueError: for ``num_actions < 1``; at trace time, for weights whose size
        is not ``d * A``.
    """
    check_num_actions(feature_map, num_actions)
    phi_sa = state_action(feature_map, num_actions)
    init_w = linear_init(feature_map, num_actions, initial_value)

    def init(key: Array, obs_example: Array) -> DifferentialQState:
        return DifferentialQState(init_w(key, obs_example).w, jnp.float32(initial_r_bar))

    def update(state: DifferentialQState, hparams: DifferentialHParams, tr: SarsaTransition,
               active: Array = True):
        q_t = q_values(state.w, feature_map, num_actions, tr.obs_t)[tr.a_t]
        phi_tm1 = phi_sa((tr.obs_tm1, tr.a_tm1))
        bootstrap = 1.0 - jnp.asarray(tr.terminated_t, jnp.float32)
        delta = tr.r_t - state.r_bar + bootstrap * q_t - linear_value(state.w, phi_tm1)
        # Both steps use the same delta, computed before either moves (the book's order).
        r_bar = state.r_bar + jnp.where(active, hparams.beta * delta, 0.0)
        w = add_scaled(state.w, phi_tm1, jnp.where(active, hparams.step_size * delta, 0.0))
        r_bar = r_bar.astype(jnp.float32)
        return DifferentialQState(w, r_bar), {"td_error": delta, "r_bar": r_bar}

    return Agent(init=init, act=linear_act(feature_map, num_actions), update=update)
