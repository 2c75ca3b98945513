"""Semi-gradient DP (S&B §11.2, eq. 11.9): convergence to v_pi when tabular and on-policy
(on Baird's counterexample: tests/book/test_baird_figures.py)."""

import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.prediction import PredictionHParams
from rlfa.prediction.semi_gradient_dp import (
    FiniteMDP,
    semi_gradient_dp_trajectory,
)


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
