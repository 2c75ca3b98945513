"""Epsilon schedule end points."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.control.schedules import linear_schedule


def test_linear_schedule_end_points_monotone_and_clamped():
    eps = jax.jit(lambda s: linear_schedule(s, 1.0, 0.05, 1000))
    assert float(eps(0)) == 1.0
    assert eps(1000) == np.float32(0.05)
    assert float(eps(500)) == pytest.approx(0.525)
    assert eps(10_000) == np.float32(0.05)
    values = np.asarray(jax.vmap(eps)(jnp.arange(0, 2000, 7)))
    assert np.all(np.diff(values) <= 0)
    assert values.min() == np.float32(0.05)
