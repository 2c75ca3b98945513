"""Semi-gradient dynamic programming on a finite MDP (Sutton & Barto §11.2, Figure 11.2 right).

Expected updates replace sampled transitions: with the model known, each sweep
moves every state's value toward its expected one-step target at once,

    w <- w + alpha / |S| * sum_s (E_pi[R + gamma v(S', w) | S = s] - v(s, w)) x(s)   (eq. 11.9)

(synchronous: every state uses the same ``w``). On Baird's counterexample this
diverges for any alpha > 0 from the book's initial weights: the iteration is
linear, ``w <- M w``, and ``M`` has an eigenvalue above 1 (about 1.0024 with
alpha = 0.01, so ``|w|`` passes 1e3 near sweep 1430).

The finite MDP is described by arrays (:class:`FiniteMDP`), shared with the
expected forms of TDC (:mod:`rlfa.prediction.gradient_td`) and emphatic TD
(:mod:`rlfa.prediction.emphatic_td`); :func:`rlfa.book.baird_figures.baird_mdp` builds
Baird's.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.prediction.base import PredictionHParams


class FiniteMDP(NamedTuple):
    """A finite MDP under a target policy pi, seen through linear features.

    Attributes:
      features: X, float ``[num_states, d]``: row s is x(s) (the book's phi(s)).
      mu: float ``[num_states]``, sums to 1: the state distribution the updates
        are weighted by (the behaviour policy's, off-policy).
      transitions: P_pi, float ``[num_states, num_states]``:
        ``P_pi[s, s'] = sum_a pi(a|s) p(s'|s, a)``. A row sums to less than 1 where
        the episode can end (a terminal state has value 0, so it has no column).
      rewards: r_pi, float ``[num_states]``: ``E_pi[R_{t+1} | S_t = s]``.
    """

    features: jax.Array
    mu: jax.Array
    transitions: jax.Array
    rewards: jax.Array


def bellman_error(mdp: FiniteMDP, w: jax.Array, gamma: jax.Array) -> jax.Array:
    """The Bellman error vector delta_w ``[num_states]`` (eq. 11.12-11.13):
    ``delta_w(s) = E_pi[R + gamma v(S', w) - v(s, w) | S = s] = r_pi + gamma P_pi X w - X w``,
    the expected TD error in each state."""
    v = mdp.features @ w
    return mdp.rewards + gamma * (mdp.transitions @ v) - v


def semi_gradient_dp_update(mdp: FiniteMDP, w: jax.Array,
                            hparams: PredictionHParams) -> jax.Array:
    """One sweep of semi-gradient DP (eq. 11.9), the new ``w`` ``[d]``.

    ``w + alpha / |S| * X^T delta_w``: every state counts equally (a DP sweep over
    the states, as in the book), whatever ``mdp.mu`` says.
    """
    delta = bellman_error(mdp, w, hparams.gamma)
    return w + hparams.step_size / mdp.features.shape[0] * (mdp.features.T @ delta)


def semi_gradient_dp_trajectory(mdp: FiniteMDP, w0: jax.Array, hparams: PredictionHParams,
                                num_sweeps: int) -> jax.Array:
    """``w`` before and after each of ``num_sweeps`` sweeps, ``[num_sweeps + 1, d]``."""
    def sweep(w, _):
        w = semi_gradient_dp_update(mdp, w, hparams)
        return w, w

    _, ws = jax.lax.scan(sweep, w0, None, length=num_sweeps)
    return jnp.concatenate([w0[None], ws])
