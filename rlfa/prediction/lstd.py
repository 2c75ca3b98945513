"""Least-squares TD, LSTD (Sutton & Barto §9.8), in the book's O(d^2) form.

LSTD estimates the TD fixed point ``w_TD = A^{-1} b`` (eq. 9.12) directly from
the transitions seen so far (eq. 9.20):

    A_hat_t = sum_k x_k (x_k - gamma x_{k+1})^T + epsilon I,   b_hat_t = sum_k R_{k+1} x_k,
    w_t = A_hat_t^{-1} b_hat_t,

keeping ``A_hat^{-1}`` itself up to date with the Sherman-Morrison formula
(eq. 9.22), so a step costs O(d^2) and no inverse is ever taken. It has no step
size; the small ``epsilon > 0`` makes ``A_hat_0 = epsilon I`` invertible.
``x(terminal) = 0`` in the book becomes ``discount_t = 0`` here (a termination
stops the bootstrap, a truncation does not; see :mod:`rlfa.targets`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import hparams as hp
from rlfa import targets
from rlfa.features import FeatureMap, Features, add_scaled, linear_value
from rlfa.hparams import Positive, ZeroToOne
from rlfa.prediction.base import evaluate_only
from rlfa.prediction.semi_gradient_dp import FiniteMDP
from rlfa.types import Agent, Transition


class LSTDHParams(NamedTuple):
    """LSTD's traced hyperparameters (S&B §9.8)."""

    gamma: ZeroToOne
    """Discount factor in [0, 1]."""
    epsilon: Positive
    """Regulariser epsilon > 0: A_hat starts at epsilon I, so it can be inverted (eq. 9.20)."""


class LSTDState(NamedTuple):
    """LSTD's statistics and weights.

    Attributes:
      w: weights float32 ``[d]``, ``A_hat^{-1} b_hat``.
      A_inv: ``A_hat^{-1}`` float32 ``[d, d]``. ``init`` has no hyperparameters,
        so before the first update it holds ``I`` as a placeholder, and the
        first update starts from ``I / epsilon``.
      b: ``b_hat`` float32 ``[d]``.
      steps: int32 ``[]``, transitions seen.
    """

    w: jax.Array
    A_inv: jax.Array
    b: jax.Array
    steps: jax.Array


def _matrix_times(m: jax.Array, phi: Features) -> jax.Array:
    """``M x`` for a sparse x: ``sum_i values_i M[:, indices_i]``, ``[d]``."""
    return m[:, phi.indices] @ phi.values


def _times_matrix(phi: Features, m: jax.Array) -> jax.Array:
    """``x^T M`` (= ``M^T x``) for a sparse x, ``[d]``."""
    return phi.values @ m[phi.indices, :]


def lstd(feature_map: FeatureMap) -> Agent:
    """LSTD (S&B §9.8, the algorithm box): per transition ``(S, R, S')``, with ``x = phi(S)``,

        v = A_inv^T (x - discount_t x')
        A_inv <- A_inv - (A_inv x) v^T / (1 + v^T x)     (Sherman-Morrison, eq. 9.22)
        b <- b + R x
        w <- A_inv b

    ``update(state, hparams, tr)`` takes one :class:`~rlfa.types.Transition` and
    returns ``(state, {"td_error": R + discount_t v(S') - v(S)})``, the error of
    the weights before the step. Memory and time per step are O(d^2).

    Raises:
      ValueError: in ``update``, when the values are concrete, for a hyperparameter
        outside its declared bounds (:func:`rlfa.hparams.check`).
    """
    d = feature_map.num_features

    def init(key: jax.Array, obs_example: jax.Array) -> LSTDState:
        del key, obs_example  # zero statistics; A_inv gets I / epsilon at the first update
        return LSTDState(w=jnp.zeros((d,), jnp.float32), A_inv=jnp.eye(d, dtype=jnp.float32),
                         b=jnp.zeros((d,), jnp.float32), steps=jnp.int32(0))

    def update(state: LSTDState, hparams: LSTDHParams, tr: Transition):
        hp.check(hparams)
        x, x_next = feature_map(tr.obs_tm1), feature_map(tr.obs_t)
        discount_t = targets.discount(hparams.gamma, tr.terminated_t)
        delta = targets.td_error(linear_value(state.w, x), tr.r_t, discount_t,
                                 linear_value(state.w, x_next))
        # epsilon is traced (init has no hyperparameters): A_hat_0^{-1} = I / epsilon is made here.
        a_inv = jnp.where(state.steps == 0, jnp.eye(d, dtype=jnp.float32) / hparams.epsilon,
                          state.A_inv)
        v = _times_matrix(x, a_inv) - discount_t * _times_matrix(x_next, a_inv)
        a_inv_x = _matrix_times(a_inv, x)
        a_inv = a_inv - jnp.outer(a_inv_x, v) / (1.0 + linear_value(v, x))
        b = add_scaled(state.b, x, tr.r_t)
        return LSTDState(a_inv @ b, a_inv, b, state.steps + 1), {"td_error": delta}

    return Agent(init=init, act=evaluate_only, update=update)


def td_fixed_point(mdp: FiniteMDP, gamma: float) -> np.ndarray:
    """The TD fixed point ``w_TD = A^{-1} b`` (eq. 9.12) of a finite MDP, float64 ``[d]``, in
    closed form: ``A = X^T D (X - gamma P X)``, ``b = X^T D r`` with ``D = diag(mu)``
    (eq. 9.11 in expectation under ``mu``; a terminal state has value 0, so no column).

    It is where LSTD's ``w`` goes as its transitions, drawn from ``mu``, pile up
    (``epsilon I`` fades against their sum) and where semi-gradient TD(0) settles.
    """
    x, mu, p, r = (np.asarray(a, np.float64) for a in mdp)
    a = x.T @ (mu[:, None] * (x - gamma * p @ x))
    return np.linalg.solve(a, x.T @ (mu * r))


def fixed_point_errors(mdp: FiniteMDP, true_values, gamma: float) -> dict[str, float]:
    """sqrt(VE) (eq. 9.1, under ``mdp.mu``) at the TD fixed point (:func:`td_fixed_point`)
    and at the best weights, ``argmin_w VE(w)`` (least squares weighted by mu): where LSTD
    and TD(0) go, and the least error the features allow. Keys ``td_fixed_point``, ``best``.
    """
    x, mu = np.asarray(mdp.features, np.float64), np.asarray(mdp.mu, np.float64)
    v = np.asarray(true_values, np.float64)
    root = np.sqrt(mu)[:, None]
    best = np.linalg.lstsq(root * x, root[:, 0] * v, rcond=None)[0]
    return {name: float(np.sqrt(mu @ (x @ w - v) ** 2))
            for name, w in (("td_fixed_point", td_fixed_point(mdp, gamma)), ("best", best))}
