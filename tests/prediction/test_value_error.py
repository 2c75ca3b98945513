"""sqrt(VE) (eq. 9.1) against a by-hand sum, on a small walk and on the book's 1000 states."""

import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import prediction
from rlfa.envs import random_walk as rw
from rlfa.features import linear_value
from rlfa.features.fourier import fourier_basis
from rlfa.features.state_aggregation import state_aggregation
from rlfa.prediction import LinearState

SMALL = rw.EnvParams(num_states=10, start_state=5, max_jump=2)


def test_rms_value_error_is_the_mu_weighted_root_mean_square_by_hand():
    fm = state_aggregation(10, 5)  # states 1..5 -> w[0], 6..10 -> w[1]
    phi = prediction.all_state_features(fm, rw.all_observations(SMALL))
    assert phi.indices.shape == (10, 1)
    true_values, mu = np.linspace(-1.0, 1.0, 10), np.arange(1.0, 11.0) / 55.0
    w = np.array([-0.5, 0.25])
    by_hand = np.sqrt(np.sum(mu * (np.repeat(w, 5) - true_values) ** 2))
    got = prediction.rms_value_error(jnp.asarray(w, jnp.float32), phi,
                                     jnp.asarray(true_values, jnp.float32),
                                     jnp.asarray(mu, jnp.float32))
    assert float(got) == pytest.approx(by_hand, rel=1e-6)
    np.testing.assert_allclose(prediction.state_values(np.stack([w, 2 * w]), phi),
                               [np.repeat(w, 5), np.repeat(2 * w, 5)])


def test_the_random_walk_log_is_zero_at_the_true_values_and_the_mu_norm_at_zero():
    log = prediction.rms_value_error_fn(state_aggregation(10, 1), SMALL)  # tabular: exact fit
    v, mu = rw.true_values(SMALL), rw.on_policy_distribution(SMALL)
    assert float(log(LinearState(jnp.asarray(v, jnp.float32)))["rms_error"]) < 1e-6
    assert float(log(LinearState(jnp.zeros(10, jnp.float32)))["rms_error"]) == \
        pytest.approx(np.sqrt(np.sum(mu * v ** 2)), rel=1e-6)


def test_state_values_on_the_host_match_the_linear_value_of_every_state():
    fm = fourier_basis(5, 1, 0.0, 1000.0)
    phi = prediction.all_state_features(fm, rw.all_observations())
    w = np.random.default_rng(0).normal(size=(2, fm.num_features)).astype(np.float32)
    on_device = np.stack([[float(linear_value(jnp.asarray(ws), fm(obs)))
                           for obs in rw.all_observations()[::97]] for ws in w])
    np.testing.assert_allclose(prediction.state_values(w, phi)[:, ::97], on_device, rtol=1e-5,
                               atol=1e-6)
