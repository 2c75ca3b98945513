"""Semi-gradient DP (S&B §11.2, eq. 11.9): one sweep by hand, divergence on Baird's
counterexample (Figure 11.2 right), convergence to v_pi when tabular and on-policy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.envs import baird
from rlfa.prediction import PredictionHParams
from rlfa.prediction.semi_gradient_dp import (
    FiniteMDP,
    baird_hparams,
    baird_mdp,
    baird_semi_gradient_dp,
    bellman_error,
    semi_gradient_dp_trajectory,
    semi_gradient_dp_update,
)


def test_baird_mdp_is_the_books():
    mdp = baird_mdp()
    np.testing.assert_array_equal(mdp.features, baird.feature_matrix())
    np.testing.assert_allclose(mdp.mu, np.full(7, 1 / 7))
    np.testing.assert_array_equal(mdp.transitions[:, 6], np.ones(7))  # solid -> lower state
    assert float(mdp.transitions.sum()) == 7.0 and float(jnp.abs(mdp.rewards).sum()) == 0.0


def test_one_sweep_on_baird_by_hand():
    w0 = jnp.asarray(baird.INITIAL_WEIGHTS)
    w1 = semi_gradient_dp_update(baird_mdp(), w0, baird_hparams(0.01))
    # v(upper) = 2 + 1 = 3, v(lower) = 10 + 2 = 12; the target is 0.99 * 12 everywhere.
    up, low = 0.99 * 12 - 3, 0.99 * 12 - 12
    step = 0.01 / 7
    hand = np.array([1 + step * 2 * up] * 6 + [10 + step * low, 1 + step * (6 * up + 2 * low)])
    np.testing.assert_allclose(w1, hand, rtol=1e-6)
    np.testing.assert_allclose(bellman_error(baird_mdp(), w0, 0.99), [up] * 6 + [low], rtol=1e-6)


def test_diverges_on_baird_for_any_positive_step_size():
    ws = baird_semi_gradient_dp(0.01, 1500)
    assert np.all(np.isfinite(ws))
    norms = np.abs(np.asarray(ws)).max(-1)
    assert norms[1000] > 300  # Figure 11.2 (right): w_8 near 300 after 1000 sweeps
    assert norms[-1] > 1e3
    assert np.all(np.diff(norms[100::100]) > 0)
    # The sweep is linear, w <- M w; an eigenvalue of M beyond 1 diverges, whatever alpha.
    mdp, w0 = baird_mdp(), jnp.asarray(baird.INITIAL_WEIGHTS)
    sweep_matrix = jax.jit(jax.jacobian(lambda w, a: semi_gradient_dp_update(
        mdp, w, PredictionHParams(a, jnp.float32(baird.GAMMA)))))
    for alpha in (1e-3, 1e-2, 1e-1):
        m = np.asarray(sweep_matrix(w0, jnp.float32(alpha)), np.float64)
        assert np.abs(np.linalg.eigvals(m)).max() > 1 + 1e-6


def test_tabular_on_policy_dp_converges_to_v_pi():
    # The 5-state random walk, one-hot features: alpha = |S| makes each sweep exact DP.
    n = 5
    p = 0.5 * (np.eye(n, k=1) + np.eye(n, k=-1))
    r = np.zeros(n)
    r[-1] = 0.5
    mdp = FiniteMDP(*(jnp.asarray(a, jnp.float32) for a in (np.eye(n), np.ones(n) / n, p, r)))
    hp = PredictionHParams(jnp.float32(n), jnp.float32(1.0))
    ws = semi_gradient_dp_trajectory(mdp, jnp.zeros(n), hp, 300)
    assert ws.shape == (301, n)
    np.testing.assert_allclose(ws[-1], np.arange(1, 6) / 6, atol=1e-5)
    assert float(jnp.abs(ws[0]).max()) == pytest.approx(0.0)


def test_bad_sizes_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="step_size=0.0"):
        baird_semi_gradient_dp(0.0, 10)
    with pytest.raises(ValueError, match="num_sweeps=0"):
        baird_semi_gradient_dp(0.01, 0)
