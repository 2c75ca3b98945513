"""Expected emphatic TD (S&B §11.8, Figure 11.6): the first updates on Baird by hand, a
stable run there, and the emphasis' fixed point."""

import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.envs import baird
from rlfa.prediction import PredictionHParams
from rlfa.prediction.emphatic_td import (
    baird_expected_emphatic_td,
    expected_emphatic_td_trajectory,
    expected_emphatic_td_update,
)
from rlfa.prediction.semi_gradient_dp import FiniteMDP, baird_hparams, baird_mdp


def test_first_updates_on_baird_by_hand():
    mdp, hp = baird_mdp(), baird_hparams(0.03)
    w0 = jnp.asarray(baird.INITIAL_WEIGHTS)
    w1, f0 = expected_emphatic_td_update(mdp, w0, jnp.zeros(7), hp)
    # M_0 = I_0 = 1 in every state: f_0 = mu = 1/7, the same step as semi-gradient DP's.
    np.testing.assert_allclose(f0, np.full(7, 1 / 7), rtol=1e-6)
    up, low = 0.99 * 12 - 3, 0.99 * 12 - 12
    step = 0.03 / 7
    hand = np.array([1 + step * 2 * up] * 6 + [10 + step * low, 1 + step * (6 * up + 2 * low)])
    np.testing.assert_allclose(w1, hand, rtol=1e-6)
    # M_1 = gamma rho_0 M_0 + 1: rho_0 = 7 into the lower state (reached w.p. 1/7), 0 into
    # an upper one, so f_1(lower) = 1/7 + 0.99 * 7 * (1/7) * (1/7) * 7 and f_1(upper) = 1/7.
    w2, f1 = expected_emphatic_td_update(mdp, w1, f0, hp)
    np.testing.assert_allclose(f1, [1 / 7] * 6 + [1 / 7 + 0.99], rtol=1e-6)
    v1 = baird.feature_matrix() @ np.asarray(w1, np.float64)
    delta1 = 0.99 * v1[6] - v1
    hand2 = np.asarray(w1) + 0.03 * baird.feature_matrix().T @ (np.asarray(f1) * delta1)
    np.testing.assert_allclose(w2, hand2, rtol=1e-5)


def test_stable_on_baird_and_value_error_goes_to_zero():
    curves = baird_expected_emphatic_td(0.03, 300)
    assert curves.w.shape == (301, 8)
    assert np.all(np.isfinite(curves.w)) and float(jnp.abs(curves.w).max()) < 100
    assert float(curves.rms_ve[0]) == pytest.approx(np.sqrt((6 * 9 + 144) / 7), rel=1e-5)
    assert float(curves.rms_ve[-1]) < 0.01
    # The mean emphasis climbs toward 1 / (1 - gamma) = 100 (about 95 after 300 steps).
    emphasis = np.asarray(curves.emphasis)
    assert emphasis[0] == 0.0 and emphasis[1] == pytest.approx(1.0)
    assert np.all(np.diff(emphasis) > 0) and 90 < emphasis[-1] < 100


def test_emphasis_tends_to_its_fixed_point_with_any_interest():
    rng = np.random.default_rng(4)
    n = 4
    p = rng.dirichlet(np.ones(n + 1), size=n)[:, :n]  # may end the episode
    mu, interest = rng.dirichlet(np.ones(n)), rng.uniform(0, 2, n)
    mdp = FiniteMDP(*(jnp.asarray(a, jnp.float32)
                      for a in (rng.normal(size=(n, 2)), mu, p, np.zeros(n))))
    hp = PredictionHParams(jnp.float32(0.0), jnp.float32(0.9))  # alpha 0: w stays put
    ws, fs = expected_emphatic_td_trajectory(mdp, jnp.ones(2), hp, 200, jnp.asarray(interest))
    np.testing.assert_allclose(ws[-1], np.ones(2))
    np.testing.assert_allclose(fs[-1], np.linalg.solve(np.eye(n) - 0.9 * p.T, mu * interest),
                               rtol=1e-4)


def test_bad_step_size_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="step_size=-0.03"):
        baird_expected_emphatic_td(-0.03, 10)
