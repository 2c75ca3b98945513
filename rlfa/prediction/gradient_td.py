"""TDC, also called GTD(0): gradient TD on the projected Bellman error (Sutton & Barto §11.7).

TDC is SGD on the projected Bellman error PBE (§11.4) with a second, faster
learned weight vector ``v`` estimating ``E[x x^T]^-1 E[rho delta x]`` (eq. 11.29-11.30):

    w <- w + alpha rho (delta x_t - gamma x_{t+1} (x_t^T v))
    v <- v + beta rho (delta - v^T x_t) x_t

with ``delta = R + gamma w^T x_{t+1} - w^T x_t``; where ``S_{t+1}`` is terminal,
gamma is 0 (no bootstrapping, no correction term). Two forms:

* :func:`tdc`, the sampled agent, updated from an :class:`~rlfa.prediction.OffPolicyTransition`;
* :func:`expected_tdc_update`, its expectation on a finite MDP (:class:`FiniteMDP`),
  as the book's Figure 11.5 (right) runs it on Baird's counterexample
  (:func:`rlfa.book.baird_figures.baird_expected_tdc`), where it drives sqrt(PBE) to
  about 0.

And the two errors it is judged by, as functions of ``w``: :func:`mdp_rms_value_error`
(sqrt(VE), eq. 9.1) and :func:`rms_projected_bellman_error` (sqrt(PBE), eq. 11.22).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.features import FeatureMap, add_scaled, linear_value
from rlfa.hparams import Positive, ZeroToOne
from rlfa.prediction.base import evaluate_only
from rlfa.prediction.off_policy import OffPolicyTransition
from rlfa.prediction.semi_gradient_dp import FiniteMDP, bellman_error
from rlfa.prediction.td import td_quantities
from rlfa.types import Agent


class TDCHParams(NamedTuple):
    """TDC's traced hyperparameters (S&B §11.7, eq. 11.29-11.30)."""

    step_size: Positive
    """Step size alpha > 0 of the main weights w."""
    beta: Positive
    """Step size beta > 0 of the secondary weights v (the book's Figure 11.5: beta = 10 alpha,
    so v tracks its target faster than w moves)."""
    gamma: ZeroToOne = 1.0
    """Discount factor in [0, 1]."""


class TDCState(NamedTuple):
    """TDC's weights: ``w`` float32 ``[d]`` of ``v(s) = w . x(s)``, and the secondary
    ``v`` float32 ``[d]``, the linear estimate of ``E[delta | s]`` (``v . x(s)``)."""

    w: jax.Array
    v: jax.Array


def tdc(feature_map: FeatureMap) -> Agent:
    """TDC / GTD(0) (eq. 11.29-11.30) on transitions of the behaviour policy.

    ``update(state, hparams: TDCHParams, batch: OffPolicyTransition)``; both weight
    vectors start at zero. Metrics: ``td_error`` (delta, float ``[]``).
    """

    def init(key: jax.Array, obs_example: jax.Array) -> TDCState:
        del key, obs_example  # zero weights, as in the book
        zeros = jnp.zeros((feature_map.num_features,), jnp.float32)
        return TDCState(w=zeros, v=zeros)

    def update(state: TDCState, hparams: TDCHParams, batch: OffPolicyTransition):
        x_t, x_tp1, discount_t, delta = td_quantities(feature_map, state, hparams,
                                                      batch.transition)
        v_dot_x = linear_value(state.v, x_t)
        # Both increments use the old w and v (the book's simultaneous update).
        w = add_scaled(state.w, x_t, hparams.step_size * batch.rho * delta)
        w = add_scaled(w, x_tp1, -hparams.step_size * batch.rho * discount_t * v_dot_x)
        v = add_scaled(state.v, x_t, hparams.beta * batch.rho * (delta - v_dot_x))
        return TDCState(w, v), {"td_error": delta}

    return Agent(init=init, act=evaluate_only, update=update)


def expected_tdc_update(mdp: FiniteMDP, w: jax.Array, v: jax.Array,
                        hparams: TDCHParams) -> tuple[jax.Array, jax.Array]:
    """One expected TDC update on a finite MDP: the new ``(w, v)``, each ``[d]``.

    The expectation of eq. 11.29-11.30 over ``S_t ~ mu``, ``A_t ~ b``, ``S_{t+1}``; the
    ratio turns b's expectation into pi's (``E_b[rho f | s] = E_pi[f | s]``), so with
    ``D = diag(mu)``, ``delta_w`` the Bellman error and ``P_pi`` the target's transitions:

        w <- w + alpha (X^T D delta_w - gamma (P_pi X)^T D X v)
        v <- v + beta X^T D (delta_w - X v)

    Synchronous: both use the old ``w`` and ``v``, every state at once.
    """
    x, d = mdp.features, mdp.mu
    delta = bellman_error(mdp, w, hparams.gamma)
    x_v = x @ v
    next_x = mdp.transitions @ x  # E_pi[x(S') | s] (0 weight on a terminal S')
    w_new = w + hparams.step_size * (x.T @ (d * delta) - hparams.gamma * (next_x.T @ (d * x_v)))
    v_new = v + hparams.beta * (x.T @ (d * (delta - x_v)))
    return w_new, v_new


def expected_tdc_trajectory(mdp: FiniteMDP, w0: jax.Array, v0: jax.Array,
                            hparams: TDCHParams, num_updates: int) -> tuple[jax.Array, jax.Array]:
    """``(w, v)`` before and after each of ``num_updates`` expected updates,
    each ``[num_updates + 1, d]``."""
    def step(carry, _):
        carry = expected_tdc_update(mdp, *carry, hparams)
        return carry, carry

    _, (ws, vs) = jax.lax.scan(step, (w0, v0), None, length=num_updates)
    return jnp.concatenate([w0[None], ws]), jnp.concatenate([v0[None], vs])


def mdp_rms_value_error(mdp: FiniteMDP, w: jax.Array, true_values: jax.Array) -> jax.Array:
    """sqrt(VE) (eq. 9.1), float ``[]``: ``sqrt(sum_s mu(s) (v_pi(s) - x(s)^T w)^2)``
    for ``true_values`` v_pi ``[num_states]`` (all 0 on Baird)."""
    return jnp.sqrt(jnp.sum(mdp.mu * (true_values - mdp.features @ w) ** 2))


def rms_projected_bellman_error(mdp: FiniteMDP, w: jax.Array, gamma: jax.Array) -> jax.Array:
    """sqrt(PBE) (eq. 11.22), float ``[]``: ``PBE = ||Pi delta_w||_mu^2``, with
    ``Pi = X (X^T D X)^-1 X^T D`` the mu-weighted projection onto the span of X (eq. 11.14).

    ``Pi delta_w = X c`` with ``c`` the mu-weighted least-squares fit of delta_w by the
    features, solved as ``lstsq(sqrt(D) X, sqrt(D) delta_w)``: that is the projection even
    where ``X^T D X`` is singular (Baird's 8 features on 7 states), and it squares the
    condition number less than forming ``X^T D X``. Equals
    ``(X^T D delta_w)^T (X^T D X)^-1 (X^T D delta_w)`` (eq. 11.25) where that inverse exists.
    """
    delta = bellman_error(mdp, w, gamma)
    root_mu = jnp.sqrt(mdp.mu)
    c, *_ = jnp.linalg.lstsq(root_mu[:, None] * mdp.features, root_mu * delta)
    projected = mdp.features @ c
    return jnp.sqrt(jnp.sum(mdp.mu * projected**2))
