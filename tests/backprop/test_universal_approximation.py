"""rlfa.backprop.universal_approximation: the flax twin computes the hand-written network."""

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import backprop as bp
from rlfa.backprop import universal_approximation as ua


def test_flax_network_matches_the_hand_written_one():
    params = ua.init_network(jax.random.key(3), 5, 20.0)
    x = jnp.linspace(0, 1, 7)[:, None]
    np.testing.assert_allclose(
        ua.SigmoidNet(5).apply(ua.to_flax(params), x),
        bp.predict(bp.architecture((1, 5, 1), "sigmoid"), params, x),
        rtol=1e-6,
    )
