"""rlfa.book.coarse_coding_figure: the program by hand (learning goes on between logged
counts) and the square wave."""

import jax
import jax.numpy as jnp
import numpy as np

from rlfa.book import coarse_coding_figure as cc


def _final_weights(example_counts, hp):
    program = cc.program(example_counts, 50)
    carry = program.init(jax.random.key(3), hp)
    for _ in example_counts:
        carry = program.step(carry, hp)
    return carry[0], program.log(carry, hp)


def test_learning_goes_on_between_logged_counts():
    """Logging at 2 examples as well changes nothing: example i always draws the same x."""
    hp = cc.HParams(jnp.float32(0.2), jnp.float32(0.4))
    w_once, log = _final_weights((30,), hp)
    w_twice, _ = _final_weights((2, 30), hp)
    np.testing.assert_array_equal(w_once, w_twice)
    assert float(jnp.abs(w_once).sum()) > 0
    values, target = log["values"], cc.square_wave(jnp.asarray(cc.X_EVAL))
    np.testing.assert_allclose(log["rms_error"], jnp.sqrt(jnp.mean((values - target) ** 2)),
                               rtol=1e-6)


def test_square_wave_is_one_strictly_inside():
    np.testing.assert_array_equal(cc.square_wave(jnp.array([0.0, 0.5, 0.51, 1.49, 1.5, 1.9])),
                                  [0, 0, 1, 1, 0, 0])
