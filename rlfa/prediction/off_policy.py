"""Off-policy TD with importance sampling (Sutton & Barto §11.1-11.2).

The behaviour policy b picks the actions; the values learned are the target
policy pi's. Each transition's update is weighted by the importance-sampling
ratio ``rho = pi(A|S) / b(A|S)``, given with the transition
(:class:`OffPolicyTransition`):

* semi-gradient off-policy TD(0) (eq. 11.2): ``w += alpha * rho * delta * phi(S)``,
  which diverges on Baird's counterexample (Figure 11.2);
* residual-gradient TD: ``w += alpha * rho * delta * (phi(S) - gamma * phi(S'))``,
  SGD on the squared TD error (§11.5), which does not.

:mod:`rlfa.book.baird_figures` runs them on Baird's counterexample.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from rlfa.features import FeatureMap, add_scaled
from rlfa.prediction.base import LinearState, PredictionHParams, evaluate_only, zero_weights
from rlfa.prediction.td import td_quantities
from rlfa.types import Agent, Transition


class OffPolicyTransition(NamedTuple):
    """A transition taken by the behaviour policy, with its importance-sampling ratio.

    Attributes:
      transition: the transition ``(S, A, R, S')``.
      rho: ``pi(A|S) / b(A|S)``, float ``[]`` (0 where pi never takes A).
    """

    transition: Transition
    rho: jax.Array


def off_policy_semi_gradient_td0(feature_map: FeatureMap) -> Agent:
    """Semi-gradient off-policy TD(0), eq. 11.2: ``w += alpha * rho * delta * phi(S)``."""

    def update(state: LinearState, hparams: PredictionHParams, batch: OffPolicyTransition):
        phi_tm1, _, _, delta = td_quantities(feature_map, state, hparams, batch.transition)
        w = add_scaled(state.w, phi_tm1, hparams.step_size * batch.rho * delta)
        return LinearState(w), {"td_error": delta}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)


def off_policy_residual_gradient_td(feature_map: FeatureMap) -> Agent:
    """Residual-gradient TD weighted by rho:
    ``w += alpha * rho * delta * (phi(S) - discount * phi(S'))``."""

    def update(state: LinearState, hparams: PredictionHParams, batch: OffPolicyTransition):
        phi_tm1, phi_t, discount_t, delta = td_quantities(feature_map, state, hparams,
                                                          batch.transition)
        step = hparams.step_size * batch.rho * delta
        w = add_scaled(add_scaled(state.w, phi_tm1, step), phi_t, -step * discount_t)
        return LinearState(w), {"td_error": delta}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)
