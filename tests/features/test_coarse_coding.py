"""Tests for rlfa/features/coarse_coding.py against hand-computed intervals and SGD steps."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.features import coarse_coding_1d, interval_features, normalized_sgd_step

# Five intervals of width 1 over [0, 2]: lefts 0, .25, .5, .75, 1 (exact in binary), so
# [0, 1), [.25, 1.25), [.5, 1.5), [.75, 1.75) and the last, [1, 2], closed at 2.
FIVE = coarse_coding_1d(0.0, 2.0, width=1.0, num_features=5)


@pytest.mark.parametrize(
    ("x", "active"),
    [(0.0, [0]), (0.25, [0, 1]), (0.999, [0, 1, 2, 3]), (1.0, [1, 2, 3, 4]),
     (1.74, [3, 4]), (1.75, [4]), (2.0, [4]), (2.5, [4]), (-1.0, [0])],
)
def test_active_intervals_by_hand(x, active):
    phi = FIVE(x)  # left edges belong to an interval, right edges do not (but 2.0 does)
    assert phi.indices.dtype == jnp.int32 and phi.values.dtype == jnp.float32
    np.testing.assert_array_equal(phi.indices, np.arange(5))
    np.testing.assert_array_equal(np.flatnonzero(phi.values), active)
    assert set(np.asarray(phi.values).tolist()) <= {0.0, 1.0}


def test_the_books_widths_hold_about_width_over_spacing_intervals_and_cover_every_point():
    xs = jnp.linspace(0.0, 2.0, 1001)
    for width, mean in [(0.2, 5.0), (0.4, 10.0), (1.0, 25.0)]:
        fm = coarse_coding_1d(0.0, 2.0, width, 50)
        assert (fm.num_features, fm.num_active) == (50, 50)
        counts = jax.vmap(fm.fn)(xs).values.sum(axis=1)
        assert counts.min() >= 1
        assert abs(float(counts.mean()) - mean) < 0.1  # 50 * width / 2, the overlap


def test_a_traced_width_gives_what_the_map_gives():
    widths = jnp.array([0.2, 1.0])
    traced = jax.jit(jax.vmap(lambda w: interval_features(jnp.float32(0.7), w, 0.0, 2.0, 50)))
    for row, width in zip(traced(widths).values, [0.2, 1.0]):
        np.testing.assert_array_equal(row, coarse_coding_1d(0.0, 2.0, width, 50)(0.7).values)


@pytest.mark.parametrize("wrap", [lambda f: f, jax.jit], ids=["eager", "jit"])
@pytest.mark.parametrize(("fn", "match"), [
    (lambda: interval_features(jnp.array([0.3, 0.7]), 1.0, 0.0, 2.0, 5),
     r"interval_features: x and width must be scalars.*vmap"),
    (lambda: interval_features(jnp.float32(0.3), jnp.array([0.2, 1.0]), 0.0, 2.0, 5),
     r"interval_features: x and width must be scalars"),
    # an integer x would round the width down to an integer too
    (lambda: interval_features(jnp.int32(1), 1.0, 0.0, 2.0, 5),
     r"interval_features: x and width must be float"),
    (lambda: normalized_sgd_step(jnp.zeros(5), FIVE(0.3), jnp.ones(2), jnp.float32(0.2)),
     r"normalized_sgd_step: target and step_size must be scalars"),
])
def test_wrong_rank_or_dtype_fails_with_a_clear_message(wrap, fn, match):
    with pytest.raises(AssertionError, match=match):
        wrap(fn)()


def test_a_batch_of_points_is_refused_at_trace_time():
    with pytest.raises(ValueError, match=r"expects an observation of shape \(1,\) or \(\).*vmap"):
        jax.jit(FIVE.fn)(jnp.array([0.3, 0.7]))


def test_one_sgd_step_by_hand():
    w = jnp.array([0.5, -1.0, 2.0, 0.0, 3.0])
    phi = FIVE(0.3)  # intervals 0 and 1: v = 0.5 - 1.0 = -0.5
    # delta = 1 - (-0.5) = 1.5; alpha = 0.2 / 2 active; each active weight gains 0.1 * 1.5.
    new = normalized_sgd_step(w, phi, jnp.float32(1.0), jnp.float32(0.2))
    np.testing.assert_allclose(new, [0.65, -0.85, 2.0, 0.0, 3.0], rtol=1e-6)
    # The estimate at x moves by step_size times its error: -0.5 + 0.2 * 1.5.
    np.testing.assert_allclose(float(FIVE(0.3).values @ new), -0.2, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width": 0.0}, "width"),
        ({"width": -0.5}, "width"),
        ({"width": 2.5}, "width"),
        ({"width": float("nan")}, "width"),
        ({"num_features": 0}, "num_features"),
        ({"num_features": 2.0}, "num_features"),
        ({"num_features": 4, "width": 0.4}, "num_features"),  # 4 * 0.4 < 2: gaps
        ({"high": 0.0}, "highs"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"low": 0.0, "high": 2.0, "width": 0.2, "num_features": 50, **kwargs}
    with pytest.raises(ValueError, match=field):
        coarse_coding_1d(**args)
