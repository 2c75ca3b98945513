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
(:mod:`rlfa.prediction.emphatic_td`); :func:`baird_mdp` builds Baird's.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import config
from rlfa import hparams as hp
from rlfa.envs import baird
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


def baird_mdp() -> FiniteMDP:
    """Baird's counterexample (Example 11.1) under its target policy, float32.

    The target policy always takes SOLID, which leads to the lower state (7 in the
    book, index 6) from every state; every reward is 0. ``mu`` is the behaviour
    policy's state distribution: uniform over the 7 states (dashed w.p. 6/7 lands on
    each upper state w.p. 1/7, solid on the lower one w.p. 1/7), and it is so from the
    first step, since the environment starts in a uniformly drawn state.
    """
    n = baird.NUM_STATES
    transitions = np.zeros((n, n))
    transitions[:, n - 1] = 1.0
    return FiniteMDP(features=jnp.asarray(baird.feature_matrix(), jnp.float32),
                     mu=jnp.full((n,), 1.0 / n, jnp.float32),
                     transitions=jnp.asarray(transitions, jnp.float32),
                     rewards=jnp.zeros((n,), jnp.float32))


def baird_hparams(step_size: float) -> PredictionHParams:
    """Step size alpha with Baird's gamma (0.99), as float32 arrays; ``ValueError`` for an
    alpha outside its declared bounds."""
    point = PredictionHParams(step_size, baird.GAMMA)
    hp.check(point)
    return hp.traced(point)


def baird_semi_gradient_dp(step_size: float, num_sweeps: int) -> jax.Array:
    """Figure 11.2 (right): semi-gradient DP on Baird from the book's initial weights,
    ``w`` ``[num_sweeps + 1, 8]`` (row 0 is :data:`rlfa.envs.baird.INITIAL_WEIGHTS`);
    the book uses alpha = 0.01 and 1000 sweeps. Raises ``ValueError`` on a bad alpha."""
    config.check_positive_int("num_sweeps", num_sweeps)
    return _baird_semi_gradient_dp(baird_hparams(step_size), num_sweeps)


@functools.partial(jax.jit, static_argnames="num_sweeps")
def _baird_semi_gradient_dp(hparams: PredictionHParams, num_sweeps: int) -> jax.Array:
    return semi_gradient_dp_trajectory(baird_mdp(), jnp.asarray(baird.INITIAL_WEIGHTS),
                                       hparams, num_sweeps)
