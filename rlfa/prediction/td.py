"""Semi-gradient TD(0) and residual-gradient TD (Sutton & Barto §9.3 and §11.5).

Both learn ``v(s) = w . phi(s)`` from single transitions ``(S, R, S')`` with the
TD error ``delta = R + gamma * v(S') - v(S)``; they differ in the gradient taken.
Both ``update(state, hparams, transition, active=True)`` leave the state unchanged
when ``active`` is False (a run the loop has paused).
"""

from __future__ import annotations

import jax.numpy as jnp

from rlfa import targets
from rlfa.features import FeatureMap, add_scaled, linear_value
from rlfa.prediction.base import LinearState, PredictionHParams, evaluate_only, zero_weights
from rlfa.types import Agent, Transition


def td_quantities(feature_map: FeatureMap, state: LinearState, hparams: PredictionHParams,
                  tr: Transition):
    """``(phi(S), phi(S'), discount, delta)`` of one transition, delta float ``[]``."""
    phi_tm1, phi_t = feature_map(tr.obs_tm1), feature_map(tr.obs_t)
    discount_t = targets.discount(hparams.gamma, tr.terminated_t)
    delta = targets.td_error(linear_value(state.w, phi_tm1), tr.r_t, discount_t,
                             linear_value(state.w, phi_t))
    return phi_tm1, phi_t, discount_t, delta


def semi_gradient_td0(feature_map: FeatureMap) -> Agent:
    """Semi-gradient TD(0) (Sutton & Barto §9.3): ``w += alpha * delta * phi(S)``.

    The target ``R + gamma * v(S', w)`` is treated as a constant. Bootstraps
    through truncation; not through termination. Converges to the TD fixed
    point ``w_TD = A^{-1} b`` (eq. 9.12).
    """

    def update(state: LinearState, hparams: PredictionHParams, tr: Transition, active=True):
        phi_tm1, _, _, delta = td_quantities(feature_map, state, hparams, tr)
        w = add_scaled(state.w, phi_tm1, jnp.where(active, hparams.step_size * delta, 0.0))
        return LinearState(w), {"td_error": delta}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)


def residual_gradient_td(feature_map: FeatureMap) -> Agent:
    """Residual-gradient TD: true SGD on the squared TD error (S&B §11.5, "Solution 2").

    ``w += alpha * delta * (phi(S) - discount * phi(S'))``, which is
    ``-alpha * grad_w (delta^2 / 2)``: the target is differentiated too. With
    stochastic transitions this minimises the expected squared TD error, whose
    minimiser is biased (the double-sampling problem), but it never diverges.
    """

    def update(state: LinearState, hparams: PredictionHParams, tr: Transition, active=True):
        phi_tm1, phi_t, discount_t, delta = td_quantities(feature_map, state, hparams, tr)
        step = jnp.where(active, hparams.step_size * delta, 0.0)
        w = add_scaled(add_scaled(state.w, phi_tm1, step), phi_t, -step * discount_t)
        return LinearState(w), {"td_error": delta}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)
