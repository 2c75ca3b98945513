"""One-step emphatic TD in expectation on a finite MDP (Sutton & Barto §11.8, Figure 11.6).

Sampled emphatic TD (eq. 11.31-11.32) reweights each off-policy TD update by an
emphasis ``M_t`` built from the interest ``I_t`` (here 1 in every state):

    delta_t = R_{t+1} + gamma w^T x_{t+1} - w^T x_t
    w_{t+1} = w_t + alpha M_t rho_t delta_t x_t
    M_t     = gamma rho_{t-1} M_{t-1} + I_t,      M_{-1} = 0

Its variance on Baird's counterexample is too high to run it sampled, so the book
plots its expected trajectory (Figure 11.6, alpha = 0.03): sqrt(VE) goes to 0
(:func:`rlfa.book.baird_figures.baird_expected_emphatic_td`), in float32 until
round-off stops it near 2.7e-6, after about 500 updates; in float64 it goes on
(``python -m experiments.baird --figure 11.6 --x64``).

Which expectation, exactly: ``S_t ~ mu`` at every step (the behaviour policy's
stationary distribution, which it starts in), and the emphasis is tracked
per state as ``f_t(s) = E[M_t ; S_t = s] = mu(s) E[M_t | S_t = s]``. Since
``M_{t-1}`` depends only on the past, and ``E_b[rho g | s] = E_pi[g | s]``,

    f_t     = mu * i + gamma P_pi^T f_{t-1},                 f_{-1} = 0
    w_{t+1} = w_t + alpha sum_s f_t(s) delta_w(s) x(s) = w_t + alpha X^T (f_t * delta_w)

with ``delta_w`` the Bellman error (:func:`~rlfa.prediction.semi_gradient_dp.bellman_error`)
at the current ``w``: the deterministic iteration of the expected update, with the
sampling noise (and the correlation between ``w_t`` and ``M_t`` that sampling
creates) left out. ``f`` tends to ``(I - gamma P_pi^T)^-1 (mu * i)``, summing to
``1 / (1 - gamma)`` for interest 1. On Baird, where pi leads every state to the
lower one, this is the same iteration as the scalar form often used to redraw the
figure: one expected emphasis ``M``, taken as ``gamma rho M + 1`` in each state with
``rho`` the ratio of the step into it (7 into the lower state, 0 into an upper one),
``M`` then their mean.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rlfa.prediction.base import PredictionHParams
from rlfa.prediction.semi_gradient_dp import FiniteMDP, bellman_error


def expected_emphatic_td_update(mdp: FiniteMDP, w: jax.Array, f: jax.Array,
                                hparams: PredictionHParams,
                                interest: jax.Array | float = 1.0) -> tuple[jax.Array, jax.Array]:
    """One expected emphatic TD step: ``(w_{t+1} [d], f_t [num_states])`` from ``w_t``
    and ``f_{t-1}`` (start from ``f = 0``, the book's ``M_{-1} = 0``).

    ``f_t = mu * i + gamma P_pi^T f_{t-1}`` (eq. 11.32 in expectation), then
    ``w_{t+1} = w_t + alpha X^T (f_t * delta_w)`` (eq. 11.31); ``interest`` i is a scalar
    or ``[num_states]``. ``sum(f_t)`` is the mean emphasis ``E[M_t]``.
    """
    f = mdp.mu * interest + hparams.gamma * (mdp.transitions.T @ f)
    delta = bellman_error(mdp, w, hparams.gamma)
    return w + hparams.step_size * (mdp.features.T @ (f * delta)), f


def expected_emphatic_td_trajectory(mdp: FiniteMDP, w0: jax.Array, hparams: PredictionHParams,
                                    num_updates: int, interest: jax.Array | float = 1.0):
    """``(w [num_updates + 1, d], f [num_updates + 1, num_states])``: row 0 is ``w0`` and
    ``f = 0``; row k is after k expected updates (``f`` the emphasis used by update k)."""
    def step(carry, _):
        carry = expected_emphatic_td_update(mdp, *carry, hparams, interest)
        return carry, carry

    f0 = jnp.zeros_like(mdp.mu)
    _, (ws, fs) = jax.lax.scan(step, (w0, f0), None, length=num_updates)
    return jnp.concatenate([w0[None], ws]), jnp.concatenate([f0[None], fs])
