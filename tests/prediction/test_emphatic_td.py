"""Expected emphatic TD (S&B §11.8): the emphasis' fixed point (on Baird's counterexample,
Figure 11.6: tests/book/test_baird_figures.py)."""

import jax.numpy as jnp
import numpy as np

from rlfa.prediction import PredictionHParams
from rlfa.prediction.emphatic_td import (
    expected_emphatic_td_trajectory,
)
from rlfa.prediction.semi_gradient_dp import FiniteMDP


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
