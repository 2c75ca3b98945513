"""rlfa.book.baird_figures: Baird's counterexample as a finite MDP, and the book's expected
runs on it: semi-gradient DP diverges (Figure 11.2 right), one sweep and the first emphatic
updates by hand, expected TDC drives sqrt(PBE) down (Figure 11.5 right), expected emphatic
TD is stable and drives sqrt(VE) to 0 (Figure 11.6); bad settings refused by name."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.book.baird_figures import (
    baird_expected_emphatic_td,
    baird_expected_tdc,
    baird_hparams,
    baird_mdp,
    baird_semi_gradient_dp,
    expected_program,
    expected_reference,
)
from rlfa.envs import baird
from rlfa.prediction import PredictionHParams
from rlfa.prediction.emphatic_td import expected_emphatic_td_update
from rlfa.prediction.gradient_td import mdp_rms_value_error
from rlfa.prediction.semi_gradient_dp import bellman_error, semi_gradient_dp_update


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


def test_bad_sizes_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="step_size=0.0"):
        baird_semi_gradient_dp(0.0, 10)
    with pytest.raises(ValueError, match="num_sweeps=0"):
        baird_semi_gradient_dp(0.01, 0)


def test_expected_tdc_on_baird_drives_pbe_down():
    curves = baird_expected_tdc(0.005, 0.05, 300)
    # At the book's start every upper state's TD error is 0.99*12 - 3, the lower one's
    # 0.99*12 - 12; Baird's features span every value function, so PBE = BE there.
    be0 = np.sqrt((6 * (0.99 * 12 - 3) ** 2 + (0.99 * 12 - 12) ** 2) / 7)
    assert float(curves.rms_pbe[0]) == pytest.approx(be0, rel=1e-5)
    ve0 = np.sqrt((6 * 3**2 + 12**2) / 7)
    assert float(curves.rms_ve[0]) == pytest.approx(ve0, rel=1e-5)
    assert np.all(np.isfinite(curves.w))
    assert float(curves.rms_pbe[-1]) < 0.02 * be0
    assert np.all(np.diff(np.asarray(curves.rms_pbe[::50])) < 0)
    assert float(curves.rms_ve[-1]) < 0.5 * ve0
    zeros = jnp.zeros(7)
    assert float(mdp_rms_value_error(baird_mdp(), curves.w[-1], zeros)) == pytest.approx(
        float(curves.rms_ve[-1]))


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


def test_bad_step_size_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="step_size=-0.03"):
        baird_expected_emphatic_td(-0.03, 10)


def test_the_float64_reference_is_the_same_iteration_past_float32s_floor():
    """Figure 11.6 in float64 on the host: float32's curve to 3 digits through update 300,
    then on to 4.6e-13 at update 1000, where float32 has stopped near 2.7e-6 since 500."""
    mdp = baird_mdp(np.float64, np)
    assert isinstance(mdp.mu, np.ndarray) and mdp.mu.dtype == np.float64 and mdp.mu[0] == 1 / 7
    float32 = np.asarray(baird_expected_emphatic_td(0.03, 1000).rms_ve)
    hp = PredictionHParams(0.03, 0.99)
    for k in (100, 200, 300):
        assert expected_reference("expected_emphatic_td", hp, k)["sqrt(VE)"] == pytest.approx(
            float32[k], rel=1e-3)
    reference = expected_reference("expected_emphatic_td", hp, 1000)
    assert reference["sqrt(VE)"] == pytest.approx(4.575e-13, rel=1e-3)
    assert 1e-6 < float32[-1] < 5e-6
    # its limit, where every value is 0: w1..w6 = 22/13, w7 = 88/13, w8 = -44/13
    assert reference["max |w|"] == pytest.approx(88 / 13, rel=1e-12)


def test_expected_programs_follow_jaxs_mode():
    """float32 by default; float64 in JAX's 64-bit mode (the runner's x64)."""
    program, hp = expected_program("expected_emphatic_td"), PredictionHParams(0.03, 0.99)
    carry = program.init(jax.random.key(0), hp)
    assert carry[0].dtype == carry[1].dtype == program.step(carry, hp)[0].dtype == jnp.float32
    with jax.enable_x64(True):
        carry = program.init(jax.random.key(0), hp)
        step = program.step(carry, hp)
        assert carry[0].dtype == step[0].dtype == step[1].dtype == jnp.float64
        assert program.log(step, hp)["rms_ve"].dtype == jnp.float64
